"""Signing in and out, and the practice's staff: invitations, roles, deactivation. The rules,
independent of the web layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal import audit, notifications
from portal.accounts import links, password_policy
from portal.accounts.models import STAFF_ROLES, ClientUser, Membership, OneTimeLink, StaffUser
from portal.accounts.passwords import check_password, hash_password
from portal.clients.models import Client
from portal.clock import now
from portal.db import transaction
from portal.notifications import Mail
from portal.notifications.mail import Branded
from portal.paging import PAGE_SIZE, Page, clamp

Account = StaffUser | ClientUser
STOPPED_STATUSES = ("blocked", "ended")  # the practice stopped the collaboration
STAFF_INVITE = "staff_invite"


def normalize_email(email: str) -> str:
    """Addresses are stored and compared in lower case."""
    return email.strip().lower()


def authenticate(session: Session, model: type[Account], practice_id: int, email: str,
                 password: str) -> Account | None:
    """The active user of this practice with this address and password, else None.

    An unknown address costs a hash verification too, so the answer and its time are the
    same for a wrong password and an unknown address.
    """
    user = session.scalar(
        select(model).where(model.practice_id == practice_id,
                            model.email == normalize_email(email))
    )
    ok, new_hash = check_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if new_hash:
        with transaction(session):
            user.password_hash = new_hash
    return user


def active_admins(session: Session, practice_id: int) -> list[StaffUser]:
    """The practice's admins who can still sign in: who hears of what concerns the practice
    as a whole (a client that left, the audit log's anchors)."""
    return list(session.scalars(select(StaffUser).where(
        StaffUser.practice_id == practice_id, StaffUser.active.is_(True),
        StaffUser.role == "admin").order_by(StaffUser.id)))


def reply_address(session: Session, staff_id: int | None) -> str | None:
    """Where replies to a mail about someone's work go: that staff member, while active (the
    outbox falls back to the practice's reply address)."""
    person = session.get(StaffUser, staff_id) if staff_id else None
    return person.email if person is not None and person.active else None


def stopped_companies(session: Session, user: ClientUser) -> list[str]:
    """The names of the user's companies whose practice stopped the online collaboration
    (blocked, or ended): why a contact person who signs in finds no portal."""
    return list(session.scalars(
        select(Client.name).join(Membership, Membership.client_id == Client.id)
        .where(Membership.client_user_id == user.id, Client.practice_id == user.practice_id,
               Client.status.in_(STOPPED_STATUSES))
        .order_by(Client.name)))


def record_login(session: Session, user: Account, actor: audit.Actor, **details: Any) -> None:
    """A sign-in, with how it was done (e.g. method="login_link", two_factor=True)."""
    with transaction(session):
        user.last_login_at = now()
        audit.record(session, actor, "auth.login", user, **details)


def end_sessions(session: Session, user: Account) -> None:
    """Make every session cookie of this user anonymous (logout, password change, removal)."""
    with transaction(session):
        model = type(user)
        session.execute(update(model).where(model.id == user.id)
                        .values(session_version=model.session_version + 1))


def set_password(session: Session, user: Account, password: str) -> None:
    with transaction(session):
        user.password_hash = hash_password(password)
        user.session_version = user.session_version + 1


def set_locale(session: Session, user: Account, locale: str) -> None:
    with transaction(session):
        user.locale = locale


# --- staff management ----------------------------------------------------------------

class Refused(Exception):
    """A staff change the rules do not allow; `errors` maps a form field (or "" for the
    change as a whole) to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class StaffMember:
    """A row of the staff list: the user, and the state of their invitation if pending."""

    user: StaffUser
    invitation: OneTimeLink | None = None

    @property
    def status(self) -> str:
        """active, deactivated, invited, invitation_expired or invitation_withdrawn."""
        if self.user.active:
            return "active"
        if self.user.password_hash is not None:
            return "deactivated"
        link = self.invitation
        if link is None or link.revoked_at is not None or link.used_at is not None:
            return "invitation_withdrawn"
        return "invited" if link.expires_at > now() else "invitation_expired"


def staff_page(session: Session, practice_id: int, *, page: int,
               page_size: int = PAGE_SIZE) -> Page:
    """One page of the practice's staff, active first; three queries whatever the size."""
    query = select(StaffUser).where(StaffUser.practice_id == practice_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = clamp(page, total, page_size)
    users = list(session.scalars(query.order_by(StaffUser.active.desc(), StaffUser.email)
                                 .limit(page_size).offset((page - 1) * page_size)))
    pending = [u.id for u in users if u.password_hash is None]
    invitations: dict[int, OneTimeLink] = {}
    if pending:
        for link in session.scalars(
                select(OneTimeLink).where(OneTimeLink.practice_id == practice_id,
                                          OneTimeLink.purpose == STAFF_INVITE,
                                          OneTimeLink.subject_type == "staff_users",
                                          OneTimeLink.subject_id.in_(pending))
                .order_by(OneTimeLink.id)):
            invitations[link.subject_id] = link  # the newest wins
    rows = [StaffMember(u, invitations.get(u.id)) for u in users]
    return Page(rows=rows, total=total, page=page, page_size=page_size)


def _send_invitation(session: Session, actor: audit.Actor, practice: Branded,
                     user: StaffUser) -> None:
    """Earlier invitation links stop working; a new one goes out by mail."""
    links.revoke(session, subject=("staff_users", user.id), purpose=STAFF_INVITE)
    token = links.issue(session, practice_id=practice.id, purpose=STAFF_INVITE,
                        email=user.email, subject=("staff_users", user.id))
    inviter = session.get(StaffUser, actor.id) if actor.type == "staff" else None
    notifications.enqueue(session, practice, Mail(
        to=user.email, to_name=user.name or None, kind=STAFF_INVITE, context={
            "inviter": inviter.name if inviter and inviter.name else actor.label,
            "link": notifications.practice_url(practice, "accounts.accept_invite",
                                               token=token),
            "expires_at": now() + links.LIFETIMES[STAFF_INVITE],
            "admin": user.role == "admin",
        }))


def invite_staff(session: Session, actor: audit.Actor, practice: Branded, *, email: str,
                 name: str, role: str) -> StaffUser:
    """A colleague joins by invitation: an inactive account without a password, and a mail
    with a one-time link (valid 7 days) to choose their name and password."""
    email = normalize_email(email)
    if role not in STAFF_ROLES:
        raise Refused({"role": _("Choose admin or staff.")})
    exists = session.scalar(select(StaffUser.id).where(StaffUser.practice_id == practice.id,
                                                       StaffUser.email == email))
    if exists is not None:
        raise Refused({"email": _("There is already a staff member with this address.")})
    with transaction(session):
        user = StaffUser(practice_id=practice.id, email=email, name=name.strip(), role=role,
                         active=False, password_hash=None)
        session.add(user)
        session.flush()
        _send_invitation(session, actor, practice, user)
        audit.record(session, actor, "staff.invited", user, email=email, role=role)
    return user


def invite_again(session: Session, actor: audit.Actor, practice: Branded,
                 user: StaffUser) -> None:
    """A new invitation for someone who has not accepted one; earlier links stop working."""
    if user.password_hash is not None:
        raise Refused({"": _("%(email)s has accepted the invitation already.",
                             email=user.email)})
    with transaction(session):
        _send_invitation(session, actor, practice, user)
        audit.record(session, actor, "staff.invited_again", user, email=user.email)


def invitation(session: Session, token: str, *, practice_id: int) -> StaffUser:
    """The invited colleague behind a live invitation link (LinkError otherwise)."""
    link = links.check(session, token, purpose=STAFF_INVITE, practice_id=practice_id)
    user = session.scalar(select(StaffUser).where(StaffUser.id == link.subject_id,
                                                  StaffUser.practice_id == practice_id))
    if user is None or link.subject_type != "staff_users":
        raise links.LinkInvalid(link)
    if user.password_hash is not None:
        raise links.LinkUsed(link)
    return user


def accept_invitation(session: Session, token: str, *, practice_id: int, name: str,
                      password: str, ip: str | None, user_agent: str | None) -> StaffUser:
    """Use the invitation up: the colleague's name and password are set and the account
    becomes active. The password must pass the password policy (Refused otherwise, and the
    link stays usable); a link that cannot be used raises its LinkError."""
    user = invitation(session, token, practice_id=practice_id)
    name = name.strip()
    if problem := password_policy.problem(password, email=user.email, name=name):
        raise Refused({"password": problem})
    with transaction(session):
        links.consume(session, token, purpose=STAFF_INVITE, practice_id=practice_id, ip=ip)
        user.name = name
        user.password_hash = hash_password(password)
        user.active = True
        user.session_version = user.session_version + 1
        user.last_login_at = now()
        audit.record(session, audit.Actor(practice_id, "staff", user.id, user.email, ip,
                                          user_agent), "staff.invitation_accepted", user)
    return user


def _keep_an_admin(session: Session, actor: audit.Actor, user: StaffUser) -> None:
    """The practice always keeps an active admin. The admins' rows are locked first, so two
    admins demoting each other at once cannot both succeed (SQLite: BEGIN IMMEDIATE)."""
    if not (user.active and user.role == "admin"):
        return
    admins = session.scalars(
        select(StaffUser.id).where(StaffUser.practice_id == user.practice_id,
                                   StaffUser.role == "admin", StaffUser.active.is_(True))
        .with_for_update()).all()
    if not [admin for admin in admins if admin != user.id]:
        if user.id == actor.id and actor.type == "staff":
            message = _("You are the last active admin. Make a colleague admin first, so "
                        "someone can still manage the practice.")
        else:
            message = _("%(name)s is the last active admin. Make a colleague admin first.",
                        name=user.name or user.email)
        raise Refused({"": message})


def change_role(session: Session, actor: audit.Actor, user: StaffUser, role: str) -> bool:
    """Admin or staff; the last active admin stays admin. False when nothing changed."""
    if role not in STAFF_ROLES:
        raise Refused({"role": _("Choose admin or staff.")})
    if role == user.role:
        return False
    with transaction(session):
        if role != "admin":
            _keep_an_admin(session, actor, user)
        old, user.role = user.role, role
        audit.record(session, actor, "staff.role_changed", user, old=old, new=role)
    return True


def deactivate_staff(session: Session, actor: audit.Actor, user: StaffUser) -> None:
    """A deactivated colleague cannot sign in, every session of theirs ends at once and a
    pending invitation stops working. The last active admin cannot be deactivated."""
    with transaction(session):
        _keep_an_admin(session, actor, user)
        was_active, user.active = user.active, False
        end_sessions(session, user)
        revoked = links.revoke(session, subject=("staff_users", user.id),
                               purpose=STAFF_INVITE)
        action = "staff.deactivated" if was_active or user.password_hash is not None \
            else "staff.invitation_withdrawn"
        audit.record(session, actor, action, user, links_revoked=revoked)


def reactivate_staff(session: Session, actor: audit.Actor, user: StaffUser) -> bool:
    """A deactivated colleague may sign in again (with their old password). Someone who
    never accepted an invitation needs a new invitation instead."""
    if user.password_hash is None:
        raise Refused({"": _("%(email)s has not accepted the invitation; send the "
                             "invitation again instead.", email=user.email)})
    if user.active:
        return False
    with transaction(session):
        user.active = True
        audit.record(session, actor, "staff.reactivated", user)
    return True
