"""`portal backup DIR` and `portal restore DIR`: the database and every stored file of an
instance in one directory, with a manifest that says what is in it.

A backup takes one consistent snapshot of the database (SQLite's online backup API, or
pg_dump inside an exported snapshot), then copies the stored files. Uploads store their
file before they commit its row, and deletions commit the row's removal before they delete
its file, so every file a row of the snapshot points to is still there when the files are
copied afterwards. Only a removal that commits after the snapshot can take such a file
away; the copy then finds it missing and the snapshot is taken again. Nothing is locked
longer than a read takes: the app and the worker go on meanwhile.

A restore goes into an empty instance only. It checks every part against the manifest
before it changes anything, then puts the database and the files in place and migrates
the database to this code's newest revision.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from botocore.exceptions import ClientError
from flask import Flask
from sqlalchemy import Connection, column, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from portal import clock, migrate
from portal.audit.service import chain_keys
from portal.db import make_engine
from portal.documents.storage import (
    TEMP_PREFIX,
    FileMissing,
    LocalStorage,
    S3Storage,
    Storage,
    is_valid_key,
    temp_prefix,
)

FORMAT = 1  # of the manifest and the directory's layout; a restore refuses newer ones
MANIFEST = "manifest.json"
DATABASE_PARTS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILES = "files"
SNAPSHOT_ATTEMPTS = 3
CHUNK_SIZE = 1024 * 1024

Report = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why, in one line."""


@dataclass(frozen=True)
class Snapshot:
    """What one snapshot of the database holds, read from the snapshot itself."""

    revision: str | None
    rows: dict[str, int]  # table -> number of rows
    referenced: dict[str, str]  # stored file key -> a table whose rows point to it


@dataclass
class BackupResult:
    directory: Path
    manifest: dict[str, Any]
    # Files rows of the snapshot point to that storage did not have at all (lost before
    # the backup began); everything else the backup holds.
    missing: list[dict[str, str]] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.manifest["parts"]) - 1

    @property
    def file_bytes(self) -> int:
        return sum(part["size"] for part in self.manifest["parts"][1:])


@dataclass(frozen=True)
class RestoreResult:
    created_at: str
    revision_from: str
    revision_to: str
    practices: int
    clients: int
    files: int
    audit_events: int
    missing: int  # files the backup already lacked (see BackupResult.missing)


def _silent(_line: str) -> None:
    pass


# --- backup --------------------------------------------------------------------------------

def backup(app: Flask, directory: Path, report: Report = _silent) -> BackupResult:
    """Write the database snapshot, then the stored files, then the manifest into a new or
    empty directory. The manifest comes last: a directory without one is no backup."""
    directory = Path(directory)
    _refuse_non_empty_directory(directory)
    url = app.config["DATABASE_URL"]
    kind = database_kind(url)
    files = _files_of(app.extensions["portal.storage"])
    if kind == "postgresql":
        _client_tool("pg_dump")  # before anything is written
    directory.mkdir(parents=True, exist_ok=True)
    part = directory / DATABASE_PARTS[kind]
    copied: dict[str, dict[str, Any]] = {}  # key -> its manifest entry
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        part.unlink(missing_ok=True)
        snapshot = _snapshot_sqlite(url, part) if kind == "sqlite" else \
            _snapshot_postgresql(url, part)
        report(f"database: {kind} at revision {snapshot.revision}, "
               f"{sum(snapshot.rows.values())} rows in {len(snapshot.rows)} tables")
        _copy_files(files, directory, copied, report)
        missing = sorted(set(snapshot.referenced) - copied.keys())
        if not missing:
            break
        if attempt < SNAPSHOT_ATTEMPTS:
            report(f"{len(missing)} file(s) the snapshot points to were deleted since: "
                   "taking the snapshot again")
    lost = [{"key": key, "table": snapshot.referenced[key]} for key in missing]
    manifest = {
        "format": FORMAT,
        "portal_version": _portal_version(),
        "created_at": clock.now().isoformat(),
        "database": kind,
        "alembic_revision": snapshot.revision,
        "rows": snapshot.rows,
        # The database first, then every stored file; paths relative to the directory.
        "parts": [_entry(directory, part)] + [copied[key] for key in sorted(copied)],
        "missing_files": lost,
    }
    os.sync()  # every part on disk before the manifest says the backup is complete
    _write_manifest(directory, manifest)
    return BackupResult(directory=directory, manifest=manifest, missing=lost)


def _refuse_non_empty_directory(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise BackupError(f"{directory} is not a directory")
    if directory.is_dir() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new or empty "
                          "directory (e.g. one named after the date)")


def _snapshot_sqlite(url: str, part: Path) -> Snapshot:
    source = sqlite3.connect(_sqlite_path(url), timeout=30)
    try:
        target = sqlite3.connect(part)
        try:
            # All pages in one step: one read transaction, which WAL lets writers work
            # beside. A step at a time would start over whenever the app writes.
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            target.close()
    finally:
        source.close()
    engine = create_engine(f"sqlite:///{part}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return _read_snapshot(connection)
    finally:
        engine.dispose()


def _snapshot_postgresql(url: str, part: Path) -> Snapshot:
    """pg_dump reads the snapshot this transaction exports, so the counts and file keys
    read here are exactly those of the dump."""
    pg_dump = _client_tool("pg_dump")
    dbname, env = _libpq(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True) as connection:
            exported = connection.scalar(text("SELECT pg_export_snapshot()"))
            _run([pg_dump, "--format=custom", f"--snapshot={exported}", "--no-password",
                  f"--file={part}", f"--dbname={dbname}"], env)
            snapshot = _read_snapshot(connection)
            connection.rollback()
            return snapshot
    finally:
        engine.dispose()


def _read_snapshot(connection: Connection) -> Snapshot:
    """Tables, row counts and the stored files rows point to (every storage_key column,
    as the storage sweep counts them), from the schema as it is in the snapshot."""
    inspector = inspect(connection)
    names = sorted(inspector.get_table_names())
    rows = {name: connection.scalar(select(func.count()).select_from(table(name))) or 0
            for name in names if name != "alembic_version"}
    revision = None
    if "alembic_version" in names:
        revision = ",".join(sorted(connection.scalars(
            select(column("version_num")).select_from(table("alembic_version")))))
    referenced: dict[str, str] = {}
    for name in names:
        if any(c["name"] == "storage_key" for c in inspector.get_columns(name)):
            key = column("storage_key")
            for value in connection.scalars(
                    select(key).select_from(table(name)).where(key.is_not(None))):
                if value:
                    referenced.setdefault(value, name)
    return Snapshot(revision=revision or None, rows=rows, referenced=referenced)


def _copy_files(files: _Files, directory: Path, copied: dict[str, dict[str, Any]],
                report: Report) -> None:
    """Every stored file not copied yet, including those written after the snapshot (a
    restore has them without rows: the storage sweep removes them after the grace time)."""
    before = len(copied)
    for key in files.stored_keys():
        if key in copied:
            continue
        path = PurePosixPath(FILES, key[:2], key[2:4], key)
        destination = directory / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            size, digest = _write(destination, files.chunks(key))
        except FileMissing:  # deleted since it was listed
            destination.unlink(missing_ok=True)
            continue
        copied[key] = {"path": str(path), "size": size, "sha256": digest}
    report(f"files: {len(copied) - before} copied")


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    temporary = directory / f".{MANIFEST}.tmp"
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1, ensure_ascii=False)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, directory / MANIFEST)
    _fsync_directory(directory)


# --- restore -------------------------------------------------------------------------------

def restore(app: Flask, directory: Path, report: Report = _silent) -> RestoreResult:
    """Into an empty instance only: every part is checked against the manifest first, then
    the database is put in place, then the files, then the schema is migrated to head."""
    directory = Path(directory)
    manifest = _read_manifest(directory)
    url = app.config["DATABASE_URL"]
    kind = database_kind(url)
    if manifest["database"] != kind:
        raise BackupError(f"the backup holds a {manifest['database']} database and "
                          f"PORTAL_DATABASE_URL names {kind}: restore into the same kind")
    revision = manifest.get("alembic_revision")
    _check_revision_known(url, revision)
    files = _files_of(app.extensions["portal.storage"])
    _refuse_non_empty_database(url)
    database_part, file_parts = _parts(manifest)
    if kind == "postgresql":
        _client_tool("pg_restore")
    _verify(directory, manifest["parts"], report)

    source = directory / database_part["path"]
    if kind == "sqlite":
        _restore_sqlite(source, url)
    else:
        _restore_postgresql(source, url)
    _check_rows(url, manifest["rows"])
    report(f"database: restored at revision {revision}")
    _restore_files(files, directory, file_parts)
    report(f"files: {len(file_parts)} restored")
    with app.app_context():
        key = chain_keys()[0]
    migrate.upgrade(url, "head", key)  # an older backup's audit chains are keyed on the way
    head = ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
    counts = _counts(url, ("practices", "clients", "audit_events"))
    return RestoreResult(
        created_at=manifest["created_at"], revision_from=str(revision), revision_to=str(head),
        practices=counts["practices"], clients=counts["clients"], files=len(file_parts),
        audit_events=counts["audit_events"], missing=len(manifest.get("missing_files", [])))


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST}: not a backup, or one that did "
                          "not finish")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise BackupError(f"{path} is not readable JSON: {problem}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
        raise BackupError(f"{path} is not a backup manifest")
    if manifest["format"] > FORMAT:
        raise BackupError(f"the backup has format {manifest['format']}, this portal reads "
                          f"up to {FORMAT}: restore it with the version that made it "
                          f"({manifest.get('portal_version')}) or newer")
    for name in ("database", "parts", "rows", "created_at"):
        if name not in manifest:
            raise BackupError(f"{path} has no {name!r}")
    return manifest


def _parts(manifest: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    parts = manifest["parts"]
    expected = DATABASE_PARTS[manifest["database"]]
    if not parts or parts[0].get("path") != expected:
        raise BackupError(f"the manifest names no database part {expected}")
    for part in parts[1:]:
        path = PurePosixPath(part.get("path", ""))
        if path.parts[:1] != (FILES,) or not is_valid_key(path.name):
            raise BackupError(f"the manifest names a file outside {FILES}/: {path}")
    return parts[0], parts[1:]


def _check_revision_known(url: str, revision: str | None) -> None:
    if not revision:
        raise BackupError("the backup's database has no schema revision (alembic_version)")
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    try:
        for one in revision.split(","):
            if script.get_revision(one) is None:
                raise CommandError(one)
    except CommandError:
        raise BackupError(f"the backup's schema revision {revision} is unknown to this "
                          "portal: restore it with the version that made it or a newer one"
                          ) from None


def _refuse_non_empty_database(url: str) -> None:
    """Any row in any table (but Alembic's own) makes the instance not empty."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            names = [n for n in inspect(connection).get_table_names() if n != "alembic_version"]
            if "practices" in names:
                slugs = list(connection.scalars(text("SELECT slug FROM practices "
                                                     "ORDER BY slug LIMIT 4")))
                if slugs:
                    raise BackupError(
                        f"the database already holds practices ({', '.join(slugs[:3])}"
                        f"{', ...' if len(slugs) > 3 else ''}): restore only into an empty "
                        "database")
            for name in sorted(names):
                if connection.scalar(select(text("1")).select_from(table(name)).limit(1)):
                    raise BackupError(f"the database is not empty (table {name} has rows): "
                                      "restore only into an empty database")
    finally:
        engine.dispose()


def _verify(directory: Path, parts: list[dict[str, Any]], report: Report) -> None:
    for part in parts:
        path = directory / part["path"]
        if not path.is_file():
            raise BackupError(f"{part['path']} is missing from the backup; nothing was "
                              "restored")
        size = path.stat().st_size
        digest = _hash(path)
        if size != part["size"] or digest != part["sha256"]:
            raise BackupError(f"{part['path']} does not match the manifest (its SHA-256 or "
                              "size differs): the backup is damaged; nothing was restored")
    report(f"checked: {len(parts)} part(s) match the manifest")


def _restore_sqlite(source: Path, url: str) -> None:
    target = Path(_sqlite_path(url))
    target.parent.mkdir(parents=True, exist_ok=True)
    backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        database = sqlite3.connect(target, timeout=30)
        try:
            backup_file.backup(database)  # replaces whatever the target held (no rows)
            database.execute("PRAGMA journal_mode=WAL")
        finally:
            database.close()
    finally:
        backup_file.close()


def _restore_postgresql(source: Path, url: str) -> None:
    pg_restore = _client_tool("pg_restore")
    _drop_tables(url)
    dbname, env = _libpq(url)
    # One transaction that stops at the first error: all of the dump or nothing.
    _run([pg_restore, "--no-owner", "--clean", "--if-exists", "--single-transaction",
          "--exit-on-error", "--no-password", f"--dbname={dbname}", str(source)], env)


def _drop_tables(url: str) -> None:
    """An empty database migrated by newer code has tables the backup's revision has not;
    left in place, the migrations after the restore would fail to create them. They hold
    no rows (checked before), so they go."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            names = inspect(connection).get_table_names()
            if names:
                quote = connection.dialect.identifier_preparer.quote
                connection.execute(text(
                    f"DROP TABLE IF EXISTS {', '.join(quote(n) for n in names)} CASCADE"))
    finally:
        engine.dispose()


def _check_rows(url: str, expected: dict[str, int]) -> None:
    restored = _counts(url, tuple(expected))
    for name, count in expected.items():
        if restored[name] != count:
            raise BackupError(f"the restored table {name} has {restored[name]} rows, the "
                              f"backup {count}")


def _counts(url: str, names: Iterable[str]) -> dict[str, int]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {name: connection.scalar(select(func.count()).select_from(table(name)))
                    or 0 for name in names}
    finally:
        engine.dispose()


def _restore_files(files: _Files, directory: Path, parts: list[dict[str, Any]]) -> None:
    for part in parts:
        key = PurePosixPath(part["path"]).name
        if files.size(key) == part["size"]:
            continue  # already there (keys are never reused): a restore run again
        with (directory / part["path"]).open("rb") as source:
            files.put(key, source)
    if isinstance(files, _LocalFiles):
        os.sync()


# --- stored files, by backend --------------------------------------------------------------

class _Files:
    """What backup and restore need of a storage backend beyond the Storage interface:
    list every key, and store a file under a key of its own choosing."""

    def stored_keys(self) -> Iterator[str]:
        raise NotImplementedError

    def chunks(self, key: str) -> Iterator[bytes]:
        raise NotImplementedError

    def size(self, key: str) -> int | None:
        raise NotImplementedError

    def put(self, key: str, source: BinaryIO) -> None:
        raise NotImplementedError


class _LocalFiles(_Files):
    def __init__(self, store: LocalStorage) -> None:
        self.store = store

    def stored_keys(self) -> Iterator[str]:
        for path in self.store.root.glob("??/??/*"):
            name = path.name
            if not name.startswith(TEMP_PREFIX) and is_valid_key(name) and \
                    name[:2] == path.parent.parent.name and name[2:4] == path.parent.name:
                yield name

    def chunks(self, key: str) -> Iterator[bytes]:
        with self.store.open(key) as stream:
            while chunk := stream.read(CHUNK_SIZE):
                yield chunk

    def size(self, key: str) -> int | None:
        try:
            return self.store.size(key)
        except FileMissing:
            return None

    def put(self, key: str, source: BinaryIO) -> None:
        path = self.store._path(key)  # the backend's own layout (ab/cd/key)
        for folder in (path.parent.parent, path.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix())
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_SIZE)
            written = clock.now().timestamp()  # the sweep's grace time runs from the restore
            os.utime(temporary, (written, written))
            os.replace(temporary, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


class _S3Files(_Files):
    def __init__(self, store: S3Storage) -> None:
        self.store = store

    def stored_keys(self) -> Iterator[str]:
        prefix = self.store.prefix
        pages = self.store.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.store.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(prefix):]
                if is_valid_key(key):
                    yield key

    def chunks(self, key: str) -> Iterator[bytes]:
        try:
            response = self.store.client.get_object(Bucket=self.store.bucket,
                                                    Key=self.store.prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise FileMissing(key) from None
            raise
        body = response["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def size(self, key: str) -> int | None:
        try:
            return self.store.size(key)
        except FileMissing:
            return None

    def put(self, key: str, source: BinaryIO) -> None:
        self.store.client.upload_fileobj(source, self.store.bucket, self.store.prefix + key)


def _files_of(store: Storage) -> _Files:
    if isinstance(store, LocalStorage):
        return _LocalFiles(store)
    if isinstance(store, S3Storage):
        return _S3Files(store)
    raise BackupError(f"backups do not know the storage {store!r}")


# --- small helpers -------------------------------------------------------------------------

def database_kind(url: str) -> str:
    kind = make_url(url).get_backend_name()
    if kind not in DATABASE_PARTS:
        raise BackupError(f"backups know SQLite and PostgreSQL databases, not {kind}")
    return kind


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError(f"{url} is not a database file")
    return path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """SQLAlchemy's postgresql+psycopg://... as the URL libpq's tools take, the password
    in the environment rather than on a command line every user can read."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _client_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools, the "
                          "server's major version or newer (Debian: apt install "
                          "postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{Path(command[0]).name} failed: "
                          f"{lines[-1] if lines else f'exit status {done.returncode}'}")


def _write(destination: Path, chunks: Iterable[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with destination.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _entry(directory: Path, path: Path) -> dict[str, Any]:
    return {"path": path.relative_to(directory).as_posix(), "size": path.stat().st_size,
            "sha256": _hash(path)}


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _portal_version() -> str:
    try:
        return metadata.version("portal")
    except metadata.PackageNotFoundError:
        return "unknown"
