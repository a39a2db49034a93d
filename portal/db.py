"""Engine, one session per request or command, the declarative Base, SQLite pragmas.

Views and services use `db.session`; a service wraps its writes in `transaction(session)`.
On SQLite a writing transaction begins IMMEDIATE, so two writers queue on the busy timeout
instead of one failing when it upgrades a read lock.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    MetaData,
    String,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

# Packages whose models.py make up the schema, in import order.
MODEL_PACKAGES = ("audit", "notifications", "tenancy", "accounts", "clients", "engagements",
                  "documents", "questionnaires", "insights", "operations")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class ContainsText(ColumnElement[bool]):
    """The column holds the text, whatever its case (and % or _ are plain characters).
    PostgreSQL says ILIKE. SQLite's LIKE already ignores ASCII case, as far as its lower()
    goes, so it is used plain: no function call per row, a search three times as fast."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("pattern", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any], text: str) -> None:
        escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
        self.column = column
        self.pattern = bindparam(None, f"%{escaped}%", type_=String(), unique=True)


@compiles(ContainsText)
def _contains_text(element: ContainsText, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.ilike(element.pattern, escape="/"), **kw)


@compiles(ContainsText, "sqlite")
def _contains_text_sqlite(element: ContainsText, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.like(element.pattern, escape="/"), **kw)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def import_models() -> None:
    """Import every models module so Base.metadata knows the whole schema."""
    for package in MODEL_PACKAGES:
        importlib.import_module(f"portal.{package}.models")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from pysqlite so we can say which kind of BEGIN we want.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("portal_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def init_app(app: Flask) -> None:
    import_models()
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["portal.db"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        current = g.pop("db_session", None)
        if current is not None:
            current.close()


def engine_of(app: Flask) -> Engine:
    return app.extensions["portal.db"].kw["bind"]


def _current_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["portal.db"]()
    return g.db_session


session: Session = LocalProxy(_current_session)  # type: ignore[assignment]


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back on an exception.

    A read transaction the view began is ended first, so the write transaction starts
    fresh (IMMEDIATE on SQLite). Nested calls join the outer unit of work.
    """
    if session.info.get("writing"):
        yield session
        return
    if session.in_transaction():
        session.commit()
    session.info["writing"] = True
    try:
        with session.begin():
            session.connection(execution_options={"portal_write": True})
            yield session
    finally:
        session.info["writing"] = False


class QueryCounter:
    """Counts the SQL statements an engine runs while active: `with QueryCounter(e) as q:`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement not in ("BEGIN", "BEGIN IMMEDIATE"):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def refresh_statistics(session: Session) -> int:
    """Worker sweep: keep the statistics the query planner picks indexes by. Without them
    SQLite guesses, and a big practice's overdue engagements take 6 ms instead of 0.2. A
    sampled ANALYZE costs milliseconds; it runs at the worker's first sweep, then hourly.
    PostgreSQL's autovacuum does this by itself. Returns the number of analyses run."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return 0
    key = bind.url.render_as_string()
    last = _analyzed_at.get(key)
    if last is not None and time.monotonic() - last < ANALYZE_EVERY_SECONDS:
        return 0
    analyze(session)
    _analyzed_at[key] = time.monotonic()
    return 1


ANALYZE_EVERY_SECONDS = 3600
_analyzed_at: dict[str, float] = {}  # database URL -> when this process last analyzed it


def analyze(session: Session) -> None:
    """Refresh the planner's statistics now, as after a bulk load. On SQLite it samples at
    most 1,000 rows per index, which is what the planner needs and stays cheap at any size."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA analysis_limit = 1000"))
    session.execute(text("ANALYZE"))
    session.commit()
