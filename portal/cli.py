"""The `portal` command: a FlaskGroup over create_app (run, db, demo, ...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from portal import create_app, migrate
from portal.config import ConfigError


class PortalGroup(FlaskGroup):
    """FlaskGroup whose --help needs no settings: without them it lists the portal's own
    commands (and plugins') instead of printing the app's traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigError:
            self._load_plugin_commands()  # what FlaskGroup.list_commands does first
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


@click.group(cls=PortalGroup, create_app=lambda: create_app(), add_version_option=False)
def cli() -> None:
    """Client portal for accounting practices."""


@cli.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    from portal.audit.service import chain_keys

    migrate.upgrade(current_app.config["DATABASE_URL"], revision, chain_keys()[0])
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between models and database."""
    migrate.revision(current_app.config["DATABASE_URL"], message)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print only the logins as JSON.")
@with_appcontext
def demo(as_json: bool) -> None:
    """Load the demo practices, users and clients (idempotent)."""
    from portal import demo as demo_data

    logins = demo_data.load()
    if as_json:
        click.echo(json.dumps(logins, indent=2, ensure_ascii=False))
        return
    base = current_app.config["BASE_DOMAIN"]
    for practice in logins["practices"]:
        url = f"http://{practice['slug']}.{base}:5000"
        click.echo(f"\n{practice['name']}")
        click.echo(f"  office  {url}/office/login")
        for user in practice["staff"]:
            click.echo(f"          {user['email']:<30} {user['password']}  ({user['role']})")
        click.echo(f"  portal  {url}/login")
        for user in practice["client_users"]:
            click.echo(f"          {user['email']:<30} {user['password']}  "
                       f"({', '.join(user['companies'])})")


@cli.command()
@click.option("--once", is_flag=True, help="Run one pass (sweeps and due mail), then exit.")
@with_appcontext
def worker(once: bool) -> None:
    """Send queued mail and run the periodic sweeps until stopped (SIGTERM)."""
    import logging

    from portal.notifications.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runner = Worker(app, poll_seconds=app.config["WORKER_POLL_SECONDS"],
                    sweep_seconds=app.config["WORKER_SWEEP_SECONDS"])
    if once:
        result = runner.run_pass()
        click.echo(f"sent {result.sent}, to retry {result.retried}, failed {result.failed}; "
                   f"sweeps: {result.swept or 'none'}")
    else:
        runner.run()


@cli.command()
@click.option("--dry-run", is_flag=True, help="Only list what would go out now.")
@with_appcontext
def reminders(dry_run: bool) -> None:
    """Send the reminders that are due now (the worker does this every minute)."""
    from portal import db as database
    from portal.notifications import reminders as engine

    session = database.session
    tiers = current_app.config["REMINDER_TIERS"]
    if dry_run:
        due = engine.due(session, tiers=tiers)
        for task in due:
            when = "after" if task.offset > 0 else "before"
            click.echo(f"{task.kind:<16} {task.title:<50} deadline {task.deadline:%Y-%m-%d} "
                       f"({abs(task.offset)} days {when}) client {task.client_id}")
        click.echo(f"{len(due)} reminder(s) due")
        return
    queued = engine.sweep(session, current_app.extensions.get("portal.reminder_composers", {}),
                          tiers=tiers)
    click.echo(f"{queued} reminder mail(s) queued")


@cli.group("audit")
def audit_log() -> None:
    """The audit log."""


@audit_log.command("verify")
@click.option("--practice", "slug", help="Only this practice (its subdomain name).")
@with_appcontext
def audit_verify(slug: str | None) -> None:
    """Check every practice's chain of events now (the audit page shows the result); exit
    code 1 when one is broken."""
    from sqlalchemy import select

    from portal import db as database
    from portal.audit import service
    from portal.audit.models import AuditEvent
    from portal.tenancy.models import Practice

    session = database.session
    query = select(Practice.id, Practice.slug).order_by(Practice.slug)
    practices = session.execute(query.where(Practice.slug == slug) if slug else query).all()
    if slug and not practices:
        raise click.BadParameter(f"no practice {slug!r}", param_hint="--practice")
    broken = 0
    for practice_id, practice_slug in practices:
        found = service.check(session, practice_id)
        session.rollback()
        if found.finding == service.INTACT:
            click.echo(f"{practice_slug}: ok")
            continue
        broken += 1
        event = session.get(AuditEvent, found.broken_id)
        if found.finding == service.SHORTENED or event is None:
            click.echo(f"{practice_slug}: BROKEN: event {found.broken_id}, the newest at an "
                       "earlier check, is gone or changed: events were removed from the end")
            continue
        what = "was changed" if found.finding == service.CHANGED else \
            "follows a removed or changed event"
        click.echo(f"{practice_slug}: BROKEN at event {event.id} ({event.action}, "
                   f"{event.created_at:%Y-%m-%d %H:%M:%S} UTC): it {what}")
    for practice_id, practice_slug in practices:
        broken += _verify_anchors(session, practice_id, practice_slug)
    if broken:
        raise SystemExit(1)


def _verify_anchors(session: Any, practice_id: int, slug: str) -> int:
    """Print what the practice's anchors say; returns 1 when one no longer holds."""
    from portal.audit import anchors

    found = anchors.verify(session, practice_id, current_app.config.get("TSA_CERT"))
    session.rollback()
    if not found:
        return 0
    for finding in found:
        row = finding.anchor
        if finding.problem:
            click.echo(f"{slug}: BROKEN: anchor {row.id} of event {row.event_id} "
                       f"({row.created_at:%Y-%m-%d %H:%M} UTC): {finding.problem}")
        elif row.state == anchors.PENDING:
            click.echo(f"{slug}: anchor {row.id} of event {row.event_id} is not timestamped "
                       f"yet ({row.attempts} attempt(s); {row.last_error})")
    problems = [f for f in found if f.problem]
    if not problems:
        stamped = [f for f in found if f.anchor.state == anchors.STAMPED]
        trusted = sum(f.trusted for f in stamped)
        click.echo(f"{slug}: {len(found)} anchor(s) hold; {len(stamped)} timestamped, "
                   f"{trusted} by a trusted server")
    return 1 if problems else 0


@cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def verify_command(file: Path) -> None:
    """Say whether a practice here sealed this PDF, whether it is unchanged, and who
    approved it (as /verify does); exit code 1 unless it is exactly as sealed."""
    from flask_babel import force_locale
    from sqlalchemy import select

    from portal import db as database
    from portal.engagements import sealing
    from portal.tenancy.models import Practice

    session, data = database.session, file.read_bytes()
    for practice_id, slug in session.execute(select(Practice.id, Practice.slug)
                                             .order_by(Practice.id)):
        with force_locale("en"):
            verdict = sealing.verify(session, practice_id, data)
        if verdict.outcome == "unknown":
            continue
        if verdict.sealed is None:
            click.echo(f"{slug}: NOT the file that was sealed: {verdict.problem}")
            raise SystemExit(1)
        facts = verdict.facts
        sealed_at = verdict.sealed.sealed_at
        if verdict.outcome == "intact":
            click.echo(f"{slug}: sealed {sealed_at:%Y-%m-%d %H:%M:%S} UTC and unchanged since"
                       f"{'' if verdict.trusted else ' (the seal is not trusted)'}")
        else:
            click.echo(f"{slug}: sealed {sealed_at:%Y-%m-%d %H:%M:%S} UTC, but CHANGED: "
                       f"{verdict.problem}")
        click.echo(f"  {facts['engagement'].label}, version {facts['version'].number}, "
                   f"approved file SHA-256 {facts['version'].sha256}")
        for person in facts["signers"]:
            when = f"{person.decided_at:%Y-%m-%d %H:%M:%S} UTC" if person.decided_at else "-"
            click.echo(f"  {person.email}: {person.decision or 'no decision'}, {when}")
        for later in verdict.later_versions:
            click.echo(f"  a later version exists: version {later.number}, uploaded "
                       f"{later.uploaded_at:%Y-%m-%d} UTC")
        if verdict.outcome != "intact":
            raise SystemExit(1)
        return
    click.echo("not sealed by any practice here, or not a PDF")
    raise SystemExit(1)


@cli.group("storage")
def storage_group() -> None:
    """Stored files (documents, reports)."""


@storage_group.command("gc")
@click.option("--grace-hours", type=int, default=None,
              help="Leave unreferenced files younger than this (default: "
                   "PORTAL_STORAGE_GRACE_HOURS).")
@with_appcontext
def storage_gc(grace_hours: int | None) -> None:
    """Purge documents deleted over 30 days ago, then delete stored files no row points to."""
    from datetime import timedelta

    from portal import db as database
    from portal.documents import files, service

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store = files.storage()
    grace = files.grace(app) if grace_hours is None else timedelta(hours=grace_hours)
    purged = service.purge_deleted(database.session, store)
    removed = service.collect_garbage(database.session, store, grace)
    click.echo(f"{purged} deleted document(s) purged, {removed} unreferenced file(s) removed "
               f"from {store!r}")




@cli.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted, and when.")
@with_appcontext
def retention(dry_run: bool) -> None:
    """Delete the data of ended collaborations whose retention period has passed."""
    from portal import db as database
    from portal.clock import AMSTERDAM, now
    from portal.collaboration import retention as engine
    from portal.documents import files

    session = database.session
    if dry_run:
        planned = engine.plan(session)
        for client, with_export in planned:
            # The day in Amsterdam, as the client's page says it; not the day in UTC.
            day = client.purge_after.astimezone(AMSTERDAM)
            when = "now" if client.purge_after <= now() else f"{day:%Y-%m-%d}"
            extra = " (an export for the practice first)" if with_export else ""
            click.echo(f"{client.client_number:<10} {client.name:<40} {client.status:<7} "
                       f"deleted {when}{extra}")
        click.echo(f"{len(planned)} ended client(s); nothing was deleted")
        return
    click.echo(f"{engine.sweep(session, files.storage())} client(s) deleted")


@cli.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Write the database and every stored file into DIRECTORY (new or empty), with a
    manifest; safe while the app and the worker run. Exit code 1 when rows point to files
    storage does not have."""
    import time

    from portal.operations import backup as operations

    started = time.monotonic()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        made = operations.backup(app, directory, report=click.echo)
    except operations.BackupError as problem:
        raise click.ClickException(str(problem)) from None
    manifest = made.manifest
    click.echo(f"backup in {directory}: {manifest['database']} database at revision "
               f"{manifest['alembic_revision']}, {made.files} file(s) "
               f"({made.file_bytes / 1e6:.1f} MB), {time.monotonic() - started:.1f} s")
    if made.missing:
        shown = ", ".join(f"{m['key']} ({m['table']})" for m in made.missing[:3])
        click.echo(f"WARNING: {len(made.missing)} file(s) that rows point to are not in "
                   f"storage at all: {shown}", err=True)
        raise SystemExit(1)


@cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Restore a backup from DIRECTORY into this empty instance (its database and storage),
    then migrate the database to this version's schema."""
    from datetime import UTC, datetime

    from portal.operations import backup as operations

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        done = operations.restore(app, directory, report=click.echo)
    except operations.BackupError as problem:
        raise click.ClickException(str(problem)) from None
    made = datetime.fromisoformat(done.created_at).astimezone(UTC)
    click.echo(f"restored the backup of {made:%Y-%m-%d %H:%M} UTC (revision {done.revision_from}, "
               f"now {done.revision_to}): {done.practices} practice(s), {done.clients} "
               f"client(s), {done.files} file(s), {done.audit_events} audit event(s)")
    if done.missing:
        click.echo(f"WARNING: {done.missing} file(s) were already missing when the backup "
                   "was made (listed in its manifest.json)", err=True)


def main() -> None:
    """The console script. A missing or malformed setting is one line, not a traceback;
    --help needs no settings at all (FlaskGroup lists the commands without an app)."""
    try:
        cli.main(standalone_mode=True)
    except ConfigError as problem:
        click.echo(f"portal: {problem}", err=True)
        raise SystemExit(2) from None
