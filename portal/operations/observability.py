"""Request ids and log lines: every line says which request (or worker pass) wrote it.

Each request gets a short random id, or keeps the `X-Request-ID` its proxy sent when the
app trusts a proxy in front (PORTAL_PROXY_FIX); the response and the error pages carry it,
so a user can quote it and the log finds it. Log lines are plain text, or JSON with
PORTAL_LOG_FORMAT=json; one-time-link tokens are redacted from both.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, current_app, g, has_request_context, request
from werkzeug.wrappers import Response

from portal.config import ConfigError
from portal.security import redact_tokens

HEADER = "X-Request-ID"
# What we accept from a proxy: visible ASCII, no spaces, at most 200 characters. Anything
# else (line breaks, control characters, other encodings) never reaches a log or a page.
_VALID_ID = re.compile(r"[!-~]{1,200}")
FORMATS = ("text", "json")
# Outside a request (the worker's passes and sweeps) the id lives here.
_context_id: ContextVar[str | None] = ContextVar("portal_log_id", default=None)


def new_id() -> str:
    return secrets.token_hex(8)


def accepted_id(value: str | None) -> str | None:
    """The incoming id when it is fit to log and show, else None."""
    return value if value and _VALID_ID.fullmatch(value) else None


def current_id() -> str | None:
    """The id of this request, or of the worker pass or sweep running in this context."""
    if has_request_context():
        return g.get("request_id")
    return _context_id.get()


@contextmanager
def log_context(log_id: str | None = None) -> Iterator[str]:
    """Work outside a request (a worker pass, a sweep) logs under an id of its own."""
    value = log_id or new_id()
    token = _context_id.set(value)
    try:
        yield value
    finally:
        _context_id.reset(token)


def init_app(app: Flask) -> None:
    if app.config["LOG_FORMAT"] not in FORMATS:
        raise ConfigError(f"PORTAL_LOG_FORMAT must be text or json, not "
                          f"{app.config['LOG_FORMAT']!r}")
    if not isinstance(logging.getLevelName(app.config["LOG_LEVEL"]), int):
        raise ConfigError(f"PORTAL_LOG_LEVEL must be debug, info, warning or error, not "
                          f"{app.config['LOG_LEVEL']!r}")
    install_record_context()
    if not app.testing:  # tests read records through pytest's own handler
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    # First of all hooks: a request that an earlier hook refuses still has its id.
    app.before_request_funcs.setdefault(None, []).insert(0, _assign_request_id)
    app.after_request(_echo_request_id)

    @app.context_processor
    def _request_id() -> dict[str, Any]:
        return {"request_id": g.get("request_id")}


def _assign_request_id() -> None:
    trusted = current_app.config["PROXY_FIX"] > 0  # only a proxy we trust may name it
    incoming = accepted_id(request.headers.get(HEADER)) if trusted else None
    g.request_id = incoming or new_id()


def _echo_request_id(response: Response) -> Response:
    if g.get("request_id"):
        response.headers[HEADER] = g.request_id
    return response


# --- log records --------------------------------------------------------------------------

def _practice_slug() -> str | None:
    if not has_request_context():
        return None
    practice = g.get("practice")
    # From what is loaded only: a log line must never make the ORM query.
    return getattr(practice, "__dict__", {}).get("slug") if practice is not None else None


def install_record_context() -> None:
    """Every log record, from any logger and for any handler, gets `request_id` and
    `practice` (the slug), None where there is none."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "portal_context", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_id()
        record.practice = _practice_slug()
        return record

    factory.portal_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request-id practice] message`, tokens redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s %(practice)s] "
                         "%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        for name in ("request_id", "practice"):
            if getattr(record, name, None) is None:
                setattr(record, name, "-")
        try:
            return redact_tokens(super().format(record))
        finally:
            for name in ("request_id", "practice"):
                if getattr(record, name) == "-":
                    setattr(record, name, None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, message, request_id,
    practice (where known), exception; plus the `fields` a caller passes in `extra`
    (the access log's method, path, status, ...). Tokens are redacted everywhere."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_tokens(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        practice = getattr(record, "practice", None)
        if practice:
            entry["practice"] = practice
        if record.exc_info:
            entry["exception"] = redact_tokens(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact_tokens(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact_tokens(self.formatStack(record.stack_info))
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({key: redact_tokens(value) if isinstance(value, str) else value
                          for key, value in fields.items()})
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(log_format: str, level: str, stream: IO[str] | None = None) -> None:
    """One handler on the root logger (standard error), replacing the one set before."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "portal_handler", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.portal_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)


# --- gunicorn -----------------------------------------------------------------------------

def access_fields(atoms: Any) -> dict[str, Any]:
    """The JSON access log line's fields from gunicorn's atoms (the path without its query
    string, as in the text access log)."""
    def atom(key: str) -> str | None:
        value = atoms[key]
        return None if value in ("-", None) else str(value)

    status = atom("s")
    return {
        "request_id": atom("{x-request-id}o"),
        "remote_addr": atom("h"),
        "method": atom("m"),
        "path": atom("U"),
        "protocol": atom("H"),
        "status": int(status) if status and status.isdigit() else status,
        "bytes": int(atoms["B"]) if str(atoms["B"]).isdigit() else None,
        "duration_ms": int(atoms["M"]) if str(atoms["M"]).isdigit() else None,
        "user_agent": atom("a"),
    }
