"""Offers: inviting a company to online collaboration, confirmed by its contact.

Until the contact confirms through the mailed link the offer is pending and the client
record stays wholly the practice's. On confirmation the contact's login is created, or the
company is added to the login that address already has (one login, several companies),
the contact becomes the company's main contact, and the tier and payer of the offer apply.
An offer not confirmed in time expires (a worker sweep) and its sender is told.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal import audit, notifications
from portal.accounts import links
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.accounts.passwords import hash_password
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients import tiers
from portal.clients.models import Client
from portal.clients.service import number_taken
from portal.clock import now
from portal.collaboration.models import Offer
from portal.db import transaction
from portal.notifications import tasks
from portal.notifications.reminders import DueTask

TASK_KIND = "offer"


class Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def offer_days() -> int:
    return current_app.config["OFFER_DAYS"]


def without_portal(session: Session, practice_id: int) -> list[Client]:
    """The practice's clients that could be offered the portal: active, not on a portal
    tier, and without an offer waiting."""
    waiting = select(Offer.client_id).where(Offer.state == "pending")
    return list(session.scalars(
        select(Client).where(Client.practice_id == practice_id, Client.status == "active",
                             Client.tier.not_in(tiers.tiers_with("portal")),
                             Client.id.not_in(waiting))
        .order_by(Client.name).limit(500)))


def pending_for(session: Session, client_id: int) -> Offer | None:
    return session.scalar(select(Offer).where(Offer.client_id == client_id,
                                              Offer.state == "pending"))


def make_offer(session: Session, actor: Actor, practice: Any, *, client: Client | None,
               new_client: dict[str, Any] | None, email: str, contact_name: str,
               tier: str, payer: str, locale: str | None) -> Offer:
    """Send an offer to an existing client, or to a new client record made for it."""
    if tier not in tiers.TIERS or payer not in ("practice", "client"):
        raise Refused(_("Choose a tier and who pays."))
    email = email.strip().lower()
    with transaction(session):
        if client is None:
            if number_taken(session, actor.practice_id, new_client["client_number"], None):
                raise Refused(_("Another client already has this number."))
            client = Client(practice_id=actor.practice_id, status="active",
                            tier=tiers.STANDARD, **new_client)
            session.add(client)
            session.flush()
            audit.record(session, actor, "client.created", client, name=client.name,
                         through="offer")
        elif pending_for(session, client.id) is not None:
            raise Refused(_("%(name)s already has an offer waiting.", name=client.name))
        offer = Offer(practice_id=actor.practice_id, client_id=client.id, email=email,
                      contact_name=contact_name, tier=tier, payer=payer, locale=locale,
                      sent_by_id=actor.id, expires_at=now() + timedelta(days=offer_days()))
        session.add(offer)
        session.flush()
        _open_and_mail(session, practice, offer, client, kind="offer")
        audit.record(session, actor, "offer.sent", client, offer=offer.id, email=email,
                     tier=tier, payer=payer)
    return offer


def _open_and_mail(session: Session, practice: Any, offer: Offer, client: Client, *,
                   kind: str, dedupe_key: str | None = None,
                   extra: dict[str, Any] | None = None) -> None:
    links.revoke(session, subject=("offers", offer.id), purpose="offer")
    token = links.issue(session, practice_id=practice.id, purpose="offer", email=offer.email,
                        subject=("offers", offer.id),
                        lifetime=max(offer.expires_at - now(), timedelta(minutes=1)))
    with force_locale(offer.locale or practice.locale):
        title = _("Confirm online collaboration for %(name)s", name=client.name)
    tasks.open_task(session, practice_id=practice.id, client_id=client.id, kind=TASK_KIND,
                    subject_id=offer.id, title=title, deadline=offer.expires_at)
    price = current_app.config.get(f"PRICE_{offer.tier.upper()}", tiers.DEFAULT_PRICES[offer.tier])
    notifications.enqueue(session, practice, notifications.Mail(
        to=offer.email, to_name=offer.contact_name, kind=kind, locale=offer.locale,
        dedupe_key=dedupe_key, house_style=tiers.has(offer.tier, "house_style"),
        context={**offer_terms(offer), "client_name": client.name, "payer": offer.payer,
                 "price": price, "expires": offer.expires_at,
                 "free_days": current_app.config["FREE_DAYS"],
                 "link": notifications.practice_url(practice, "collaboration.confirm_offer",
                                                    token=token), **(extra or {})}))


def offer_terms(offer: Offer) -> dict[str, Any]:
    """What the offered tier gives, from the tier table, for the offer's mails and pages:
    whether it has the portal with a login of one's own, and what it includes."""
    # Lazy labels: a mail reads them in its own language when it is rendered.
    return {"tier": offer.tier, "tier_label": tiers.LABELS[offer.tier],
            "has_portal": tiers.has(offer.tier, "portal"),
            "includes": [tiers.FEATURE_LABELS[f] for f in tiers.features_of(offer.tier)]}


def needs_password(offer: Offer, user: ClientUser | None) -> bool:
    """A password is asked only where the offered tier has a login, and only once."""
    return tiers.has(offer.tier, "portal") and (user is None or not user.password_hash)


def check(session: Session, token: str, practice_id: int) -> tuple[Offer, Client,
                                                                    ClientUser | None]:
    """What the confirm page shows (GET changes nothing but 'opened')."""
    link = links.check(session, token, purpose="offer", practice_id=practice_id)
    offer = session.get(Offer, link.subject_id)
    if offer is None or offer.state != "pending":
        raise links.LinkRevoked(link)
    links.mark_opened(session, link)
    user = session.scalar(select(ClientUser).where(ClientUser.practice_id == practice_id,
                                                   ClientUser.email == offer.email))
    return offer, session.get(Client, offer.client_id), user


def confirmed_offer(session: Session, offer_id: Any, practice_id: int) -> Offer | None:
    """A confirmed offer of this practice, by the id a confirming browser kept."""
    if not isinstance(offer_id, int):
        return None
    offer = session.get(Offer, offer_id)
    if offer is None or offer.practice_id != practice_id or offer.state != "confirmed":
        return None
    return offer


def confirm(session: Session, practice: Any, token: str, *, password: str | None,
            ip: str | None, user_agent: str | None) -> ClientUser:
    """The contact confirms: the offer applies and they are the company's main contact,
    with a login for it where the offered tier has the portal (else none is asked)."""
    with transaction(session):
        link = links.consume(session, token, purpose="offer", practice_id=practice.id, ip=ip)
        offer = session.get(Offer, link.subject_id)
        won = session.execute(
            update(Offer).where(Offer.id == offer.id, Offer.state == "pending",
                                Offer.expires_at > now())
            .values(state="confirmed", confirmed_at=now(), closed_at=now())
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            raise links.LinkRevoked(link)
        client = session.get(Client, offer.client_id)
        user = session.scalar(select(ClientUser).where(
            ClientUser.practice_id == practice.id, ClientUser.email == offer.email))
        if user is None:
            user = ClientUser(practice_id=practice.id, email=offer.email,
                              name=offer.contact_name, locale=offer.locale)
            session.add(user)
        if needs_password(offer, user):
            if not password:
                raise Refused(_("Choose a password."))
            user.password_hash, user.active = hash_password(password), True
        session.flush()
        membership = session.scalar(select(Membership).where(
            Membership.client_user_id == user.id, Membership.client_id == client.id))
        if membership is None:
            session.add(Membership(client_user_id=user.id, client_id=client.id, role="owner"))
        else:
            membership.role = "owner"
        client.tier, client.payer, client.portal_since = offer.tier, offer.payer, now()
        client.contact_name, client.contact_email = offer.contact_name, offer.email
        tasks.close_task(session, kind=TASK_KIND, subject_id=offer.id)
        actor = Actor(practice.id, "client", user.id, user.email, ip, user_agent)
        audit.record(session, actor, "offer.confirmed", client, offer=offer.id,
                     tier=offer.tier, payer=offer.payer)
        notifications.enqueue(session, practice, notifications.Mail(
            to=user.email, to_name=user.name, kind="offer_confirmed", locale=offer.locale,
            house_style=tiers.has(offer.tier, "house_style"),
            context={**offer_terms(offer), "client_name": client.name,
                     "link": notifications.practice_url(practice, "home.index")
                     if tiers.has(offer.tier, "portal") else None}))
        _tell_sender(session, practice, offer, client, "offer_confirmed_staff")
    return user


def _tell_sender(session: Session, practice: Any, offer: Offer, client: Client,
                 kind: str) -> None:
    sender = session.get(StaffUser, offer.sent_by_id) if offer.sent_by_id else None
    if sender is None or not sender.active:
        return
    notifications.enqueue(session, practice, notifications.Mail(
        to=sender.email, to_name=sender.name, kind=kind, locale=sender.locale,
        context={"client_name": client.name, "email": offer.email,
                 "link": notifications.practice_url(practice, "clients.card",
                                                    client_id=client.id)}))


def cancel(session: Session, actor: Actor, offer: Offer) -> bool:
    """Take a pending offer back; its link dies at once."""
    with transaction(session):
        changed = session.execute(
            update(Offer).where(Offer.id == offer.id, Offer.state == "pending")
            .values(state="cancelled", closed_at=now())
            .execution_options(synchronize_session=False)).rowcount
        if changed:
            links.revoke(session, subject=("offers", offer.id), purpose="offer")
            tasks.close_task(session, kind=TASK_KIND, subject_id=offer.id, state="cancelled")
            audit.record(session, actor, "offer.cancelled",
                         Subject("offers", offer.id, offer.client_id))
    return changed == 1


def send_again(session: Session, actor: Actor, practice: Any, offer: Offer) -> None:
    """A pending or expired offer goes out again, with a new link and a new term."""
    if offer.state not in ("pending", "expired"):
        raise Refused(_("Only a waiting or expired offer can be sent again."))
    with transaction(session):
        client = session.get(Client, offer.client_id)
        other = pending_for(session, client.id)
        if other is not None and other.id != offer.id:
            raise Refused(_("%(name)s already has an offer waiting.", name=client.name))
        offer.state, offer.closed_at = "pending", None
        offer.expires_at = now() + timedelta(days=offer_days())
        _open_and_mail(session, practice, offer, client, kind="offer")
        audit.record(session, actor, "offer.sent_again",
                     Subject("offers", offer.id, offer.client_id))


def expire(session: Session) -> int:
    """Worker sweep: pending offers past their term expire, and their senders hear of it.
    Each offer moves once (a conditional update), so running it twice changes nothing."""
    from portal.tenancy.models import Practice

    moment = now()
    expired = 0
    ids = list(session.scalars(select(Offer.id).where(Offer.state == "pending",
                                                      Offer.expires_at <= moment)))
    for offer_id in ids:
        with transaction(session):
            won = session.execute(
                update(Offer).where(Offer.id == offer_id, Offer.state == "pending",
                                    Offer.expires_at <= moment)
                .values(state="expired", closed_at=moment)
                .execution_options(synchronize_session=False)).rowcount
            if not won:
                continue
            offer = session.get(Offer, offer_id)
            client = session.get(Client, offer.client_id)
            practice = session.get(Practice, offer.practice_id)
            links.revoke(session, subject=("offers", offer.id), purpose="offer")
            tasks.close_task(session, kind=TASK_KIND, subject_id=offer.id, state="cancelled")
            audit.record(session, Actor.system(offer.practice_id), "offer.expired",
                         Subject("offers", offer.id, offer.client_id))
            _tell_sender(session, practice, offer, client, "offer_expired")
            expired += 1
    return expired


def compose_reminders(session: Session, due: list[DueTask]) -> list[tuple[Any, Any]]:
    """Before an offer expires: the contact gets it again, with a fresh link."""
    from portal.tenancy.models import Practice

    mails: list[tuple[Any, Any]] = []
    for task in due:
        offer = session.get(Offer, task.subject_id)
        if offer is None or offer.state != "pending" or task.offset > 0:
            continue
        practice = session.get(Practice, offer.practice_id)
        client = session.get(Client, offer.client_id)
        # _open_and_mail queues the mail itself (with its own dedupe key)
        _open_and_mail(session, practice, offer, client, kind="offer",
                       dedupe_key=f"reminder:offer:{offer.id}:{task.offset}",
                       extra={"reminder": True})
    return mails


def offers(session: Session, practice_id: int, state: str | None, page: int,
           page_size: int = 50) -> tuple[list[tuple[Offer, Client, StaffUser | None]], int]:
    where = [Offer.practice_id == practice_id]
    if state:
        where.append(Offer.state == state)
    total = session.scalar(select(func.count()).select_from(Offer).where(*where)) or 0
    rows = list(session.execute(
        select(Offer, Client, StaffUser).join(Client, Client.id == Offer.client_id)
        .outerjoin(StaffUser, StaffUser.id == Offer.sent_by_id)
        .where(*where).order_by(Offer.id.desc())
        .limit(page_size).offset((max(page, 1) - 1) * page_size)).tuples())
    return rows, total


def change_payer(session: Session, actor: Actor, practice: Any, client: Client,
                 payer: str) -> bool:
    """Who pays for the client's subscription; the client is told by mail."""
    if payer not in ("practice", "client") or payer == client.payer:
        return False
    with transaction(session):
        old, client.payer = client.payer, payer
        audit.record(session, actor, "client.payer_changed", client, old=old, new=payer)
        for user in session.scalars(
                select(ClientUser).join(Membership, Membership.client_user_id == ClientUser.id)
                .where(Membership.client_id == client.id, ClientUser.active.is_(True))):
            notifications.enqueue(session, practice, notifications.Mail(
                to=user.email, to_name=user.name, kind="payer_changed", locale=user.locale,
                context={"client_name": client.name, "payer": payer}))
    return True
