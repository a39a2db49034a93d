"""Two-factor sign-in with TOTP (RFC 6238): besides the password, the 6-digit code of an
authenticator app, or one of ten recovery codes for when the phone is lost.

A code is accepted in the 30-second step before, at or after our clock's. The step of the
last code used is stored by a conditional UPDATE, so a code (or an older one) works once,
even when two requests race. The secret is kept in the user's row (the app needs it to
check codes); recovery codes only as hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit, notifications
from portal.accounts.models import ClientUser, RecoveryCode, StaffUser
from portal.accounts.passwords import check_password
from portal.accounts.service import Refused, end_sessions
from portal.clock import now
from portal.db import transaction
from portal.notifications import Mail
from portal.notifications.mail import Branded
from portal.security import SEALED, seal, unseal

Account = StaffUser | ClientUser
STEP = timedelta(seconds=30)
RECOVERY_CODE_COUNT = 10
# 16 characters of 31 (no 0/o, 1/i/l): about 79 random bits per recovery code.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_LENGTH = 16


# --- codes -----------------------------------------------------------------------------

def _normalize(code: str) -> str:
    """As typed: spaces and dashes do not count, nor does case."""
    return "".join(code.split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, moment: datetime) -> int | None:
    """The time step (previous, current or next) whose code this is, else None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(moment)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_for(secret: str, moment: datetime) -> str:
    """The code an authenticator app shows at this moment (for the demo and tests)."""
    return pyotp.TOTP(secret).at(moment)


def secret_of(user: Account) -> str | None:
    """The authenticator key, unsealed (None when there is none, or no key opens it)."""
    if not user.totp_secret:
        return None
    return unseal(user.totp_secret, _bound_to(user))


def _bound_to(user: Account) -> str:
    """What a sealed key belongs to: this user, so it means nothing on another row."""
    return f"totp:{user.kind}:{user.id}"


def _use_totp(session: Session, user: Account, code: str) -> bool:
    """Accept an app's code once: its step must be later than the last one used."""
    code = _normalize(code)
    secret = secret_of(user)
    if not secret or len(code) != 6 or not code.isdigit():
        return False
    step = _matching_step(secret, code, now())
    if step is None:
        return False
    if not user.totp_secret.startswith(SEALED):  # kept before keys were sealed: seal it now
        user.totp_secret = seal(secret, _bound_to(user))
    model = type(user)
    used = session.execute(
        update(model)
        .where(model.id == user.id,
               or_(model.totp_last_step.is_(None), model.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)).rowcount
    if used != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _owner(user: Account):  # type: ignore[no-untyped-def]
    """The recovery codes' column that points at this kind of user."""
    column = RecoveryCode.staff_user_id if isinstance(user, StaffUser) \
        else RecoveryCode.client_user_id
    return column == user.id


def _new_recovery_codes(session: Session, user: Account) -> list[str]:
    """Ten fresh codes replace any earlier ones; returned once, stored as hashes."""
    session.execute(delete(RecoveryCode).where(_owner(user)))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    key = "staff_user_id" if isinstance(user, StaffUser) else "client_user_id"
    session.add_all(RecoveryCode(**{key: user.id}, code_hash=_recovery_hash(code))
                    for code in codes)
    return ["-".join(code[i:i + 4] for i in range(0, len(code), 4)) for code in codes]


def _use_recovery_code(session: Session, user: Account, code: str) -> bool:
    code = _normalize(code)
    if len(code) != _RECOVERY_LENGTH:
        return False
    used = session.execute(
        update(RecoveryCode)
        .where(_owner(user), RecoveryCode.code_hash == _recovery_hash(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now())
        .execution_options(synchronize_session=False)).rowcount
    return used == 1


def recovery_codes_left(session: Session, user: Account) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(_owner(user), RecoveryCode.used_at.is_(None))) or 0


# --- setting up, signing in, switching off --------------------------------------------

def provisioning_uri(user: Account, issuer: str) -> str:
    """What the QR code holds: the otpauth:// address authenticator apps read."""
    return pyotp.TOTP(secret_of(user) or "").provisioning_uri(name=user.email,
                                                               issuer_name=issuer)


def qr_code(uri: str, title: str) -> Markup:
    """The QR code as inline SVG: no image request, no data: URI, no style attribute; its
    <title> names it for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, title=title,
                                                svgclass="qr-code", dark="#000", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 (segno escapes the title)


def begin_setup(session: Session, actor: audit.Actor, user: Account) -> None:
    """A new secret to scan; it counts only once a code from the app confirms it."""
    if user.two_factor_enabled:
        raise Refused({"": _("Two-step sign-in is on already.")})
    with transaction(session):
        user.totp_secret = seal(pyotp.random_base32(), _bound_to(user))
        user.totp_last_step = None
        audit.record(session, actor, "account.two_factor_setup_started", user)


def enable(session: Session, actor: audit.Actor, user: Account, code: str) -> list[str]:
    """Switch two-step sign-in on when a code from the app matches the new secret; returns
    the ten recovery codes, to be shown this once."""
    if user.two_factor_enabled:
        raise Refused({"": _("Two-step sign-in is on already.")})
    if not user.totp_secret:
        raise Refused({"": _("Start the setup first.")})
    with transaction(session):
        if not _use_totp(session, user, code):
            raise Refused({"code": _("That code is not right. Type the 6 digits your app "
                                     "shows now.")})
        user.totp_enabled_at = now()
        codes = _new_recovery_codes(session, user)
        audit.record(session, actor, "account.two_factor_enabled", user)
    return codes


def disable(session: Session, actor: audit.Actor, user: Account, *, password: str,
            code: str) -> None:
    """Switch two-step sign-in off: it takes the password and a code (from the app, or a
    recovery code), so a session left open is not enough."""
    if not user.two_factor_enabled:
        raise Refused({"": _("Two-step sign-in is off already.")})
    errors = {}
    if not check_password(user.password_hash, password)[0]:
        errors["password"] = _("That is not your current password.")
    with transaction(session):
        if not errors and not (_use_totp(session, user, code)
                               or _use_recovery_code(session, user, code)):
            errors["code"] = _("That code is not right, or it was used already.")
        if errors:
            audit.record(session, actor, "account.two_factor_disable_failed", user,
                         fields=sorted(errors))
        else:
            user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
            session.execute(delete(RecoveryCode).where(_owner(user)))
            audit.record(session, actor, "account.two_factor_disabled", user)
    if errors:
        raise Refused(errors)


def reset(session: Session, actor: audit.Actor, practice: Branded, user: StaffUser) -> bool:
    """An admin switches a colleague's two-step sign-in off, for when the phone and the
    recovery codes are both lost. Every session of theirs ends (whoever holds the phone is
    out too) and they get a mail saying who did it; at their next sign-in they set it up
    again where the practice asks for it. One's own goes off with the password and a code."""
    if actor.type == "staff" and actor.id == user.id:
        raise Refused({"": _("Switch your own two-step sign-in off under Account: it takes "
                             "your password and a code.")})
    if not user.two_factor_enabled:
        return False
    with transaction(session):
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        session.execute(delete(RecoveryCode).where(_owner(user)))
        end_sessions(session, user)
        audit.record(session, actor, "staff.two_factor_reset", user)
        notifications.enqueue(session, practice, Mail(
            to=user.email, to_name=user.name or None, kind="two_factor_reset",
            locale=user.locale, context={"when": now(), "by": actor.label}))
    return True


def verify(session: Session, actor: audit.Actor, user: Account, code: str) -> bool:
    """The second step of signing in: an unused code from the app, or a recovery code
    (which is then used up). Failures are audited too."""
    with transaction(session):
        if _use_totp(session, user, code):
            return True
        if _use_recovery_code(session, user, code):
            audit.record(session, actor, "auth.recovery_code_used", user,
                         left=recovery_codes_left(session, user))
            return True
        audit.record(session, actor, "auth.two_factor_failed", user)
    return False
