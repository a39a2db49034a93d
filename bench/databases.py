"""Fresh databases for one bench run: SQLite files in a temporary directory and PostgreSQL
databases created for the run and dropped after it (as tests/conftest.py does). Each is
migrated with `portal db upgrade` and loaded with `portal bench-seed`, the commands a person
would type, in a process of its own so two can load at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import ROOT

PORTAL = [sys.executable, "-c", "from portal.cli import main; main()"]


@dataclass
class Database:
    engine: str  # "sqlite" or "postgresql"
    scale: int
    url: str
    seed: dict[str, Any] = field(default_factory=dict)
    load_seconds: float = 0.0

    @property
    def label(self) -> str:
        return "SQLite" if self.engine == "sqlite" else "PostgreSQL"

    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


def sqlite(directory: Path, scale: int) -> Database:
    return Database("sqlite", scale, f"sqlite:///{directory / f'bench-{scale}x.sqlite3'}")


class PostgresServer:
    """Creates databases on a server for this run only, and drops them afterwards."""

    def __init__(self, url: str) -> None:
        self.server = make_url(url)
        self.run_id = uuid.uuid4().hex[:8]
        self.created: list[str] = []

    def unavailable(self) -> str | None:
        """Why PostgreSQL cannot be used, or None when it answers."""
        import psycopg

        plain = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            psycopg.connect(plain, connect_timeout=3).close()
        except psycopg.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
            return f"no PostgreSQL answers at {self.server.render_as_string()}: {first}"
        return None

    def _admin(self) -> Any:
        return create_engine(self.server, isolation_level="AUTOCOMMIT")

    def database(self, scale: int) -> Database:
        return Database("postgresql", scale, self.empty(f"{scale}x"))

    def empty(self, tag: str) -> str:
        """The URL of a new, empty database for this run (dropped with the others)."""
        name = f"portal_bench_{self.run_id}_{tag}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def version(self) -> str:
        admin = self._admin()
        with admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one().split()[0]
        admin.dispose()
        return f"PostgreSQL {version}"

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = self._admin()
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        self.created.clear()


def load(database: Database, env: dict[str, str], timeout: float = 900) -> Database:
    """`portal db upgrade`, then `portal bench-seed --scale N --json`, in a new process."""
    full_env = {**os.environ, **env, "PORTAL_DATABASE_URL": database.url}
    start = time.perf_counter()
    for command in (["db", "upgrade"], ["bench-seed", "--scale", str(database.scale),
                                        "--json"]):
        done = subprocess.run(PORTAL + command, env=full_env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"`portal {' '.join(command)}` on {database.safe_url()} failed "
                               f"(exit {done.returncode}):\n{done.stderr[-3000:]}")
    database.seed = json.loads(done.stdout)
    database.load_seconds = time.perf_counter() - start
    if database.engine == "postgresql":
        # Autovacuum vacuums and analyses freshly loaded tables within a minute or so; do
        # it now, so the planner sees the data as in production and no autovacuum runs
        # beside the measurements.
        engine = create_engine(database.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
        engine.dispose()
    return database
