"""One-time links: the temporary hyperlinks in mails (invitations, password resets, sign-in
links, address confirmations, approvals, offers).

The token is an itsdangerous signed, timed value (SHA-256, a salt per purpose) carrying the
row's id and a random secret. Opening a link (GET) only checks it; using it (POST) is a
conditional UPDATE, so two clicks at once use it exactly once. Every way a link can fail
is its own error, which views turn into a friendly page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.accounts.models import OneTimeLink
from portal.clock import now
from portal.db import transaction

# How long a link of each purpose lives, unless the caller says otherwise.
LIFETIMES = {
    "staff_invite": timedelta(days=7),
    "client_invite": timedelta(days=14),
    "password_reset": timedelta(hours=1),
    "login_link": timedelta(minutes=15),
    "email_change": timedelta(hours=24),
    "approval": timedelta(days=30),
    "offer": timedelta(days=21),
}
# The signature outlives the row's expiry a little: the row (our clock) decides; the
# signature only stops a token that is far too old whatever the database says.
_SIGNATURE_SLACK = timedelta(days=1)


class LinkError(Exception):
    """A link that cannot be used. `reason` names why, for the page that explains it."""

    reason = "invalid"

    def __init__(self, link: OneTimeLink | None = None) -> None:
        super().__init__(self.reason)
        self.link = link


class LinkInvalid(LinkError):
    reason = "invalid"  # tampered, truncated, or not a link of this purpose


class LinkExpired(LinkError):
    reason = "expired"


class LinkUsed(LinkError):
    reason = "used"


class LinkRevoked(LinkError):
    reason = "revoked"


class LinkElsewhere(LinkError):
    reason = "elsewhere"  # a link of another practice, opened on this practice's host


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    config = current_app.config  # itsdangerous signs with the last key, checks with all
    keys = [*reversed(config["SECRET_KEY_FALLBACKS"]), config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=f"link:{purpose}",
                                  signer_kwargs={"digest_method": hashlib.sha256})


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, *, practice_id: int, purpose: str, email: str,
          subject: tuple[str, int] | None = None, lifetime: timedelta | None = None) -> str:
    """A new link for one person and one purpose; returns the token for the URL."""
    secret = secrets.token_urlsafe(24)
    link = OneTimeLink(practice_id=practice_id, purpose=purpose, email=email,
                       secret_hash=_hash(secret),
                       subject_type=subject[0] if subject else None,
                       subject_id=subject[1] if subject else None,
                       expires_at=now() + (lifetime or LIFETIMES[purpose]))
    session.add(link)
    session.flush()
    return _serializer(purpose).dumps([link.id, secret])


def check(session: Session, token: str, *, purpose: str, practice_id: int) -> OneTimeLink:
    """The link behind a token, if it may still be used here; else a LinkError."""
    max_age = (LIFETIMES.get(purpose, timedelta(days=30)) + _SIGNATURE_SLACK).total_seconds()
    try:
        link_id, secret = _serializer(purpose).loads(token, max_age=max_age)
        link_id, secret = int(link_id), str(secret)
    except SignatureExpired:
        raise LinkExpired from None
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid from None
    link = session.get(OneTimeLink, link_id)
    if link is None or link.purpose != purpose or \
            not hmac.compare_digest(link.secret_hash, _hash(secret)):
        raise LinkInvalid
    if link.practice_id != practice_id:
        raise LinkElsewhere
    if link.revoked_at is not None:
        raise LinkRevoked(link)
    if link.used_at is not None:
        raise LinkUsed(link)
    if link.expires_at <= now():
        raise LinkExpired(link)
    return link


def identify(session: Session, token: str, *, purpose: str, practice_id: int
             ) -> OneTimeLink | None:
    """The row behind a genuine token, also when it is used, expired or revoked: for
    "send me a new link". None for anything forged or of another practice."""
    try:
        link_id, secret = _serializer(purpose).loads(token)
        link_id, secret = int(link_id), str(secret)
    except (BadSignature, ValueError, TypeError):
        return None
    link = session.get(OneTimeLink, link_id)
    if link is None or link.purpose != purpose or link.practice_id != practice_id or \
            not hmac.compare_digest(link.secret_hash, _hash(secret)):
        return None
    return link


def mark_opened(session: Session, link: OneTimeLink) -> None:
    """Staff see whether a link was opened; the first opening is what counts. (This is
    all a GET of a link page records: mail scanners open links too.)"""
    if link.opened_at is not None:
        return
    with transaction(session):
        session.execute(update(OneTimeLink).where(OneTimeLink.id == link.id,
                                                  OneTimeLink.opened_at.is_(None))
                        .values(opened_at=now()).execution_options(synchronize_session=False))


def consume(session: Session, token: str, *, purpose: str, practice_id: int,
            ip: str | None = None) -> OneTimeLink:
    """Use the link up, exactly once even when two requests race; inside a transaction."""
    link = check(session, token, purpose=purpose, practice_id=practice_id)
    moment = now()
    used = session.execute(
        update(OneTimeLink)
        .where(OneTimeLink.id == link.id, OneTimeLink.used_at.is_(None),
               OneTimeLink.revoked_at.is_(None), OneTimeLink.expires_at > moment)
        .values(used_at=moment, used_ip=ip)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        raise LinkUsed(link)
    link.used_at, link.used_ip = moment, ip
    return link


def revoke(session: Session, *, subject: tuple[str, int], purpose: str | None = None) -> int:
    """Kill every live link about a subject (a withdrawn share, a cancelled offer, ...)."""
    query = update(OneTimeLink).where(
        OneTimeLink.subject_type == subject[0], OneTimeLink.subject_id == subject[1],
        OneTimeLink.used_at.is_(None), OneTimeLink.revoked_at.is_(None))
    if purpose:
        query = query.where(OneTimeLink.purpose == purpose)
    return session.execute(query.values(revoked_at=now())
                           .execution_options(synchronize_session=False)).rowcount


def latest_for(session: Session, *, subject: tuple[str, int], purpose: str
               ) -> OneTimeLink | None:
    return session.scalar(
        select(OneTimeLink).where(OneTimeLink.subject_type == subject[0],
                                  OneTimeLink.subject_id == subject[1],
                                  OneTimeLink.purpose == purpose)
        .order_by(OneTimeLink.id.desc()).limit(1))
