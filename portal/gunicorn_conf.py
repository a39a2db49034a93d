"""gunicorn settings for the portal, in production and in `make bench`.

    gunicorn -c python:portal.gunicorn_conf    # from any directory, also when installed
    gunicorn -c gunicorn.conf.py               # in a checkout (it imports this module)

Both serve portal:create_app() with the PORTAL_* settings.

Each value below comes from the environment, with a default that suits one server behind a
reverse proxy on the same machine (README.md, "Running in production"):

    PORTAL_BIND                 127.0.0.1:8000  where to listen (the proxy connects here)
    PORTAL_WEB_WORKERS          2 x CPUs + 1    processes (WEB_CONCURRENCY is read too)
    PORTAL_WEB_THREADS          2               threads per process
    PORTAL_WEB_TIMEOUT          30              seconds a request may run before its worker
                                                is killed and replaced
    PORTAL_FORWARDED_ALLOW_IPS  127.0.0.1,::1   proxies whose X-Forwarded-Proto gunicorn trusts
    PORTAL_ACCESS_LOG           -               file for the access log, "-" is stdout,
                                                "off" writes none
    PORTAL_ERROR_LOG            -               file for gunicorn's own log, "-" is stderr
    PORTAL_LOG_LEVEL            info
    PORTAL_CONTROL_SOCKET       (off)           path of gunicorn's control socket (gunicornc)
    PORTAL_LOG_FORMAT           text            json: every line (gunicorn's too) a JSON object
    PROMETHEUS_MULTIPROC_DIR    a new temp dir  where each process keeps its request counts
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import traceback
from typing import Any

from gunicorn.glogging import Logger

from portal.operations.observability import access_fields, formatter
from portal.security import redact_tokens

# Before any process loads the app (and prometheus-client, which reads it on import):
# every process counts its requests in a file here and /metrics adds them all up
# (portal/operations/metrics.py).
_made_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _made_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = \
        tempfile.mkdtemp(prefix="portal-metrics-")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "portal:create_app()"
bind = [os.environ.get("PORTAL_BIND") or "127.0.0.1:8000"]

# Processes for the CPU (templates, Python), threads to overlap waiting on the database.
# No preload_app: each worker builds the app, and with it its own database pool, after
# the fork, so no connection is ever shared between processes.
workers = _int("PORTAL_WEB_WORKERS", _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
worker_class = "gthread"
threads = _int("PORTAL_WEB_THREADS", 2)

timeout = _int("PORTAL_WEB_TIMEOUT", 30)
graceful_timeout = 30  # SIGTERM: requests in hand get this long to finish
keepalive = 5  # seconds an idle keep-alive connection from the proxy stays open

# Only these proxies may tell gunicorn the request came in over https; the app trusts
# X-Forwarded-For/-Proto/-Host itself through PORTAL_PROXY_FIX.
forwarded_allow_ips = (os.environ.get("PORTAL_FORWARDED_ALLOW_IPS")
                       or os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1")

# gunicorn 25.1+ opens a control socket (for gunicornc) at one path per user, which two
# instances on one host would share: off unless given a path of its own.
if os.environ.get("PORTAL_CONTROL_SOCKET"):
    control_socket = os.environ["PORTAL_CONTROL_SOCKET"]
else:
    control_socket_disable = True

_access = os.environ.get("PORTAL_ACCESS_LOG", "-")
accesslog = None if _access.lower() in ("off", "none", "") else _access
errorlog = os.environ.get("PORTAL_ERROR_LOG") or "-"
loglevel = os.environ.get("PORTAL_LOG_LEVEL") or "info"
# The route, never the query string (searches hold names, links hold tokens): %(U)s is
# the path alone. The client's address is the proxy's unless PORTAL_PROXY_FIX is set.
access_log_format = ('%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" '
                     '%({x-request-id}o)s')
JSON_LOGS = (os.environ.get("PORTAL_LOG_FORMAT") or "").strip().lower() == "json"


def on_starting(server: Any) -> None:
    """Counts in the directory are of an earlier run's processes: start from none."""
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def on_exit(server: Any) -> None:
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)


class AccessLog(Logger):
    """Writes each access line finished and with one-time-link tokens redacted.

    gunicorn hands logging a mapping of atoms; the line is built here instead and passed
    as one string, so the path in it is redacted before any handler or filter sees it.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if JSON_LOGS:
            for handler in self.error_log.handlers + self.access_log.handlers:
                handler.setFormatter(formatter("json"))

    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        try:
            atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
            if JSON_LOGS:
                fields = access_fields(atoms)
                self.access_log.info("%s %s %s", fields["method"], fields["path"],
                                     fields["status"], extra={"fields": fields})
                return
            self.access_log.info("%s", redact_tokens(self.cfg.access_log_format % atoms))
        except Exception:  # a log line must never fail a request
            self.error(traceback.format_exc())


logger_class = AccessLog
