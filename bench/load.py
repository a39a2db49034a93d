"""HTTP load from this machine to loopback, bounded in time: wrk when installed, else a
small Python generator (threads). Both report the same figures.

Each request comes on a new connection ("Connection: close"), as a reverse proxy in front of
gunicorn sends them by default (nginx speaks HTTP/1.0 upstream). Over keep-alive connections
gunicorn's workers do not share the load: whichever worker accepts a connection keeps it, so
one process could hold all of them and the figures jumped by a factor two between runs."""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

CONNECTIONS = 16


@dataclass
class Load:
    tool: str
    seconds: float
    connections: int
    requests: int
    errors: int  # non-2xx/3xx answers and socket errors
    rps: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tool() -> str:
    """"wrk" when installed (less CPU taken from the server), else "python"."""
    return "wrk" if shutil.which("wrk") else "python"


def run(port: int, path: str, *, host: str, headers: dict[str, str], seconds: float,
        connections: int = CONNECTIONS) -> Load:
    headers = {**headers, "Connection": "close"}
    if tool() == "wrk":
        return _wrk(port, path, host=host, headers=headers, seconds=seconds,
                    connections=connections)
    return _python(port, path, host=host, headers=headers, seconds=seconds,
                   connections=connections)


# --- wrk ---------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT_MS[unit]


def _wrk(port: int, path: str, *, host: str, headers: dict[str, str], seconds: float,
         connections: int) -> Load:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
               "--timeout", "10s", "-H", f"Host: {host}"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30,
                         check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    elapsed = re.search(r"requests in ([\d.]+\w+),", out).group(1)  # type: ignore[union-attr]
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    errors = (int(non_ok.group(1)) if non_ok else 0) + (
        sum(int(n) for n in socket.groups()) if socket else 0)
    return Load(
        tool="wrk", seconds=_ms(elapsed) / 1000, connections=connections, requests=requests,
        errors=errors,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
    )


# --- Python ------------------------------------------------------------------------------

def _python(port: int, path: str, *, host: str, headers: dict[str, str], seconds: float,
            connections: int) -> Load:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def user() -> None:
        mine: list[float] = []
        failed = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": host, **headers})
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    failed += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()  # the next request reconnects
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    workers = [threading.Thread(target=user) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return Load(
        tool="python", seconds=elapsed, connections=connections, requests=len(latencies),
        errors=errors[0], rps=len(latencies) / elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )
