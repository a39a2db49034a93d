"""Moves the whole clock of a test run to another day, for `make test-calendar`.

Python imports this module at start-up when its folder is on PYTHONPATH. With
PORTAL_TEST_NOW set (an ISO moment with its UTC offset) it starts time-machine, which
moves datetime.now, date.today, time.time and friends, so the app, the test code and every
process the tests start (xdist workers, `portal worker`) read that day. The real start is
handed down in PORTAL_TEST_NOW_ORIGIN so all processes share one timeline and the clock
keeps ticking. Monotonic clocks and the kernel's file times stay real.
"""

import os
import time
from datetime import datetime, timedelta

if os.environ.get("PORTAL_TEST_NOW"):
    import time_machine

    _origin = float(os.environ.setdefault("PORTAL_TEST_NOW_ORIGIN", repr(time.time())))
    _moment = datetime.fromisoformat(os.environ["PORTAL_TEST_NOW"]) + \
        timedelta(seconds=time.time() - _origin)
    time_machine.travel(_moment, tick=True).start()
