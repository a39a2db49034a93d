"""Signing in and out: the rules, independent of the web layer."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import ClientUser, StaffUser
from portal.accounts.passwords import check_password, hash_password
from portal.clock import now
from portal.db import transaction

Account = StaffUser | ClientUser


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


def record_login(session: Session, user: Account, actor: audit.Actor) -> None:
    with transaction(session):
        user.last_login_at = now()
        audit.record(session, actor, "auth.login", user)


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
