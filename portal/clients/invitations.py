"""Inviting, in one go, the contact persons of every Samenwerken Uitgebreid client who have
not signed in yet; and per client where its invitations stand (invited, signed in, a mail
that could not be delivered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import ClientUser, Membership
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients import tiers
from portal.clients.models import Client
from portal.clients.service import NotAllowed, invite, selection_stamp
from portal.clock import now
from portal.db import transaction
from portal.notifications.models import OutboxMessage
from portal.paging import PAGE_SIZE, Page, clamp

RECENT = timedelta(days=3)  # an invitation this fresh is not sent again
PORTAL_TIERS = [t for t in tiers.TIERS if tiers.has(t, "portal")]
NAMES_SHOWN = 50


@dataclass
class Invitee:
    user_id: int
    email: str
    name: str
    client_id: int
    client_name: str


@dataclass
class InvitePreview:
    to_invite: list[Invitee] = field(default_factory=list)
    recently_invited: int = 0
    signed_in: int = 0

    @property
    def clients(self) -> int:
        return len({i.client_id for i in self.to_invite})

    @property
    def stamp(self) -> str:
        return selection_stamp((i.user_id, i.client_id) for i in self.to_invite)


def _people(session: Session, practice_id: int) -> list[tuple[Any, ...]]:
    """(user id, e-mail, name, has a password, client id, client name) of every contact
    person of an active client whose tier has the portal, one row per person (their first
    such company)."""
    rows = session.execute(
        select(ClientUser.id, ClientUser.email, ClientUser.name,
               ClientUser.password_hash.is_not(None), Client.id, Client.name)
        .join(Membership, Membership.client_user_id == ClientUser.id)
        .join(Client, Client.id == Membership.client_id)
        .where(ClientUser.practice_id == practice_id, ClientUser.active.is_(True),
               Client.practice_id == practice_id, Client.status == "active",
               Client.tier.in_(PORTAL_TIERS))
        .order_by(Client.name, Client.id, ClientUser.name, ClientUser.id)).all()
    seen: set[int] = set()
    people = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            people.append(tuple(row))
    return people


def _last_invitations(session: Session, practice_id: int) -> dict[str, tuple[Any, str]]:
    """E-mail -> (moment, state) of the latest invitation mail to that address."""
    latest = (select(OutboxMessage.recipient, func.max(OutboxMessage.id).label("last"))
              .where(OutboxMessage.practice_id == practice_id,
                     OutboxMessage.kind == "client_invite")
              .group_by(OutboxMessage.recipient).subquery())
    return {email: (created, state) for email, created, state in session.execute(
        select(OutboxMessage.recipient, OutboxMessage.created_at, OutboxMessage.state)
        .join(latest, latest.c.last == OutboxMessage.id))}


def preview(session: Session, practice_id: int) -> InvitePreview:
    """Who an invitation would go to now: never signed in, not invited in the last days."""
    result = InvitePreview()
    invited = _last_invitations(session, practice_id)
    fresh_since = now() - RECENT
    for user_id, email, name, has_password, client_id, client_name in _people(
            session, practice_id):
        if has_password:
            result.signed_in += 1
        elif email in invited and invited[email][0] >= fresh_since \
                and invited[email][1] != "failed":
            result.recently_invited += 1
        else:
            result.to_invite.append(Invitee(user_id, email, name, client_id, client_name))
    return result


def invite_all(session: Session, actor: Actor, practice: Any, stamp: str) -> int:
    """Send the previewed invitations in one transaction (the mails go through the outbox),
    one audit event per person; NotAllowed if the preview no longer holds."""
    with transaction(session):
        found = preview(session, actor.practice_id)
        if found.stamp != stamp:
            raise NotAllowed("changed")
        users = {u.id: u for u in session.scalars(select(ClientUser).where(
            ClientUser.id.in_([i.user_id for i in found.to_invite])))}
        clients = {c.id: c for c in session.scalars(select(Client).where(
            Client.id.in_({i.client_id for i in found.to_invite})))}
        for person in found.to_invite:
            invite(session, practice, clients[person.client_id], users[person.user_id])
        audit.record_many(session, actor, "client.contact_invited", [
            (Subject("clients", i.client_id, i.client_id), {"email": i.email, "bulk": True})
            for i in found.to_invite])
    return len(found.to_invite)


@dataclass
class ClientStanding:
    client_id: int
    name: str
    people: list[tuple[str, str, str]]  # (name, e-mail, state)


STATES = ("signed_in", "invited", "not_delivered", "not_invited")


def standing(session: Session, practice_id: int, page: int) -> Page:
    """A page of the portal clients, each contact person with where they stand."""
    base = (select(Client.id, Client.name)
            .where(Client.practice_id == practice_id, Client.status == "active",
                   Client.tier.in_(PORTAL_TIERS)))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = clamp(page, total)
    clients = session.execute(base.order_by(Client.name, Client.id)
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    ids = [c for c, _n in clients]
    people: dict[int, list[tuple[str, str, bool]]] = {}
    for client_id, name, email, has_password in session.execute(
            select(Membership.client_id, ClientUser.name, ClientUser.email,
                   ClientUser.password_hash.is_not(None))
            .join(ClientUser, ClientUser.id == Membership.client_user_id)
            .where(Membership.client_id.in_(ids))
            .order_by(Membership.role.desc(), ClientUser.name)):
        people.setdefault(client_id, []).append((name, email, has_password))
    emails = [e for persons in people.values() for _n, e, _p in persons]
    invited = {email: state for email, state in session.execute(
        select(OutboxMessage.recipient, OutboxMessage.state)
        .where(OutboxMessage.practice_id == practice_id,
               OutboxMessage.kind == "client_invite", OutboxMessage.recipient.in_(emails))
        .order_by(OutboxMessage.id))} if emails else {}

    def state(email: str, has_password: bool) -> str:
        if has_password:
            return "signed_in"
        if email not in invited:
            return "not_invited"
        return "not_delivered" if invited[email] == "failed" else "invited"

    rows = [ClientStanding(cid, name, [(n, e, state(e, p)) for n, e, p in people.get(cid, [])])
            for cid, name in clients]
    return Page(rows, total, page)
