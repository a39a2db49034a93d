"""The outbox: the only way to send mail, inside the transaction of the change causing it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import audit
from portal.audit import Actor
from portal.clock import now
from portal.db import transaction
from portal.notifications.mail import Branded, Mail, render_mail
from portal.notifications.models import OutboxMessage


class NotInTransaction(RuntimeError):
    """enqueue() outside transaction(): the mail would not be atomic with its cause."""


def enqueue(session: Session, practice: Branded, mail: Mail,
            deliver_at: datetime | None = None) -> None:
    """Queue one mail. A rolled-back transaction takes the mail with it."""
    enqueue_many(session, practice, [mail], deliver_at=deliver_at)


def enqueue_many(session: Session, practice: Branded, mails: Iterable[Mail],
                 deliver_at: datetime | None = None) -> int:
    """Queue mails in one statement. A mail whose dedupe key was queued before is skipped."""
    if not session.info.get("writing"):
        raise NotInTransaction("enqueue mail inside db.transaction() with its cause")
    moment = deliver_at or now()
    rows = []
    for mail in mails:
        rendered = render_mail(practice, mail)
        rows.append({
            "practice_id": practice.id,
            "kind": mail.kind,
            "recipient": mail.to,
            "recipient_name": mail.to_name,
            "sender_name": practice.mail_sender_name or practice.name,
            "reply_to": mail.reply_to or practice.reply_to,
            "subject": rendered.subject,
            "text_body": rendered.text,
            "html_body": rendered.html,
            "dedupe_key": mail.dedupe_key,
            "state": "queued",
            "attempts": 0,
            "next_attempt_at": moment,
            "created_at": now(),
        })
    if rows:
        _insert_skipping_duplicates(session, rows)
    return len(rows)


def _insert_skipping_duplicates(session: Session, rows: Sequence[dict]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    session.execute(statement, rows)


def problems(session: Session, practice_id: int, *, limit: int, offset: int = 0
             ) -> tuple[list[OutboxMessage], int]:
    """Queued and failed mails of one practice, failures first, newest first."""
    query = select(OutboxMessage).where(OutboxMessage.practice_id == practice_id,
                                        OutboxMessage.state.in_(("queued", "failed", "sending")))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(
        query.order_by((OutboxMessage.state == "failed").desc(), OutboxMessage.id.desc())
        .limit(limit).offset(offset)
    ).all()
    return list(rows), total or 0


def send_again(session: Session, actor: Actor, message: OutboxMessage) -> bool:
    """Put a failed (or waiting) mail back in line for the next pass of the worker."""
    with transaction(session):
        changed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.practice_id == actor.practice_id,
                   OutboxMessage.state.in_(("failed", "queued")))
            .values(state="queued", attempts=0, next_attempt_at=now(), last_error=None)
        ).rowcount
        if changed:
            audit.record(session, actor, "mail.send_again", message, to=message.recipient)
    return changed == 1
