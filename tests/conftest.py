"""Fixtures: a migrated database per test, an app on it, clients per host, factories.

The schema comes only from the Alembic migrations: once per test worker into a template
(a SQLite file, or a PostgreSQL database of its own), then each test gets a fresh copy
(SQLite) or emptied tables (PostgreSQL). Set PORTAL_TEST_DATABASE_URL to a PostgreSQL
server to run the suite there; each run creates its own databases and drops them.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import shutil
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Imported before any test sets PROMETHEUS_MULTIPROC_DIR: the client chooses file-based
# counting once, on import, and the in-process tests count in memory.
import prometheus_client  # noqa: F401
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal import clock, create_app, migrate
from portal import db as portal_db
from portal.clock import AMSTERDAM
from tests.factories import Factory

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
BASE_DOMAIN = "localhost"


class TemplateDatabase:
    """A migrated database that each test gets a clean copy of."""

    def __init__(self, tmp: Path, worker: str) -> None:
        self.tmp = tmp
        if PG_URL:
            server = make_url(PG_URL)
            self.name = f"portal_test_{uuid.uuid4().hex[:8]}_{worker}"
            self.admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = server.set(database=self.name).render_as_string(hide_password=False)
            migrate.upgrade(self.url)
            portal_db.import_models()
            self.engine = create_engine(self.url)
            tables = [t.name for t in portal_db.Base.metadata.sorted_tables]
            self.truncate = "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + \
                " RESTART IDENTITY CASCADE"
        else:
            self.path = tmp / "template.sqlite3"
            migrate.upgrade(f"sqlite:///{self.path}")
            conn = sqlite3.connect(self.path)  # fold the WAL into the file so a copy is whole
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.close()

    def fresh(self, where: Path) -> str:
        if PG_URL:
            with self.engine.begin() as conn:
                conn.execute(text(self.truncate))
            return self.url
        path = where / "portal.sqlite3"
        shutil.copyfile(self.path, path)
        return f"sqlite:///{path}"

    def drop(self) -> None:
        if PG_URL:
            self.engine.dispose()
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory,
             worker_id: str) -> Iterator[TemplateDatabase]:
    template = TemplateDatabase(tmp_path_factory.mktemp("template"), worker_id)
    yield template
    template.drop()


# --- time ------------------------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    """`make test-calendar` moves the clock through tests/calendar/sitecustomize.py; a run
    that asks for a day but reads another must not pass for one on that day."""
    wanted = os.environ.get("PORTAL_TEST_NOW")
    if wanted and abs(datetime.now(UTC) - datetime.fromisoformat(wanted)) > timedelta(hours=6):
        raise pytest.UsageError(f"PORTAL_TEST_NOW={wanted} but the clock reads "
                                f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: put tests/calendar "
                                "on PYTHONPATH (make test-calendar does)")


def pytest_report_header() -> str | None:
    if os.environ.get("PORTAL_TEST_NOW"):
        return (f"clock moved to {os.environ['PORTAL_TEST_NOW']}: it reads "
                f"{datetime.now(clock.AMSTERDAM):%Y-%m-%d %H:%M %Z} in Amsterdam")
    return None


class FrozenClock:
    """portal.clock held still where the test puts it; every date the test builds comes
    from `now`. The app reads the same moment, so nothing depends on the day it runs."""

    def __init__(self, moment: datetime) -> None:
        self.now = self.at(moment)

    def at(self, moment: datetime) -> datetime:
        clock.freeze(moment)
        self.now = moment
        return moment

    def advance(self, **delta: float) -> datetime:
        return self.at(self.now + timedelta(**delta))

    def next(self, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
        """Move on to the next `day month hour:minute` in Amsterdam (29 February: in the
        next leap year), so a test can cross a year end or a DST change on any day."""
        year = self.now.astimezone(AMSTERDAM).year
        while True:
            try:
                moment = datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)
            except ValueError:  # no 29 February this year
                moment = None
            if moment is not None and moment > self.now:
                return self.at(moment)
            year += 1


@pytest.fixture
def frozen_clock(request: pytest.FixtureRequest) -> FrozenClock:
    """The clock held at the moment the test starts; `.at(...)` and `.advance(...)` move it.
    Parametrized indirectly with (month, day[, hour]) it starts at the next such moment in
    Amsterdam. Name it before the fixtures that sign in, so their sessions start then too."""
    held = FrozenClock(clock.now())
    if getattr(request, "param", None):
        held.next(*request.param)
    return held


@pytest.fixture(autouse=True)
def _release_the_clock() -> Iterator[None]:
    """A test that froze the clock never leaves it frozen for the next one."""
    yield
    clock.freeze(None)


def make_app(database: TemplateDatabase, tmp: Path, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database.fresh(tmp),
        "INSTANCE_PATH": str(tmp / "instance"),
        "BASE_DOMAIN": BASE_DOMAIN,
        "PASSWORD_HASH_FAST": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        # The daily anchor mail to admins would be one more mail in every count of mail a
        # worker pass sends; tests/unit/test_audit_anchors.py turns it on.
        "AUDIT_ANCHORS": False,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(database: TemplateDatabase, tmp_path: Path) -> Iterator[Flask]:
    application = make_app(database, tmp_path)
    application.test_client_class = HostClient
    yield application
    portal_db.engine_of(application).dispose()


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def db(app: Flask):  # type: ignore[no-untyped-def]
    """`with db() as s:` a fresh session to look at what is stored."""

    @contextmanager
    def session() -> Iterator[Session]:
        with app.app_context():
            yield portal_db.session

    return session


CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class HostClient(FlaskClient):
    """A test client that talks to one practice's host, like a browser on that address."""

    host = f"demo.{BASE_DOMAIN}"

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        kwargs.setdefault("base_url", f"http://{self.host}")
        return super().open(*args, **kwargs)

    def on(self, host: str) -> HostClient:
        self.host = host
        return self

    def csrf_token(self, page: str = "/login") -> str:
        """The CSRF token a page hands out to this client's session, as a form holds it."""
        found = CSRF_INPUT.search(self.get(page, follow_redirects=True).get_data(as_text=True))
        assert found, f"no CSRF token on {page}"
        return found.group(1)

    def submit(self, path: str, data: dict[str, Any] | None = None, *, page: str | None = None,
               **kwargs: Any):  # type: ignore[no-untyped-def]
        """POST a form the way a browser does after loading the page that holds it."""
        fields = {"csrf_token": self.csrf_token(page or path), **(data or {})}
        return self.post(path, data=fields, **kwargs)

    def login_staff(self, email: str, password: str = "", **kwargs: Any):  # type: ignore[no-untyped-def]
        from tests.factories import PASSWORD

        return self.submit("/office/login", {"email": email, "password": password or PASSWORD},
                           **kwargs)

    def login_client(self, email: str, password: str = "", **kwargs: Any):  # type: ignore[no-untyped-def]
        from tests.factories import PASSWORD

        return self.submit("/login", {"email": email, "password": password or PASSWORD},
                           **kwargs)


@pytest.fixture
def client(app: Flask) -> HostClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def app_with(database: TemplateDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    """An app with some settings changed: `app_with(LOGIN_LIMIT_PER_EMAIL="3 per minute")`."""
    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = make_app(database, tmp_path, **overrides)
        application.test_client_class = HostClient
        made.append(application)
        return application

    yield build
    for application in made:
        portal_db.engine_of(application).dispose()


# --- mail ------------------------------------------------------------------------------

class MailSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.connections = 0
        self.refuse: set[str] = set()  # addresses answered with 550
        self.delay = 0.0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    from aiosmtpd.controller import Controller

    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port  # type: ignore[attr-defined]
    yield sink
    controller.stop()


@pytest.fixture
def mail_app(app_with, smtp):  # type: ignore[no-untyped-def]
    """An app whose worker delivers to the `smtp` sink."""
    return app_with(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_BACKEND="smtp",
                    MAIL_DEFAULT_SENDER="portal@portal.example", PUBLIC_PORT=5000,
                    MAIL_TIMEOUT=5)


@pytest.fixture
def count_queries(app):  # type: ignore[no-untyped-def]
    """`count_queries(lambda: client.get(...))` -> (response, number of SQL statements)."""
    from portal.db import QueryCounter

    def run(request):  # type: ignore[no-untyped-def]
        with QueryCounter(portal_db.engine_of(app)) as counter:
            response = request()
        return response, counter.count

    return run


@pytest.fixture
def tsa(app, tmp_path):  # type: ignore[no-untyped-def]
    """A timestamp server (RFC 3161) on loopback, configured as PORTAL_TSA_URL, its root
    as PORTAL_TSA_CERT; `tsa.failing = True` makes it answer 500."""
    from bench.tsa import TimestampServer, authority

    stamper, pem = authority(tmp_path)
    server = TimestampServer(stamper)
    app.config.update(TSA_URL=server.url, TSA_CERT=str(pem))
    yield server
    server.stop()
