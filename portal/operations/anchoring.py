"""The worker's daily anchoring of each practice's audit chain (audit.anchors), mailed to
the practice's admins: the mail is the copy of the anchor that lives outside our database."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import notifications
from portal.accounts.service import active_admins
from portal.audit import anchors
from portal.audit.models import AuditAnchor
from portal.clock import now
from portal.db import transaction
from portal.tenancy.models import Practice


def sweep(session: Session) -> int:
    """Anchor the practices due, ask again where the server failed, mail what is done.
    Returns the anchors made or stamped in this pass."""
    if not current_app.config["AUDIT_ANCHORS"]:
        return 0
    stamper = anchors.timestamper(current_app.config)
    practices = list(session.scalars(select(Practice.id).order_by(Practice.id)))
    done = [anchors.anchor(session, practice_id, stamper)
            for practice_id in anchors.due_practices(session, practices)]
    done += anchors.retry_pending(session, stamper)
    for row in done:
        if row.state != anchors.PENDING:
            _mail_admins(session, row.id)
    return len(done)


def _mail_admins(session: Session, anchor_id: int) -> None:
    with transaction(session):
        row = session.get(AuditAnchor, anchor_id)
        if row is None or row.mailed_at is not None:
            return
        practice = session.get(Practice, row.practice_id)
        for person in active_admins(session, row.practice_id):
            notifications.enqueue(session, practice, notifications.Mail(
                to=person.email, to_name=person.name, kind="audit_anchor",
                locale=person.locale, dedupe_key=f"audit-anchor:{row.id}:{person.id}",
                context={"event_id": row.event_id, "head_hash": row.head_hash,
                         "created_at": row.created_at, "stamped_at": row.stamped_at,
                         "link": notifications.practice_url(practice, "audit.events")}))
        row.mailed_at = now()
