"""HTTP throughput through gunicorn (the repository's gunicorn.conf.py) on 127.0.0.1, for
three pages next to the bare-Flask baseline of bench/baseline.py, in the same run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench import http, load
from bench.seed import ADMIN_EMAIL, CLIENT_EMAIL, PASSWORD

# (key, who, path, target ratio to the baseline or None)
PAGES = (
    ("clients", "staff", "/office/clients", 0.5),
    ("engagements", "staff", "/office/engagements", None),
    ("portal_home", "client", "/", 0.5),
)
WARMUP_SECONDS = 2.0  # every worker compiles its templates and fills its pool first


def measure(env: dict[str, str], workdir: Path, *, host: str, seconds: float
            ) -> dict[str, Any]:
    result: dict[str, Any] = {"tool": load.tool(), "seconds_per_page": seconds,
                              "connections": load.CONNECTIONS, "gunicorn": http.settings(env)}
    with http.gunicorn(env, workdir / "baseline.log", host=host,
                       app="bench.baseline:app") as server:
        load.run(server.port, "/", host=host, headers={}, seconds=WARMUP_SECONDS)
        _check(server, "/", {})
        baseline = load.run(server.port, "/", host=host, headers={}, seconds=seconds)
    result["baseline"] = baseline.as_dict()
    with http.gunicorn(env, workdir / "portal.log", host=host) as server:
        cookies = {}
        for who, path, email in (("staff", "/office/login", ADMIN_EMAIL),
                                 ("client", "/login", CLIENT_EMAIL)):
            server.login(path, email, PASSWORD)
            cookies[who] = server.cookie_header()
        for key, who, path, target in PAGES:
            headers = {"Cookie": cookies[who]}
            _check(server, path, headers)
            load.run(server.port, path, host=host, headers=headers, seconds=WARMUP_SECONDS)
            _check(server, path, headers)  # waits out what the warm-up left queued
            measured = load.run(server.port, path, host=host, headers=headers,
                                seconds=seconds)
            _check(server, path, headers)  # still signed in: no run of redirects measured
            entry = measured.as_dict()
            entry["path"] = path
            entry["ratio"] = round(measured.rps / baseline.rps, 3) if baseline.rps else None
            entry["target"] = f">= {target:g} x baseline" if target else None
            entry["passed"] = (entry["ratio"] or 0) >= target if target else None
            if measured.errors:
                entry["passed"] = False if target else None
            result[key] = entry
        result["access_log"] = _access_log_check(server)
    return result


def _check(server: http.Server, path: str, headers: dict[str, str]) -> None:
    saved = dict(server.cookies)
    server.cookies.clear()
    try:
        status, _, _ = server.request("GET", path, headers=headers)
    finally:
        server.cookies = saved
    if status != 200:
        raise RuntimeError(f"GET {path} through gunicorn answered {status}")


# Shaped like a one-time link's token (what portal.security redacts); no such link exists.
FAKE_TOKEN = "A" * 24 + ".BBBBBB." + "C" * 24


def _access_log_check(server: http.Server) -> dict[str, Any]:
    """A link's URL with a query string: its access log line shows the route only, with
    the token redacted and without the query string."""
    server.request("GET", f"/invitation/{FAKE_TOKEN}?utm_source=mail")
    path = server.log.with_suffix(".access.log")
    deadline = time.monotonic() + 3
    lines: list[str] = []
    while time.monotonic() < deadline:  # gunicorn writes the line just after answering
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        if any("/invitation/" in line for line in lines):
            break
        time.sleep(0.1)
    found = [line for line in lines if "/invitation/" in line]
    leaked = [line for line in lines if FAKE_TOKEN in line or "utm_source" in line]
    return {"lines": len(lines), "link_line": found[-1:], "leaks": len(leaked),
            "ok": bool(found) and "/invitation/[token] " in found[-1] and not leaked}
