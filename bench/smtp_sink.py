"""A local SMTP sink for the worker bench: `python -m bench.smtp_sink PORT`.

Runs aiosmtpd on 127.0.0.1 in its own process (so it does not share the worker's GIL),
accepts every message, keeps only a count, prints "ready" once listening and the count
when stopped (SIGTERM).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any


class Counter:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages += 1
        return "250 Message accepted"


def main(port: int) -> None:
    from aiosmtpd.controller import Controller

    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    print(counter.messages, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
