"""`portal backup` and `portal restore`: a backup of a busy instance restores into an empty
one with every row of its snapshot, every file those rows point to and an intact audit
chain; a damaged backup or a non-empty instance is refused before anything changes."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import column, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from portal import create_app, migrate
from portal import db as portal_db
from portal.audit import Actor
from portal.cli import cli
from portal.documents.storage import LocalStorage, S3Storage
from portal.operations import backup as operations
from tests.conftest import BASE_DOMAIN, PG_URL
from tests.factories import PDF, Factory

MB = 1024 * 1024


# --- instances ---------------------------------------------------------------------------

@pytest.fixture
def instance(database, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """`instance("restored")`: an app on a database and storage of its own, both empty;
    the database migrated to head (as after `portal db upgrade`) unless migrated=False."""
    apps: list[Flask] = []
    databases: list[str] = []

    def build(name: str, *, migrated: bool = True, revision: str = "head",
              storage_url: str | None = None, **config: Any) -> Flask:
        if PG_URL:
            database_name = f"{database.name}_{name[:6]}_{uuid.uuid4().hex[:6]}"
            with database.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database_name}"'))
            databases.append(database_name)
            url = make_url(PG_URL).set(database=database_name).render_as_string(
                hide_password=False)
        else:
            url = f"sqlite:///{tmp_path / name / 'portal.sqlite3'}"
            (tmp_path / name).mkdir(exist_ok=True)
        if migrated:
            migrate.upgrade(url, revision)
        app = create_app({
            "TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp_path / name / "instance"), "BASE_DOMAIN": BASE_DOMAIN,
            "PASSWORD_HASH_FAST": True, "RATELIMIT_STORAGE_URI": "memory://",
            "STORAGE_URL": storage_url or f"file://{tmp_path / name / 'storage'}", **config})
        apps.append(app)
        return app

    yield build
    for app in apps:
        portal_db.engine_of(app).dispose()
    for name in databases:
        with database.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def world(make: Factory) -> dict[str, Any]:
    practice = make.practice("demo")
    admin = make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    company = make.client(practice, name="Bakkerij De Korst")
    sanne = make.client_user(practice, company, email="sanne@korst.example", name="Sanne")
    make.report(make.engagement(company, responsible_id=admin.id))
    return {"practice": practice, "admin": admin, "company": company, "sanne": sanne}


def upload(app: Flask, people: dict[str, Any], data: bytes, name: str) -> None:
    """The client sends a document: a row, an audit event and a mail to the practice."""
    from portal.clients.models import Client
    from portal.documents import service
    from portal.tenancy.models import Practice

    with app.app_context():
        session = portal_db.session
        practice = session.get(Practice, people["practice"].id)
        company = session.get(Client, people["company"].id)
        service.upload_from_client(
            session, Actor(practice.id, "client", people["sanne"].id, people["sanne"].email),
            app.extensions["portal.storage"], practice, company,
            [service.Incoming(io.BytesIO(data), name)], max_bytes=10 * MB)


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    """The `portal` command, on this app."""
    return app.test_cli_runner().invoke(cli, list(args))


def counts(app: Flask) -> dict[str, int]:
    engine = portal_db.engine_of(app)
    with engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
        return {n: conn.scalar(select(func.count()).select_from(table(n))) for n in names}


def rows(app: Flask, name: str, *columns: str) -> set[tuple[Any, ...]]:
    with portal_db.engine_of(app).connect() as conn:
        query = select(*(column(c) for c in columns)).select_from(table(name))
        return {tuple(row) for row in conn.execute(query)}


def stored_files(app: Flask) -> dict[str, str]:
    """Every file in the app's storage: key -> SHA-256 of its bytes."""
    found = {}
    with app.app_context():
        files = operations._files_of(app.extensions["portal.storage"])
        for key in files.stored_keys():
            found[key] = hashlib.sha256(b"".join(files.chunks(key))).hexdigest()
    return found


def referenced_files(app: Flask) -> dict[str, str]:
    """key -> SHA-256 the row says, for every row with a stored file."""
    found = {}
    with portal_db.engine_of(app).connect() as conn:
        for name in inspect(conn).get_table_names():
            names = {c["name"] for c in inspect(conn).get_columns(name)}
            if {"storage_key", "sha256"} <= names:
                query = select(column("storage_key"), column("sha256")).select_from(
                    table(name)).where(column("storage_key").is_not(None))
                found.update(dict(conn.execute(query).all()))
    return found


# --- a busy instance ---------------------------------------------------------------------

def test_a_backup_of_a_busy_instance_restores_every_row_file_and_the_audit_chain(
        mail_app, smtp, instance, tmp_path):
    make = Factory(mail_app)
    people = world(make)
    for n in range(5):
        upload(mail_app, people, b"kolom;bedrag\n%d;2\n" % n, f"begin{n}.csv")

    from portal.notifications.worker import Worker

    worker = Worker(mail_app, poll_seconds=0.02, sweep_seconds=0.2)
    stop = threading.Event()
    uploads = [0]
    problems: list[BaseException] = []

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                n = uploads[0]
                upload(mail_app, people, b"kolom;bedrag\n%d;%d\n" % (n, n) * 50, f"b{n}.csv")
                if n % 4 == 0:
                    make.client(people["practice"])
                uploads[0] += 1
        except BaseException as problem:  # the test fails on it below
            problems.append(problem)

    def wait_for(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline and not problems, problems
            time.sleep(0.01)

    threads = [threading.Thread(target=worker.run), threading.Thread(target=keep_writing)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: uploads[0] >= 5 and len(smtp.messages) >= 3)

        def report(line: str) -> None:
            if line.startswith("database:"):  # snapshot taken: more uploads before the copy
                after = uploads[0] + 3
                wait_for(lambda: uploads[0] >= after)

        made = operations.backup(mail_app, tmp_path / "backup", report=report)
        during = uploads[0]
        wait_for(lambda: uploads[0] >= during + 2 and len(smtp.messages) > 5)
    finally:
        stop.set()
        worker.stop()
        for thread in threads:
            thread.join(30)
    assert not problems, problems
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest == made.manifest and manifest["missing_files"] == []
    assert manifest["database"] == ("postgresql" if PG_URL else "sqlite")

    restored = instance("restored")
    result = run(restored, "restore", str(tmp_path / "backup"))
    assert result.exit_code == 0, result.output
    assert "1 practice(s)" in result.output

    # Every table has the rows of the snapshot: the manifest's counts, read in it.
    restored_counts, live_counts = counts(restored), counts(mail_app)
    assert {n: restored_counts[n] for n in manifest["rows"]} == manifest["rows"]
    assert restored_counts["documents"] >= 5 + 5  # those before the backup began ...
    assert restored_counts["documents"] < live_counts["documents"]  # ... not those after
    # ... and they are the live instance's rows: the documents, and the chain up to there.
    columns = ("id", "storage_key", "sha256", "name")
    assert rows(restored, "documents", *columns) <= rows(mail_app, "documents", *columns)
    events = rows(restored, "audit_events", "id", "hash")
    last = max(event_id for event_id, _ in events)
    assert events == {e for e in rows(mail_app, "audit_events", "id", "hash") if e[0] <= last}

    # Every file a row points to is there, with the bytes the row says; files written after
    # the snapshot came along without rows (the storage sweep removes them in time).
    files, referenced = stored_files(restored), referenced_files(restored)
    assert referenced and {key: files.get(key) for key in referenced} == referenced
    assert len(files) > len(referenced)

    verified = run(restored, "audit", "verify")
    assert verified.exit_code == 0 and verified.output.strip() == "demo: ok"
    with portal_db.engine_of(restored).connect() as conn:
        version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == manifest["alembic_revision"]


# --- refusals ------------------------------------------------------------------------------

@pytest.fixture
def small(app, make, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """A backup of an instance with a practice, a report and two documents."""
    people = world(make)
    make.document(people["company"], b"kolom;bedrag\n1;2\n", name="een.csv")
    make.document(people["company"], PDF, name="twee.pdf")
    operations.backup(app, tmp_path / "backup")
    return tmp_path / "backup"


def test_a_damaged_file_in_the_backup_is_refused_and_nothing_is_restored(small, instance):
    manifest = json.loads((small / "manifest.json").read_text())
    damaged = manifest["parts"][2]["path"]
    data = bytearray((small / damaged).read_bytes())
    data[0] ^= 0xFF
    (small / damaged).write_bytes(bytes(data))

    restored = instance("restored", migrated=False)
    result = run(restored, "restore", str(small))
    assert result.exit_code == 1
    assert f"Error: {damaged} does not match the manifest" in result.output
    assert "nothing was restored" in result.output
    with portal_db.engine_of(restored).connect() as conn:
        assert inspect(conn).get_table_names() == []
    assert stored_files(restored) == {}


def test_a_damaged_database_in_the_backup_is_refused(small, instance):
    manifest = json.loads((small / "manifest.json").read_text())
    part = small / manifest["parts"][0]["path"]
    part.write_bytes(part.read_bytes()[:-1])

    restored = instance("restored")
    with pytest.raises(operations.BackupError, match=re.escape(f"{part.name} does not match")):
        operations.restore(restored, small)
    assert counts(restored)["practices"] == 0 and stored_files(restored) == {}


def test_restore_into_an_instance_with_data_is_refused(small, app, make):
    before = counts(app)
    result = run(app, "restore", str(small))
    assert result.exit_code == 1
    assert "the database already holds practices (demo): restore only into an empty " \
        "database" in result.output
    assert counts(app) == before


def test_restore_into_an_instance_with_other_rows_is_refused(small, instance):
    restored = instance("restored")
    with portal_db.engine_of(restored).begin() as conn:  # any table, not only the portal's
        conn.execute(text("CREATE TABLE notes (line VARCHAR(20))"))
        conn.execute(text("INSERT INTO notes VALUES ('kept here')"))
    with pytest.raises(operations.BackupError, match="table notes has rows"):
        operations.restore(restored, small)


def test_a_backup_goes_only_into_an_empty_directory(app, make, tmp_path):
    world(make)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("an earlier backup")
    result = run(app, "backup", str(tmp_path / "full"))
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'full'} is not empty" in result.output
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["old.txt"]


def test_a_directory_without_manifest_is_no_backup(app, instance, tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(operations.BackupError, match="holds no manifest"):
        operations.restore(instance("restored", migrated=False), tmp_path / "half")


# --- races and versions ------------------------------------------------------------------

def test_a_file_purged_while_the_backup_runs_leaves_no_row_without_its_file(
        app, make, instance, tmp_path):
    """A removal commits the row's deletion, then deletes the file. Between the snapshot
    and the copy, that takes a file the snapshot points to: the snapshot is taken again."""
    from portal.documents.models import Document

    people = world(make)
    gone = make.document(people["company"], b"weg;1\n", name="weg.csv")
    kept = make.document(people["company"], b"blijft;1\n", name="blijft.csv")
    lines: list[str] = []

    def purge_once(line: str) -> None:
        lines.append(line)
        if line.startswith("database:") and len(lines) == 1:
            with app.app_context():
                portal_db.session.execute(
                    Document.__table__.delete().where(Document.id == gone.id))
                portal_db.session.commit()
                app.extensions["portal.storage"].delete(gone.storage_key)

    made = operations.backup(app, tmp_path / "backup", report=purge_once)
    assert any("taking the snapshot again" in line for line in lines)
    assert made.missing == []

    restored = instance("restored")
    operations.restore(restored, tmp_path / "backup")
    assert rows(restored, "documents", "id") == {(kept.id,)}
    referenced = referenced_files(restored)
    assert {key: stored_files(restored).get(key) for key in referenced} == referenced


def test_a_file_lost_before_the_backup_is_listed_and_the_backup_exits_with_1(
        app, make, instance, tmp_path):
    people = world(make)
    lost = make.document(people["company"], b"kwijt;1\n", name="kwijt.csv")
    app.extensions["portal.storage"].delete(lost.storage_key)  # gone outside the portal

    result = run(app, "backup", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert f"1 file(s) that rows point to are not in storage at all: {lost.storage_key} " \
        "(documents)" in result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["missing_files"] == [{"key": lost.storage_key, "table": "documents"}]
    restored = instance("restored")
    done = operations.restore(restored, tmp_path / "backup")
    assert (done.files, done.missing) == (1, 1)  # the report's file is there


def test_a_backup_of_an_older_schema_restores_into_this_one(instance, tmp_path):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = script.get_current_head()
    older = script.get_revision(head).down_revision
    source = instance("older")
    world(Factory(source))
    portal_db.engine_of(source).dispose()
    migrate.downgrade(source.config["DATABASE_URL"], older)

    made = operations.backup(source, tmp_path / "backup")
    assert made.manifest["alembic_revision"] == older

    restored = instance("restored")  # at head: tables the older schema has not
    done = operations.restore(restored, tmp_path / "backup")
    assert (done.revision_from, done.revision_to) == (older, head)
    assert (done.practices, done.clients, done.files) == (1, 1, 1)
    with portal_db.engine_of(restored).connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
    assert run(restored, "audit", "verify").output.strip() == "demo: ok"


@pytest.mark.skipif(not PG_URL, reason="pg_dump is for PostgreSQL")
def test_without_pg_dump_the_backup_says_what_to_install(app, make, tmp_path, monkeypatch):
    world(make)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run(app, "backup", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: pg_dump not found: install the PostgreSQL client tools, the server's major "
        "version or newer (Debian: apt install postgresql-client)"]
    assert not (tmp_path / "backup").exists()


# --- S3 ----------------------------------------------------------------------------------

CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing",
               "region": "eu-west-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("S3 backups not tested: moto is not installed (pip install 'moto[server]')")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_files_in_s3_are_backed_up_and_restored(small, instance, s3_endpoint, tmp_path):
    """Local files restored into a bucket, backed up from there, restored to a directory."""
    bucket = f"portal-{uuid.uuid4().hex[:12]}"
    settings = {f"S3_{name.upper()}": value for name, value in CREDENTIALS.items()}
    in_s3 = instance("s3", migrated=False, storage_url=f"s3://{bucket}/files",
                     S3_ENDPOINT_URL=s3_endpoint, **settings)
    store = in_s3.extensions["portal.storage"]
    assert isinstance(store, S3Storage)
    store.client.create_bucket(Bucket=bucket,
                               CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    operations.restore(in_s3, small)
    files = stored_files(in_s3)
    assert len(files) == 3 and files == referenced_files(in_s3)

    operations.backup(in_s3, tmp_path / "from-s3")
    local = instance("local", migrated=False)
    assert isinstance(local.extensions["portal.storage"], LocalStorage)
    done = operations.restore(local, tmp_path / "from-s3")
    assert done.files == 3 and stored_files(local) == files
