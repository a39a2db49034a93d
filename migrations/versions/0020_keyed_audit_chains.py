"""The audit log's chains are keyed: each event's hash becomes an HMAC-SHA256 under a key
kept outside the database (portal.audit.service.chain_keys). The events recorded before
this revision are chained with plain SHA-256; this rewrites each practice's chain with the
key `portal db upgrade` passes in, after checking it as it was. Where an old chain is
already broken, the part before the break is rewritten and the rest is left as it is, so
the next check reports the break at the same event.

Self-contained on purpose: a migration must do the same whatever the app's code becomes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 05:00:00
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from portal.db import UTCDateTime

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

GENESIS = "0" * 64
CONTENT = ("practice_id", "created_at", "actor_type", "actor_id", "actor_label", "action",
           "subject_type", "subject_id", "client_id", "data", "ip", "user_agent")
BATCH = 1000

events = sa.table(
    "audit_events", sa.column("id", sa.Integer), sa.column("practice_id", sa.Integer),
    sa.column("created_at", UTCDateTime), sa.column("actor_type", sa.String),
    sa.column("actor_id", sa.Integer), sa.column("actor_label", sa.String),
    sa.column("action", sa.String), sa.column("subject_type", sa.String),
    sa.column("subject_id", sa.Integer), sa.column("client_id", sa.Integer),
    sa.column("data", sa.JSON), sa.column("ip", sa.String), sa.column("user_agent", sa.String),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
checks = sa.table("audit_checks", sa.column("practice_id", sa.Integer),
                  sa.column("head_id", sa.Integer), sa.column("head_hash", sa.String))


def _content(row: Any) -> bytes:
    content = {name: getattr(row, name) for name in CONTENT}
    content["created_at"] = row.created_at.isoformat()
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def upgrade() -> None:
    connection = op.get_bind()
    practices = connection.execute(
        sa.select(events.c.practice_id).distinct().order_by(events.c.practice_id)).scalars()
    practices = list(practices)
    if not practices:
        return
    key = context.config.attributes.get("audit_key")
    if not key:
        raise RuntimeError("This revision rewrites the audit log's chains with their key: "
                           "run it with `portal db upgrade`, which knows the key.")
    for practice_id in practices:
        _rekey(connection, practice_id, key)


def _rekey(connection: Any, practice_id: int, key: bytes) -> None:
    rows = connection.execute(
        sa.select(events).where(events.c.practice_id == practice_id).order_by(events.c.id))
    stored_prev, new_prev, changed, head = GENESIS, GENESIS, [], {}
    for row in rows:
        content = _content(row)
        if row.prev_hash != stored_prev or row.hash != hashlib.sha256(
                row.prev_hash.encode() + content).hexdigest():
            log.warning("audit chain of practice %s is broken at event %s: left as it is "
                        "from there on", practice_id, row.id)
            break
        stored_prev = row.hash
        new_hash = hmac.new(key, new_prev.encode() + content, hashlib.sha256).hexdigest()
        changed.append({"event_id": row.id, "new_prev": new_prev, "new_hash": new_hash})
        head[row.hash] = new_hash
        new_prev = new_hash
    update = (events.update().where(events.c.id == sa.bindparam("event_id"))
              .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")))
    for start in range(0, len(changed), BATCH):
        connection.execute(update, changed[start:start + BATCH])
    # The newest event the last check read is kept by its hash: it is that event's new one.
    reference = connection.execute(sa.select(checks.c.head_hash).where(
        checks.c.practice_id == practice_id)).scalar()
    if reference in head:
        connection.execute(checks.update().where(checks.c.practice_id == practice_id)
                           .values(head_hash=head[reference]))


def downgrade() -> None:
    # Nothing to undo in the schema. The chains stay keyed (they cannot be turned back
    # without proving they held): older code would report them as changed, so go back to
    # it with a backup made before this revision.
    if op.get_bind().execute(sa.select(events.c.id).limit(1)).first() is not None:
        log.warning("audit chains stay keyed: the code before revision 0020 reports them "
                    "as changed")
