"""The client portal: what waits on a company, what happened, its history and its people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal import audit
from portal.accounts import links
from portal.accounts.models import ClientUser
from portal.accounts.passwords import hash_password
from portal.audit.models import AuditEvent
from portal.clients.models import Client
from portal.db import transaction
from portal.documents import service as documents_service
from portal.documents.models import Document
from portal.engagements.models import Engagement, Share
from portal.notifications.models import ClientTask
from portal.paging import Page, clamp

# Audit events a client may see in "recent activity", and only these.
CLIENT_VISIBLE_ACTIONS = ("report.shared", "report.approved", "report.rejected",
                          "report.withdrawn", "client.contact_added",
                          "client.contact_removed")
HISTORY_PAGE_SIZE = 10


def accept_invitation(session: Session, *, practice_id: int, token: str, password: str,
                      ip: str | None, user_agent: str | None) -> ClientUser:
    """Use the invitation link up and set the contact person's password (LinkError when the
    link cannot be used)."""
    with transaction(session):
        link = links.consume(session, token, purpose="client_invite", practice_id=practice_id,
                             ip=ip)
        user = session.get(ClientUser, link.subject_id)
        if user is None or user.practice_id != practice_id:
            raise links.LinkInvalid(link)
        user.password_hash = hash_password(password)
        user.session_version += 1
        user.active = True
        audit.record(session, audit.Actor(practice_id, "client", user.id, user.email, ip,
                                          user_agent), "auth.invitation_accepted", user)
    return user


def open_actions(session: Session, client_ids: list[int]) -> list[ClientTask]:
    """What waits on these companies, the first deadline first (no deadline last)."""
    if not client_ids:
        return []
    return list(session.scalars(
        select(ClientTask).where(ClientTask.client_id.in_(client_ids),
                                 ClientTask.state == "open")
        .order_by(ClientTask.deadline.is_(None), ClientTask.deadline, ClientTask.id)))


def open_counts(session: Session, client_ids: list[int]) -> dict[int, int]:
    if not client_ids:
        return {}
    return dict(session.execute(
        select(ClientTask.client_id, func.count()).where(ClientTask.client_id.in_(client_ids),
                                                         ClientTask.state == "open")
        .group_by(ClientTask.client_id)).all())


@dataclass
class Activity:
    at: datetime
    action: str
    who: str
    engagement: Engagement | None
    data: dict[str, Any] = field(default_factory=dict)


def recent_activity(session: Session, client: Client, limit: int = 10) -> list[Activity]:
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.practice_id == client.practice_id,
                                 AuditEvent.client_id == client.id,
                                 AuditEvent.action.in_(CLIENT_VISIBLE_ACTIONS))
        .order_by(AuditEvent.id.desc()).limit(limit)))
    ids = {e.subject_id for e in events if e.subject_type == "engagements"}
    engagements = {e.id: e for e in session.scalars(
        select(Engagement).where(Engagement.id.in_(ids), Engagement.client_id == client.id))
    } if ids else {}
    return [Activity(e.created_at, e.action,
                     "staff" if e.actor_type in ("staff", "system") else e.actor_label,
                     engagements.get(e.subject_id) if e.subject_type == "engagements"
                     else None, e.data or {}) for e in events]


@dataclass(frozen=True)
class HistoryFilter:
    year: int | None = None
    kind: str | None = None

    def args(self) -> dict[str, Any]:
        return {k: v for k, v in (("year", self.year), ("kind", self.kind)) if v}


def history(session: Session, client: Client, flt: HistoryFilter, page: int, *,
            viewer_id: int | None = None) -> tuple[Page, list[int], list[Document]]:
    """The company's engagements, newest year first, each with what was shared and decided;
    and the latest documents the practice shared with the viewer."""
    where = [Engagement.client_id == client.id]
    if flt.year:
        where.append(Engagement.year == flt.year)
    if flt.kind:
        where.append(Engagement.kind == flt.kind)
    total = session.scalar(select(func.count()).select_from(Engagement).where(*where)) or 0
    page = clamp(page, total, HISTORY_PAGE_SIZE)
    rows = list(session.scalars(
        select(Engagement).where(*where)
        .order_by(Engagement.year.desc(), Engagement.kind, Engagement.id.desc())
        .limit(HISTORY_PAGE_SIZE).offset((page - 1) * HISTORY_PAGE_SIZE)))
    shares: dict[int, list[Share]] = {e.id: [] for e in rows}
    if rows:
        for share in session.scalars(
                select(Share).where(Share.engagement_id.in_(list(shares)))
                .options(selectinload(Share.signers), selectinload(Share.version))
                .order_by(Share.id.desc())):
            shares[share.engagement_id].append(share)
    years = [y for (y,) in session.execute(
        select(Engagement.year).where(Engagement.client_id == client.id).distinct()
        .order_by(Engagement.year.desc()))]
    documents = documents_service.shared_documents(
        session, client, viewer_id, year=flt.year, kind=flt.kind) if viewer_id else []
    return (Page([(e, shares[e.id]) for e in rows], total, page, HISTORY_PAGE_SIZE), years,
            documents)
