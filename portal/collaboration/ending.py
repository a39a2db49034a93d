"""Ending a collaboration: the practice blocks (reversible) or ends it, or the client leaves.

Blocking takes the company out of its users' portal, kills its links and stops reminders;
its open tasks stay, marked blocked, and come back on unblocking. Ending (by the practice,
or by the client's main contact) stops everything for good and starts the retention
period, after which the client's data is deleted (retention.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import audit, notifications
from portal.accounts import links
from portal.accounts import service as accounts
from portal.accounts.models import ClientUser, Membership
from portal.accounts.passwords import check_password
from portal.audit import Actor
from portal.clients.models import Client
from portal.clock import now
from portal.collaboration.models import Offer
from portal.db import transaction
from portal.engagements.models import Share, Signer
from portal.notifications.models import ClientTask


class Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def retention_days() -> int:
    return current_app.config["RETENTION_DAYS"]


def _kill_links(session: Session, client: Client) -> None:
    """Every temporary link that leads into this company dies."""
    signers = list(session.scalars(select(Signer.id).join(Share, Share.id == Signer.share_id)
                                   .where(Share.client_id == client.id)))
    for signer_id in signers:
        links.revoke(session, subject=("share_signers", signer_id))
    for offer_id in session.scalars(select(Offer.id).where(Offer.client_id == client.id)):
        links.revoke(session, subject=("offers", offer_id))


def block(session: Session, actor: Actor, client: Client) -> None:
    if client.status != "active":
        raise Refused(_("Only an active client can be blocked."))
    with transaction(session):
        client.status, client.blocked_at = "blocked", now()
        _kill_links(session, client)
        audit.record(session, actor, "client.blocked", client)


def unblock(session: Session, actor: Actor, client: Client) -> None:
    if client.status != "blocked":
        raise Refused(_("This client is not blocked."))
    with transaction(session):
        client.status, client.blocked_at = "active", None
        audit.record(session, actor, "client.unblocked", client)


def _end(session: Session, client: Client, status: str) -> None:
    moment = now()
    client.status, client.ended_at = status, moment
    client.purge_after = moment + timedelta(days=retention_days())
    _kill_links(session, client)
    session.execute(update(ClientTask)
                    .where(ClientTask.client_id == client.id, ClientTask.state == "open")
                    .values(state="cancelled", closed_at=moment)
                    .execution_options(synchronize_session=False))
    session.execute(update(Share)
                    .where(Share.client_id == client.id, Share.state == "open")
                    .values(state="withdrawn", closed_at=moment)
                    .execution_options(synchronize_session=False))
    session.execute(update(Offer)
                    .where(Offer.client_id == client.id, Offer.state == "pending")
                    .values(state="cancelled", closed_at=moment)
                    .execution_options(synchronize_session=False))


def end(session: Session, actor: Actor, client: Client) -> None:
    """The practice ends the collaboration (after blocking): deletion follows in time."""
    if client.status not in ("active", "blocked"):
        raise Refused(_("This collaboration has ended already."))
    with transaction(session):
        _end(session, client, "ended")
        audit.record(session, actor, "client.ended", client,
                     purge_after=client.purge_after.isoformat())


def leave(session: Session, practice: Any, user: ClientUser, client: Client, password: str,
          ip: str | None = None, user_agent: str | None = None) -> None:
    """The client's main contact ends the collaboration; the practice can do nothing more
    for this company, and is told. The client keeps read access until the data goes."""
    ok, _new_hash = check_password(user.password_hash, password)
    if not ok:
        raise Refused(_("That is not your password."))
    if client.status not in ("active", "blocked"):
        raise Refused(_("This collaboration has ended already."))
    with transaction(session):
        _end(session, client, "left")
        audit.record(session, Actor(practice.id, "client", user.id, user.email, ip,
                                    user_agent), "client.left", client,
                     purge_after=client.purge_after.isoformat())
        for person in accounts.active_admins(session, practice.id):
            notifications.enqueue(session, practice, notifications.Mail(
                to=person.email, to_name=person.name, kind="client_left",
                locale=person.locale,
                context={"client_name": client.name, "who": user.name,
                         "purge_after": client.purge_after,
                         "link": notifications.practice_url(practice, "clients.card",
                                                            client_id=client.id)}))
        for member in session.scalars(
                select(ClientUser).join(Membership, Membership.client_user_id == ClientUser.id)
                .where(Membership.client_id == client.id, ClientUser.active.is_(True))):
            notifications.enqueue(session, practice, notifications.Mail(
                to=member.email, to_name=member.name, kind="collaboration_ended",
                locale=member.locale,
                context={"client_name": client.name, "purge_after": client.purge_after,
                         "link": notifications.practice_url(practice, "home.company",
                                                            client_id=client.id)}))


def postpone(session: Session, actor: Actor, client: Client, until: datetime) -> None:
    """Staff keep an ended client's data longer (e.g. while a question is open)."""
    if client.purge_after is None:
        raise Refused(_("Nothing is planned to be deleted for this client."))
    if until <= client.purge_after:
        raise Refused(_("Choose a date after the planned one."))
    with transaction(session):
        old, client.purge_after = client.purge_after, until
        audit.record(session, actor, "client.purge_postponed", client, old=old.isoformat(),
                     new=until.isoformat())
