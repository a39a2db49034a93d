"""What users do for their own account: a new password through a link by mail, a sign-in
link by mail (client users), changing their password and address, signing out everywhere.

Links go to the address of the account they are about; the link row's subject names the
user's table and id, so one reset page serves staff and client users. Asking for a link
answers the same whether or not the address has an account.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit, notifications
from portal.accounts import links, password_policy
from portal.accounts.models import ClientUser, OneTimeLink, StaffUser
from portal.accounts.passwords import check_password, hash_password
from portal.accounts.service import Refused, end_sessions, normalize_email
from portal.clock import now
from portal.db import transaction
from portal.notifications import Mail
from portal.notifications.mail import Branded

Account = StaffUser | ClientUser
Eligible = Callable[[Account], bool]
RESET = "password_reset"
LOGIN_LINK = "login_link"
EMAIL_CHANGE = "email_change"
TABLES: dict[str, type[Account]] = {"staff_users": StaffUser, "client_users": ClientUser}


class NotEligible(Exception):
    """The account may not use this (a client user without a portal company)."""


def _subject(user: Account) -> tuple[str, int]:
    return (user.__tablename__, user.id)


def _visitor(practice_id: int, label: str, ip: str | None, user_agent: str | None
             ) -> audit.Actor:
    """Someone not signed in, who typed an address or holds a link."""
    return audit.Actor(practice_id, "visitor", None, label, ip, user_agent)


def _as_user(user: Account, ip: str | None, user_agent: str | None) -> audit.Actor:
    return audit.Actor(user.practice_id, user.kind, user.id, user.email, ip, user_agent)


def _active_account(session: Session, model: type[Account], practice_id: int,
                    email: str) -> Account | None:
    return session.scalar(select(model).where(model.practice_id == practice_id,
                                              model.email == normalize_email(email),
                                              model.active.is_(True)))


def _mail_link(session: Session, practice: Branded, user: Account, *, purpose: str,
               endpoint: str, ip: str | None, user_agent: str | None) -> None:
    """A fresh link of this purpose by mail; earlier ones stop working."""
    with transaction(session):
        links.revoke(session, subject=_subject(user), purpose=purpose)
        token = links.issue(session, practice_id=practice.id, purpose=purpose,
                            email=user.email, subject=_subject(user))
        notifications.enqueue(session, practice, Mail(
            to=user.email, to_name=user.name or None, kind=purpose, locale=user.locale,
            context={"link": notifications.practice_url(practice, endpoint, token=token),
                     "minutes": int(links.LIFETIMES[purpose].total_seconds() // 60),
                     "staff": isinstance(user, StaffUser)}))
        audit.record(session, _visitor(practice.id, user.email, ip, user_agent),
                     f"auth.{purpose}_requested", user)


def request_password_reset(session: Session, practice: Branded, model: type[Account],
                           email: str, *, ip: str | None, user_agent: str | None) -> None:
    """Mail a link to choose a new password (valid 1 hour) when an active account of this
    kind has the address; nothing otherwise, and the caller cannot tell the difference."""
    user = _active_account(session, model, practice.id, email)
    if user is not None:
        _mail_link(session, practice, user, purpose=RESET, endpoint="accounts.reset_password",
                   ip=ip, user_agent=user_agent)


def request_login_link(session: Session, practice: Branded, email: str, *,
                       eligible: Eligible, ip: str | None, user_agent: str | None) -> None:
    """Mail a sign-in link (valid 15 minutes, once) to an active client user who may use the
    portal; nothing otherwise, and the caller cannot tell the difference."""
    user = _active_account(session, ClientUser, practice.id, email)
    if user is not None and eligible(user):
        _mail_link(session, practice, user, purpose=LOGIN_LINK,
                   endpoint="accounts.login_link", ip=ip, user_agent=user_agent)


def link_user(session: Session, token: str, *, purpose: str, practice_id: int
              ) -> tuple[OneTimeLink, Account]:
    """The live link behind a token and the active user it is about (LinkError otherwise)."""
    link = links.check(session, token, purpose=purpose, practice_id=practice_id)
    model = TABLES.get(link.subject_type or "")
    user = session.scalar(select(model).where(model.id == link.subject_id,
                                              model.practice_id == practice_id)) \
        if model else None
    if user is None or not user.active:
        raise links.LinkInvalid(link)
    return link, user


def _notify_password_changed(session: Session, practice: Branded, user: Account) -> None:
    notifications.enqueue(session, practice, Mail(
        to=user.email, to_name=user.name or None, kind="password_changed", locale=user.locale,
        context={"when": now(), "staff": isinstance(user, StaffUser)}))


def _set_password(session: Session, user: Account, password: str) -> None:
    """A new password ends every session, and address changes asked for with the old one."""
    user.password_hash = hash_password(password)
    user.session_version = user.session_version + 1
    links.revoke(session, subject=_subject(user), purpose=EMAIL_CHANGE)


def reset_password(session: Session, token: str, *, practice: Branded, password: str,
                   ip: str | None, user_agent: str | None) -> Account:
    """Use the reset link up and set the new password; every session of the user ends.
    The password must pass the policy (Refused otherwise, and the link stays usable)."""
    _link, user = link_user(session, token, purpose=RESET, practice_id=practice.id)
    if problem := password_policy.problem(password, email=user.email, name=user.name):
        raise Refused({"password": problem})
    with transaction(session):
        links.consume(session, token, purpose=RESET, practice_id=practice.id, ip=ip)
        _set_password(session, user, password)
        _notify_password_changed(session, practice, user)
        audit.record(session, _as_user(user, ip, user_agent), "auth.password_reset", user)
    return user


def use_login_link(session: Session, token: str, *, practice_id: int, eligible: Eligible,
                   ip: str | None, user_agent: str | None) -> ClientUser:
    """Use the sign-in link up (LinkError when it cannot be used, NotEligible when the user
    no longer reaches a portal company); the caller then signs the user in."""
    link, user = link_user(session, token, purpose=LOGIN_LINK, practice_id=practice_id)
    if not isinstance(user, ClientUser):
        raise links.LinkInvalid(link)
    if not eligible(user):
        raise NotEligible
    with transaction(session):
        links.consume(session, token, purpose=LOGIN_LINK, practice_id=practice_id, ip=ip)
        audit.record(session, _as_user(user, ip, user_agent), "auth.login_link_used", user)
    return user


# --- the account page ------------------------------------------------------------------

def _check_current_password(user: Account, password: str, field: str) -> None:
    if not check_password(user.password_hash, password)[0]:
        raise Refused({field: _("That is not your current password.")})


def change_password(session: Session, actor: audit.Actor, practice: Branded, user: Account,
                    *, current: str, new: str) -> None:
    """A new password takes the current one and must pass the policy. Every session of the
    user ends; the caller starts a new one for this browser."""
    _check_current_password(user, current, "current_password")
    if problem := password_policy.problem(new, email=user.email, name=user.name):
        raise Refused({"new_password": problem})
    with transaction(session):
        _set_password(session, user, new)
        _notify_password_changed(session, practice, user)
        audit.record(session, actor, "account.password_changed", user)


def _address_taken(session: Session, user: Account, email: str) -> bool:
    model = type(user)
    return session.scalar(select(model.id).where(model.practice_id == user.practice_id,
                                                 model.email == email,
                                                 model.id != user.id)) is not None


def _taken_message(user: Account) -> str:
    if isinstance(user, StaffUser):
        return _("Another account here uses this address already. Choose another address.")
    return _("Another account here uses this address already. Choose another address, or "
             "ask your practice to help.")


def request_email_change(session: Session, actor: audit.Actor, practice: Branded,
                         user: Account, *, new_email: str, password: str) -> str:
    """A new address takes the current password and counts once a link mailed to it is
    used (valid 24 hours); the old address gets a notice. An address another account of
    the same kind uses here is refused. Returns the new address."""
    email = normalize_email(new_email)
    _check_current_password(user, password, "password")
    if email == user.email:
        raise Refused({"email": _("That is your address already.")})
    if _address_taken(session, user, email):
        raise Refused({"email": _taken_message(user)})
    with transaction(session):
        links.revoke(session, subject=_subject(user), purpose=EMAIL_CHANGE)
        token = links.issue(session, practice_id=practice.id, purpose=EMAIL_CHANGE,
                            email=email, subject=_subject(user))
        context = {"new_email": email, "old_email": user.email,
                   "hours": int(links.LIFETIMES[EMAIL_CHANGE].total_seconds() // 3600)}
        notifications.enqueue(session, practice, Mail(
            to=email, to_name=user.name or None, kind="email_change_confirm",
            locale=user.locale, context={**context, "link": notifications.practice_url(
                practice, "accounts.confirm_email", token=token)}))
        notifications.enqueue(session, practice, Mail(
            to=user.email, to_name=user.name or None, kind="email_change_notice",
            locale=user.locale, context=context))
        audit.record(session, actor, "account.email_change_requested", user,
                     old=user.email, new=email)
    return email


def confirm_email_change(session: Session, token: str, *, practice_id: int,
                         ip: str | None, user_agent: str | None) -> tuple[Account, str]:
    """Use the confirmation link up: the account's address becomes the one it was mailed
    to, unless another account took it meanwhile (Refused). Links mailed to the old address
    stop working. Returns the user and the old address."""
    link, user = link_user(session, token, purpose=EMAIL_CHANGE, practice_id=practice_id)
    if _address_taken(session, user, link.email):
        raise Refused({"": _taken_message(user)})
    old = user.email
    try:
        with transaction(session):
            links.consume(session, token, purpose=EMAIL_CHANGE, practice_id=practice_id,
                          ip=ip)
            user.email = link.email
            for purpose in (RESET, LOGIN_LINK):
                links.revoke(session, subject=_subject(user), purpose=purpose)
            audit.record(session, _as_user(user, ip, user_agent), "account.email_changed",
                         user, old=old, new=link.email)
    except IntegrityError:  # taken in the same instant by someone else
        raise Refused({"": _taken_message(user)}) from None
    return user, old


def pending_email(session: Session, user: Account) -> str | None:
    """The address waiting for its confirmation link to be used, if any."""
    link = links.latest_for(session, subject=_subject(user), purpose=EMAIL_CHANGE)
    if link is None or link.used_at or link.revoked_at or link.expires_at <= now():
        return None
    return link.email


def sign_out_everywhere(session: Session, actor: audit.Actor, user: Account) -> None:
    """Every session of the user ends, on every device, this one included."""
    with transaction(session):
        end_sessions(session, user)
        audit.record(session, actor, "account.signed_out_everywhere", user)
