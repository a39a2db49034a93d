"""gunicorn on loopback with the portal's gunicorn settings, and a browser's login."""

from __future__ import annotations

import http.client
import importlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

# The settings as production uses them: a module, so an installed portal has them too.
CONFIG = "python:portal.gunicorn_conf"
CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings(env: dict[str, str]) -> dict[str, object]:
    """workers, threads, worker class as portal.gunicorn_conf decides them for this env."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        values = vars(importlib.reload(importlib.import_module("portal.gunicorn_conf")))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {k: values[k] for k in ("workers", "threads", "worker_class", "timeout")}


@dataclass
class Server:
    port: int
    host: str
    process: subprocess.Popen[bytes]
    log: Path
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: str | bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {"Host": self.host, **(headers or {})}
            if self.cookies:
                sent["Cookie"] = self.cookie_header()
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), text
        finally:
            conn.close()

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def login(self, path: str, email: str, password: str) -> None:
        """Sign in through the real form, like a browser: GET for the token, then POST."""
        self.cookies.clear()
        status, _, page = self.request("GET", path)
        token = CSRF_INPUT.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"GET {path} answered {status} without a login form")
        status, _, _ = self.request(
            "POST", path, urlencode({"csrf_token": token.group(1), "email": email,
                                     "password": password}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"login of {email} at {path} answered {status}, not a redirect")


@contextmanager
def gunicorn(env: dict[str, str], log: Path, *, host: str, app: str | None = None,
             timeout: float = 60, python: str = sys.executable,
             cwd: Path | None = None) -> Iterator[Server]:
    """gunicorn with the portal's settings [and app] on a free loopback port, until the block
    ends; `python` and `cwd` run another installation of it (the wheel's smoke test)."""
    port = free_port()
    full_env = {**os.environ, **env, "PORTAL_BIND": f"127.0.0.1:{port}",
                "PORTAL_ACCESS_LOG": str(log.with_suffix(".access.log")),
                "PORTAL_ERROR_LOG": str(log)}
    command = [python, "-m", "gunicorn", "-c", CONFIG] + ([app] if app else [])
    output = log.with_suffix(".out").open("wb")  # whatever escapes gunicorn's own logs
    process = subprocess.Popen(command, env=full_env, cwd=cwd or Path.cwd(), stdout=output,
                               stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(port, host, process, log)
    try:
        _wait_until_ready(server, "/healthz" if app is None else "/", timeout)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


def _wait_until_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}; "
                               f"see {server.log}:\n{_tail(server.log)}")
        try:
            status, _, _ = server.request("GET", path)
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        raise RuntimeError(f"gunicorn answers GET {path} with {status}:\n{_tail(server.log)}")
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{_tail(server.log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
