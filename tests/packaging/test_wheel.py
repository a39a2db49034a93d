"""The wheel is the portal: installed outside the checkout it migrates, loads the demo,
serves pages through gunicorn and sends mail from its worker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import uuid
import zipfile
from pathlib import Path

import pytest

from bench import http
from portal import ROOT
from portal.demo_work import report_pdf

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("PORTAL_TEST_DATABASE_URL")),
    reason="the wheel is built and smoke-tested once, in the SQLite run")

CHECKOUT = ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(CHECKOUT)], check=True, cwd=out)
    return next(out.glob("portal-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel; its dependencies come from this venv's site-packages
    (a path in a .pth file), so the test needs no index and the portal only the wheel."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True)
    return venv


def test_the_wheel_carries_templates_static_themes_migrations_and_catalogues(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    for part, example in [("templates", "templates/base.html"),
                          ("static", "static/css/"), ("themes", "themes/default/theme.css"),
                          ("migrations", "migrations/env.py")]:
        assert any(n.startswith(f"portal/_bundled/{example}") for n in names), part
    assert "portal/translations/nl/LC_MESSAGES/messages.mo" in names
    assert "portal/gunicorn_conf.py" in names


def _run(venv: Path, cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(venv / "bin" / "portal"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"portal {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_installed_portal_serves_shares_a_report_and_its_worker_sends_the_mail(
        installed: Path, tmp_path: Path, smtp) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing may be read from there
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(PORTAL_SECRET_KEY=uuid.uuid4().hex, PORTAL_INSTANCE_PATH=str(tmp_path / "data"),
               PORTAL_MAIL_BACKEND="smtp", PORTAL_MAIL_SERVER="127.0.0.1",
               PORTAL_MAIL_PORT=str(smtp.port), PORTAL_WEB_WORKERS="1",
               PORTAL_MAIL_DEFAULT_SENDER="portal@portal.example")
    env.pop("PYTHONPATH", None)

    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import portal; print(portal.__file__, portal.ROOT)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True).stdout
    assert str(CHECKOUT) not in where and str(installed) in where
    assert "upgrade" in _run(installed, elsewhere, env, "db", "--help")
    _run(installed, elsewhere, env, "db", "upgrade")
    logins = json.loads(_run(installed, elsewhere, env, "demo", "--json"))
    practice = logins["practices"][0]
    staff = next(user for user in practice["staff"] if user["role"] == "admin")

    with http.gunicorn(env, tmp_path / "gunicorn.log", host=f"{practice['slug']}.localhost",
                       python=str(installed / "bin" / "python"), cwd=elsewhere) as server:
        server.login("/office/login", staff["email"], staff["password"])
        status, _, page = server.request("GET", "/office/engagements")
        assert status == 200 and "/static/" in page  # the bundled layout and its stylesheet
        engagement = re.search(r'href="/office/engagements/(\d+)"', page).group(1)
        status, _, _ = server.request("GET", re.search(r'href="(/static/[^"?]+\.css)', page)
                                      .group(1))
        assert status == 200

        status, _, page = server.request("GET", f"/office/engagements/{engagement}")
        token = http.CSRF_INPUT.search(page).group(1)
        status, _, _ = server.request(*_multipart(
            f"/office/engagements/{engagement}/reports", token,
            report_pdf("Jaarrekening 2026", ["Balans", "Winst-en-verliesrekening"])))
        assert status == 303
        status, _, page = server.request("GET", f"/office/engagements/{engagement}")
        signer = re.search(r'name="signers"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="signers"',
                           page)
        form = {"csrf_token": token, "mode": "view", "signers": next(filter(None, signer.groups())),
                "message": "Smoke test of the wheel"}
        status, _, _ = server.request(
            "POST", f"/office/engagements/{engagement}/shares",
            "&".join(f"{k}={v}".replace(" ", "+") for k, v in form.items()),
            {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303

    sent = _run(installed, elsewhere, env, "worker", "--once")
    assert re.search(r"sent [1-9]", sent), sent
    assert any("Smoke test of the wheel" in message.get_body(("plain",)).get_content()
               for message in smtp.messages)


def _multipart(path: str, token: str, pdf: bytes) -> tuple[str, str, bytes, dict[str, str]]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"report\"; "
            f"filename=\"jaarrekening.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            ).encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    return "POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
