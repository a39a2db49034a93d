"""Request ids on responses, log lines and error pages; JSON logs; /metrics; the worker's
heartbeat on /healthz."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal import access
from portal.notifications.worker import Worker
from portal.operations import observability
from tests.factories import Factory

ID = re.compile(r"[0-9a-f]{16}")
METRICS_TOKEN = "m3tr1cs-t0ken-for-the-tests"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
# A one-time link's token as the redaction recognises it (three dotted runs).
LINK_TOKEN = "eyJsaW5rIjo0MiwicyI6Inh5eiJ9.Z3rT4w.k9Qm2xV8pL0sN7bR5cW1yE3uH6jA"


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo", name="Bakker & Visser", locale="en")


def _failing_app(app_with, **settings):  # type: ignore[no-untyped-def]
    """An app with a page that logs a line with a link token in it, then fails."""
    app = app_with(PROPAGATE_EXCEPTIONS=False, **settings)
    Factory(app).practice("demo", name="Bakker & Visser", locale="en")

    @app.get("/boom")
    @access.public
    def boom():  # type: ignore[no-untyped-def]
        logging.getLogger("portal.test").warning("opening /l/%s", LINK_TOKEN)
        raise RuntimeError(f"broken link {LINK_TOKEN}")

    return app


@contextmanager
def _log_to(log_format: str) -> Iterator[io.StringIO]:
    """The portal's own handler on the root logger, writing into a string for a while."""
    stream, root = io.StringIO(), logging.getLogger()
    level = root.level
    observability.configure_logging(log_format, "INFO", stream=stream)
    try:
        yield stream
    finally:
        for handler in [h for h in root.handlers if getattr(h, "portal_handler", False)]:
            root.removeHandler(handler)
        root.setLevel(level)


# --- request ids --------------------------------------------------------------------------

def test_every_response_carries_a_fresh_request_id(client, practice):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/nowhere").headers["X-Request-ID"]
    assert ID.fullmatch(first) and ID.fullmatch(second) and first != second


def test_the_request_id_is_on_its_log_lines_and_its_error_page(app_with, caplog):
    app = _failing_app(app_with)
    response = app.test_client().get("/boom", base_url="http://demo.localhost")
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert f"Reference: {request_id}" in response.get_data(as_text=True)
    logged = [r for r in caplog.records if r.name in ("portal.test", "portal.web")]
    # the line the page wrote, and the unhandled error
    assert {r.name for r in logged} == {"portal.test", "portal.web"}
    assert {r.request_id for r in logged} == {request_id}
    assert {r.practice for r in logged} == {"demo"}


def test_the_reference_is_dutch_on_a_dutch_practice(client, make):
    make.practice("demo", locale="nl")
    response = client.get("/nowhere")
    assert f"Referentie: {response.headers['X-Request-ID']}" in response.get_data(as_text=True)


def test_an_htmx_error_fragment_names_the_reference_too(client, practice):
    response = client.get("/nowhere", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and f"Reference: {response.headers['X-Request-ID']}" in body


def test_an_incoming_request_id_is_ignored_without_a_trusted_proxy(client, practice):
    response = client.get("/login", headers={"X-Request-ID": "chosen-by-the-client"})
    assert ID.fullmatch(response.headers["X-Request-ID"])


def test_the_trusted_proxys_request_id_is_kept(app_with):
    app = app_with(PROXY_FIX=1)
    Factory(app).practice("demo", locale="en")
    response = app.test_client().get("/nowhere", base_url="http://demo.localhost",
                                     headers={"X-Request-ID": "nginx-7f3a9c01"})
    assert response.headers["X-Request-ID"] == "nginx-7f3a9c01"
    assert "Reference: nginx-7f3a9c01" in response.get_data(as_text=True)


@pytest.mark.parametrize("unfit", ["x" * 201, "two words", "tab\there", "caf\u00e9",
                                   "<script>", ""])
def test_an_unfit_request_id_from_the_proxy_is_replaced(app_with, unfit):
    app = app_with(PROXY_FIX=1)
    Factory(app).practice("demo")
    response = app.test_client().get("/login", base_url="http://demo.localhost",
                                     headers={"X-Request-ID": unfit})
    given = response.headers["X-Request-ID"]
    if unfit == "<script>":  # visible ASCII is fit; the page escapes it like any text
        assert given == unfit
    else:
        assert ID.fullmatch(given)


def test_the_longest_fit_request_id_is_kept(app_with):
    app = app_with(PROXY_FIX=1)
    Factory(app).practice("demo")
    longest = "r" * 200
    response = app.test_client().get("/login", base_url="http://demo.localhost",
                                     headers={"X-Request-ID": longest})
    assert response.headers["X-Request-ID"] == longest


# --- log formats --------------------------------------------------------------------------

def test_json_log_lines_parse_carry_the_request_and_hide_tokens(app_with):
    app = _failing_app(app_with)
    with _log_to("json") as stream:
        response = app.test_client().get("/boom", base_url="http://demo.localhost")
        logging.getLogger("werkzeug").info('"GET /l/%s HTTP/1.1" 200 -', LINK_TOKEN)
    output = stream.getvalue()
    assert LINK_TOKEN not in output
    lines = [json.loads(line) for line in output.splitlines()]
    by_logger = {line["logger"]: line for line in lines}
    page, error = by_logger["portal.test"], by_logger["portal.web"]
    assert page["message"] == "opening /l/[token]"
    assert page["level"] == "WARNING" and page["timestamp"].endswith("Z")
    assert page["request_id"] == error["request_id"] == response.headers["X-Request-ID"]
    assert page["practice"] == "demo"
    assert "RuntimeError: broken link [token]" in error["exception"]
    assert by_logger["werkzeug"]["message"] == '"GET /l/[token] HTTP/1.1" 200 -'
    assert by_logger["werkzeug"]["request_id"] is None  # written outside any request


def test_text_log_lines_carry_the_request_id_and_hide_tokens(app_with):
    app = _failing_app(app_with)
    with _log_to("text") as stream:
        response = app.test_client().get("/boom", base_url="http://demo.localhost")
    output = stream.getvalue()
    assert LINK_TOKEN not in output and "[token]" in output
    assert f"WARNING portal.test [{response.headers['X-Request-ID']} demo] opening" in output


def test_an_unknown_log_format_is_refused(app_with):
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_LOG_FORMAT"):
        app_with(LOG_FORMAT="xml")


# --- metrics ------------------------------------------------------------------------------

def _sample(text: str, series: str) -> float | None:
    """The value of one series in a scrape (`name{labels}`), None when it is not there."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def _metrics(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return response.get_data(as_text=True)


@pytest.fixture
def metrics_app(app_with):  # type: ignore[no-untyped-def]
    app = app_with(METRICS_TOKEN=METRICS_TOKEN)
    Factory(app).practice("demo")
    return app


def test_metrics_are_not_there_without_a_token_setting(client, practice):
    assert client.get("/metrics", headers=BEARER).status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-of-some-length",
                                           f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"])
def test_metrics_are_refused_without_the_token(metrics_app, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = metrics_app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "portal_" not in response.get_data(as_text=True)


def test_a_short_metrics_token_is_refused(app_with):
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_METRICS_TOKEN"):
        app_with(METRICS_TOKEN="short")


def test_metrics_count_requests_by_endpoint_and_status(metrics_app):
    client = metrics_app.test_client()
    for _ in range(3):
        client.get("/login")
    client.get("/nowhere")
    text = _metrics(client.on("127.0.0.1:9100"))  # any host: Prometheus scrapes by address
    assert 'portal_http_requests_total{endpoint="accounts.client_login",method="GET",' \
           'status="200"} 3.0' in text
    assert 'portal_http_requests_total{endpoint="unmatched",method="GET",status="404"} 1.0' \
        in text
    assert 'portal_http_request_duration_seconds_count{endpoint="accounts.client_login"} 3.0' \
        in text
    assert 'portal_http_request_duration_seconds_bucket{endpoint="accounts.client_login",' \
           'le="+Inf"} 3.0' in text


def test_an_invented_method_is_counted_as_other(metrics_app):
    client = metrics_app.test_client()
    client.open("/login", method="BREW")
    assert 'method="other",status="405"} 1.0' in _metrics(client)


def test_metrics_show_the_outbox_from_the_database(metrics_app, frozen_clock):
    make = Factory(metrics_app)
    demo = make.practice("other")
    make.outbox(demo)
    frozen_clock.advance(seconds=90)
    make.outbox(demo)
    make.outbox(demo, state="failed")
    text = _metrics(metrics_app.test_client())
    assert 'portal_outbox_messages{state="queued"} 2.0' in text
    assert 'portal_outbox_messages{state="failed"} 1.0' in text
    assert 'portal_outbox_messages{state="sending"} 0.0' in text
    assert "portal_outbox_oldest_queued_age_seconds 90.0" in text


def test_metrics_show_the_worker_and_its_sweeps(metrics_app, frozen_clock):
    text = _metrics(metrics_app.test_client())
    assert "portal_workers_alive 0.0" in text
    assert "portal_worker_last_pass_timestamp_seconds" not in text
    Worker(metrics_app).run_pass()
    Worker(metrics_app).run_pass()
    text = _metrics(metrics_app.test_client())
    moment = pytest.approx(frozen_clock.now.timestamp())
    assert _sample(text, "portal_workers_alive") == 1
    assert _sample(text, "portal_worker_last_pass_timestamp_seconds") == moment
    assert _sample(text, 'portal_sweep_duration_seconds_count{sweep="retention"}') == 2
    assert _sample(text, 'portal_sweep_duration_seconds_sum{sweep="retention"}') > 0
    assert _sample(text, 'portal_sweep_failures_total{sweep="retention"}') == 0
    assert _sample(text, 'portal_sweep_last_run_timestamp_seconds{sweep="retention"}') == moment


def test_a_failing_sweep_is_counted_and_logs_under_the_passes_id(metrics_app, caplog):
    from portal.notifications import worker

    def broken(_session):  # type: ignore[no-untyped-def]
        raise RuntimeError("sweep broke")

    worker.register_sweep(metrics_app, "broken", broken)
    with caplog.at_level(logging.INFO):
        Worker(metrics_app).run_pass()
    text = _metrics(metrics_app.test_client())
    assert 'portal_sweep_failures_total{sweep="broken"} 1.0' in text
    failed = next(r for r in caplog.records if r.getMessage() == "sweep broken failed")
    pass_id, _, number = failed.request_id.rpartition(".")
    assert ID.fullmatch(pass_id) and number.isdigit()


def test_request_counts_add_up_over_processes(database, tmp_path):
    """gunicorn's processes each count their own requests; a scrape of any one shows all."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    settings = {"TESTING": True, "SECRET_KEY": "test-secret", "PASSWORD_HASH_FAST": True,
                "DATABASE_URL": database.fresh(tmp_path), "METRICS_TOKEN": METRICS_TOKEN,
                "INSTANCE_PATH": str(tmp_path / "instance")}
    script = textwrap.dedent("""
        import json, os, sys
        from portal import create_app
        client = create_app(json.loads(os.environ["SETTINGS"])).test_client()
        for _ in range(int(sys.argv[1])):
            assert client.get("/healthz").status_code == 200
        if sys.argv[2] == "scrape":
            print(client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[3]})
                  .get_data(as_text=True))
    """)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory),
           "SETTINGS": json.dumps(settings)}

    def run(*args: str) -> str:
        return subprocess.run([sys.executable, "-c", script, *args], env=env, check=True,
                              capture_output=True, text=True, cwd=Path.cwd(),
                              timeout=120).stdout

    run("2", "count")
    run("3", "count")
    text = run("1", "scrape", METRICS_TOKEN)
    assert 'portal_http_requests_total{endpoint="tenancy.health",method="GET",status="200"} ' \
           '6.0' in text
    assert 'portal_http_request_duration_seconds_count{endpoint="tenancy.health"} 6.0' in text


# --- /healthz -----------------------------------------------------------------------------

def test_healthz_says_when_no_worker_ever_ran(client, practice):
    assert client.get("/healthz").get_json() == {
        "status": "ok", "worker": {"state": "never", "last_pass": None}}


def test_healthz_reports_the_workers_heartbeat_and_when_it_is_stale(
        app, client, practice, frozen_clock):
    Worker(app).run_pass()
    beat = frozen_clock.now
    frozen_clock.advance(seconds=30)
    health = client.on("127.0.0.1:8000").get("/healthz").get_json()
    assert health == {"status": "ok", "worker": {
        "state": "ok", "age_seconds": 30, "last_pass": beat.isoformat(timespec="seconds")}}
    frozen_clock.advance(seconds=app.config["WORKER_STALE_SECONDS"])
    worker = client.get("/healthz").get_json()["worker"]
    assert worker["state"] == "stale"
    assert set(worker) == {"state", "last_pass", "age_seconds"}  # no host, no practice
