"""Request ids outside the app, the log formatters, and gunicorn's access log lines."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest

from portal.operations import observability

LINK_TOKEN = "eyJsaW5rIjo0MiwicyI6Inh5eiJ9.Z3rT4w.k9Qm2xV8pL0sN7bR5cW1yE3uH6jA"


@pytest.mark.parametrize(("given", "kept"), [
    ("nginx-7f3a9c01", True), ("a" * 200, True), ("a" * 201, False), ("", False),
    ("with space", False), ("line\r\nbreak", False), ("\x00", False),
    ("caf\u00e9", False)])
def test_only_short_visible_ascii_ids_are_accepted(given, kept):
    assert observability.accepted_id(given) == (given if kept else None)


def test_no_header_is_no_id():
    assert observability.accepted_id(None) is None


def test_log_lines_outside_a_request_carry_the_context_id():
    observability.install_record_context()
    with observability.log_context("pass-1") as given:
        record = logging.getLogger("portal.test").makeRecord(
            "portal.test", logging.INFO, __file__, 1, "hello", (), None)
        assert record.request_id == given == "pass-1"
    assert observability.current_id() is None


def test_a_json_line_without_a_request_still_has_every_key():
    record = logging.makeLogRecord({"name": "portal.worker", "levelno": logging.INFO,
                                    "levelname": "INFO", "msg": "sent %s",
                                    "args": (f"/l/{LINK_TOKEN}",)})
    line = json.loads(observability.JsonFormatter().format(record))
    assert line["message"] == "sent /l/[token]"
    assert line["request_id"] is None and "practice" not in line
    assert set(line) == {"timestamp", "level", "logger", "message", "request_id"}


@pytest.fixture
def gunicorn_loggers() -> Iterator[None]:
    """gunicorn's Logger sets up the process-wide gunicorn.* loggers: put them back."""
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
             for name in ("gunicorn.error", "gunicorn.access")}
    yield
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:], logger.propagate = handlers, propagate


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_gunicorn_access_lines_carry_the_request_id_and_no_token(
        monkeypatch, tmp_path, gunicorn_loggers, log_format):
    from gunicorn.config import Config

    # PROMETHEUS_MULTIPROC_DIR given, so loading the settings makes no directory of its own
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_LOG_FORMAT", log_format)
    conf = importlib.reload(importlib.import_module("portal.gunicorn_conf"))
    try:
        cfg = Config()
        cfg.set("accesslog", str(tmp_path / "access.log"))
        cfg.set("errorlog", str(tmp_path / "error.log"))
        cfg.set("access_log_format", conf.access_log_format)
        access_log = conf.AccessLog(cfg)
        response = SimpleNamespace(status="404 NOT FOUND", sent=512,
                                   headers=[("X-Request-ID", "3f9a2c7e1b4d5a60")])
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/l/{LINK_TOKEN}?q=naam",
                   "PATH_INFO": f"/l/{LINK_TOKEN}", "QUERY_STRING": "q=naam",
                   "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.5",
                   "HTTP_USER_AGENT": "Mozilla/5.0"}
        access_log.access(response, SimpleNamespace(headers=[]), environ,
                          timedelta(milliseconds=12))
        access_log.error("worker booted")
    finally:
        monkeypatch.delenv("PORTAL_LOG_FORMAT")
        importlib.reload(conf)
    line = (tmp_path / "access.log").read_text().splitlines()[-1]
    error = (tmp_path / "error.log").read_text().splitlines()[-1]
    assert LINK_TOKEN not in line and "naam" not in line
    if log_format == "text":
        assert line.endswith('"GET /l/[token] HTTP/1.1" 404 512 12ms "Mozilla/5.0" '
                             "3f9a2c7e1b4d5a60")
        return
    entry = json.loads(line)
    assert entry["logger"] == "gunicorn.access" and entry["message"] == "GET /l/[token] 404"
    assert {key: entry[key] for key in ("request_id", "method", "path", "status", "bytes",
                                        "duration_ms", "remote_addr", "user_agent")} == {
        "request_id": "3f9a2c7e1b4d5a60", "method": "GET", "path": "/l/[token]",
        "status": 404, "bytes": 512, "duration_ms": 12, "remote_addr": "10.0.0.5",
        "user_agent": "Mozilla/5.0"}
    assert json.loads(error)["message"] == "worker booted"
