"""Throughput of one large document through gunicorn on loopback, and the worker's memory.

    python -m bench.files                 # a 200 MB file up and down, results as text
    python -m bench.files --size-mb 50 --json

A throwaway instance (SQLite, local storage, all under a temporary folder) is seeded with
one practice, one "Samenwerken Uitgebreid" client and its contact person. gunicorn serves it
with one worker process on 127.0.0.1; the contact person signs in through the login form,
uploads the file through the portal's upload form (a multipart body streamed from a
generator, so this process holds no copy either) and downloads it again, checking SHA-256.

The worker's peak resident memory per phase is read from the kernel (VmHWM in
/proc/<pid>/status, reset before each phase through /proc/<pid>/clear_refs), so nothing
between two samples is missed. Linux only. The issue's target: under 60 MB above idle.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent  # gunicorn serves this checkout
MIB = 1024 * 1024
BLOCK = MIB  # what the generator sends and the download reads at a time
PASSWORD = "bench files password 2025"  # noqa: S105 (a throwaway instance)
EMAIL = "bench@client.example"
SLUG = "files"
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
DOWNLOAD = re.compile(r'href="(/c/\d+/documents/\d+/download)"')
BOUNDARY = "----bench-files-boundary"
TARGET_ABOVE_IDLE_MB = 60.0  # the target for the worker's peak above idle


@dataclass
class FileBench:
    size_mb: int
    upload_seconds: float
    upload_mb_per_s: float
    download_seconds: float
    download_mb_per_s: float
    idle_rss_mb: float
    upload_peak_rss_mb: float
    download_peak_rss_mb: float
    worker: str

    @property
    def above_idle_mb(self) -> float:
        return max(self.upload_peak_rss_mb, self.download_peak_rss_mb) - self.idle_rss_mb

    @property
    def passed(self) -> bool:
        return self.above_idle_mb < TARGET_ABOVE_IDLE_MB

    def as_dict(self) -> dict[str, Any]:
        """The figures, the target and the verdict, as `make bench` keeps them."""
        return {**asdict(self), "above_idle_mb": round(self.above_idle_mb, 1),
                "target": f"< {TARGET_ABOVE_IDLE_MB:g} MB above idle", "passed": self.passed}

    def text(self) -> str:
        return "\n".join([
            f"file                {self.size_mb} MB through gunicorn ({self.worker})",
            f"upload              {self.upload_mb_per_s:7.1f} MB/s  ({self.upload_seconds:.2f} s)",
            f"download            {self.download_mb_per_s:7.1f} MB/s  "
            f"({self.download_seconds:.2f} s)",
            f"worker RSS idle     {self.idle_rss_mb:7.1f} MB",
            f"peak during upload  {self.upload_peak_rss_mb:7.1f} MB  "
            f"(+{self.upload_peak_rss_mb - self.idle_rss_mb:.1f})",
            f"peak during download{self.download_peak_rss_mb:7.1f} MB  "
            f"(+{self.download_peak_rss_mb - self.idle_rss_mb:.1f})",
            f"most above idle     {self.above_idle_mb:7.1f} MB  (target: under "
            f"{TARGET_ABOVE_IDLE_MB:g} MB)",
        ])


# --- the worker's memory (Linux /proc) ---------------------------------------------------------

def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmHWM") / 1024


def reset_peak(pid: int) -> None:
    """From now on VmHWM counts from the current RSS (man 5 proc, clear_refs value 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def worker_of(master: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                    and _ppid(p) == master]
        if children:
            return children[0]
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def _ppid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


# --- the instance ------------------------------------------------------------------------------

def _settings(folder: Path, size_mb: int) -> dict[str, str]:
    limit = str(size_mb + 16)
    return {
        "PORTAL_SECRET_KEY": "bench-files-" + "x" * 32,
        "PORTAL_DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
        "PORTAL_INSTANCE_PATH": str(folder / "instance"),
        "PORTAL_STORAGE_URL": f"file://{folder / 'storage'}",
        "PORTAL_BASE_DOMAIN": "localhost",
        "PORTAL_UPLOAD_MAX_MB": limit,
        "PORTAL_MAX_UPLOAD_MB": limit,
        "PORTAL_MAIL_BACKEND": "file",
        "TMPDIR": str(folder / "tmp"),  # werkzeug spools request bodies here
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def _seed(env: dict[str, str]) -> None:
    """Migrate and add a practice, a client with document exchange and its contact person."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from portal import create_app, db, migrate
        from portal.accounts.models import ClientUser, Membership
        from portal.accounts.passwords import hash_password
        from portal.clients import tiers
        from portal.clients.models import Client
        from portal.tenancy.models import Practice

        migrate.upgrade(env["PORTAL_DATABASE_URL"])
        app = create_app({"PASSWORD_HASH_FAST": True})
        with app.app_context(), db.transaction(db.session):
            practice = Practice(slug=SLUG, name="Bench Files", locale="en")
            db.session.add(practice)
            db.session.flush()
            client = Client(practice_id=practice.id, name="Bench B.V.", client_number="1",
                            tier=tiers.COLLABORATE_PLUS)
            user = ClientUser(practice_id=practice.id, email=EMAIL, name="Bench",
                              password_hash=hash_password(PASSWORD))
            db.session.add_all([client, user])
            db.session.flush()
            db.session.add(Membership(client_user_id=user.id, client_id=client.id,
                                      role="owner"))
        db.engine_of(app).dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Just enough of a browser: the practice's Host header and the session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"{SLUG}.localhost:{port}"
        self.cookies: dict[str, str] = {}

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        sent = {"Host": self.host, **(extra or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return sent

    def keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for value in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def request(self, method: str, path: str, body: object = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        connection = self.connect()
        try:
            connection.request(method, path, body=body, headers=self.headers(headers))
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            self.keep_cookies(response)
            return response.status, dict(response.getheaders()), text
        finally:
            connection.close()

    def sign_in(self) -> str:
        status, _, page = self.request("GET", "/login")
        token = CSRF.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"GET /login answered {status}")
        status, headers, _ = self.request(
            "POST", "/login", urlencode({"csrf_token": token.group(1), "email": EMAIL,
                                         "password": PASSWORD}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"signing in answered {status}")
        status, headers, _ = self.request("GET", headers["Location"])
        return headers.get("Location", "/c/1/")


def _wait_for(browser: Browser, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            browser.request("GET", "/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


# --- the upload body ---------------------------------------------------------------------------

def _multipart(fields: dict[str, str], filename: str, size: int, digest: Any
               ) -> tuple[Iterator[bytes], int]:
    """The form as a browser sends it, made while it is sent; `digest` sees the file."""
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items())
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
             f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n').encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = os.urandom(BLOCK)

    def chunks() -> Iterator[bytes]:
        yield head
        left, first = size, True
        while left > 0:
            piece = (b"%PDF-1.7\n" + block[9:]) if first else block
            piece = piece[:left]
            digest.update(piece)
            yield piece
            left -= len(piece)
            first = False
        yield tail

    return chunks(), len(head) + size + len(tail)


# --- the measurement ---------------------------------------------------------------------------

def measure(size_mb: int = 200) -> FileBench:
    """Upload and download one file of size_mb MB through gunicorn; see the module text."""
    size = size_mb * MIB
    with tempfile.TemporaryDirectory(prefix="bench-files-") as temp:
        folder = Path(temp)
        (folder / "tmp").mkdir()
        env = _settings(folder, size_mb)
        _seed(env)
        port = _free_port()
        log = folder / "gunicorn.log"
        worker_setup = ["--workers", "1", "--worker-class", "gthread", "--threads", "2",
                        "--timeout", "600"]
        command = [sys.executable, "-m", "gunicorn", *worker_setup, "--bind",
                   f"127.0.0.1:{port}", "--error-logfile", str(log), "portal:create_app()"]
        process = subprocess.Popen(command, env={**os.environ, **env}, cwd=folder,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            browser = Browser(port)
            _wait_for(browser, process, log)
            worker = worker_of(process.pid)
            home = browser.sign_in()
            documents = home.rstrip("/") + "/documents"
            status, _, page = browser.request("GET", documents)  # warm: templates, imports
            token = CSRF.search(page)
            if status != 200 or token is None:
                raise RuntimeError(f"GET {documents} answered {status}")
            idle = rss_mb(worker)

            digest = hashlib.sha256()
            body, length = _multipart({"csrf_token": token.group(1), "engagement_id": "0",
                                       "request_id": "0", "note": ""}, "bench.pdf", size,
                                      digest)
            reset_peak(worker)
            started = time.perf_counter()
            status, headers, _ = browser.request("POST", documents, body, {
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(length)})
            upload_seconds = time.perf_counter() - started
            upload_peak = peak_rss_mb(worker)
            if status != 303:
                raise RuntimeError(f"the upload answered {status}: {log.read_text()[-2000:]}")

            _, _, listing = browser.request("GET", headers["Location"])
            link = DOWNLOAD.search(listing)
            if link is None:
                raise RuntimeError("the uploaded file is not listed")
            reset_peak(worker)
            started = time.perf_counter()
            received, check = _download(browser, link.group(1))
            download_seconds = time.perf_counter() - started
            download_peak = peak_rss_mb(worker)
            if received != size or check != digest.hexdigest():
                raise RuntimeError(f"downloaded {received} bytes that differ from the upload")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return FileBench(
        size_mb=size_mb, upload_seconds=round(upload_seconds, 3),
        upload_mb_per_s=round(size_mb / upload_seconds, 1),
        download_seconds=round(download_seconds, 3),
        download_mb_per_s=round(size_mb / download_seconds, 1),
        idle_rss_mb=round(idle, 1), upload_peak_rss_mb=round(upload_peak, 1),
        download_peak_rss_mb=round(download_peak, 1),
        worker="1 gthread worker, 2 threads")


def _download(browser: Browser, path: str) -> tuple[int, str]:
    connection = browser.connect()
    try:
        connection.request("GET", path, headers=browser.headers())
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"the download answered {response.status}")
        digest, received = hashlib.sha256(), 0
        while chunk := response.read(BLOCK):
            digest.update(chunk)
            received += len(chunk)
        return received, digest.hexdigest()
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.files", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = measure(args.size_mb)
    if args.json:
        print(json.dumps({**asdict(result), "above_idle_mb": round(result.above_idle_mb, 1)},
                         indent=2))
    else:
        print(result.text())


if __name__ == "__main__":
    main()
