"""Flask-Login with two kinds of user, revocable sessions and idle/absolute lifetimes.

The cookie is Flask's signed session. It holds "<kind>:<id>:<session version>"; the loader
accepts it only when the version still matches the row, the user belongs to this host's
practice, and neither the idle nor the absolute lifetime has passed.
"""

from __future__ import annotations

from flask import Flask, current_app, g, session
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select

from portal import clock, db
from portal.accounts.models import ClientUser, StaffUser

login_manager = LoginManager()
login_manager.session_protection = None  # our session version does the revoking
_MODELS = {"staff": StaffUser, "client": ClientUser}
_SEEN_EVERY = 60  # seconds between refreshes of the idle clock (each one sets a cookie)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | ClientUser | None:
    practice = g.get("practice")
    try:
        kind, raw_id, raw_version = user_id.split(":")
        model, row_id, version = _MODELS[kind], int(raw_id), int(raw_version)
    except (KeyError, ValueError):
        return None
    if practice is None or _expired():
        return None
    user = db.session.scalar(
        select(model).where(model.id == row_id, model.practice_id == practice.id)
    )
    if user is None or user.session_version != version or not user.active:
        return None
    _touch()
    return user


def _expired() -> bool:
    started, seen = session.get("auth_at", 0), session.get("seen_at", 0)
    current = clock.now().timestamp()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_MAX_HOURS"] * 3600
    return current - seen >= idle or current - started >= absolute


def _touch() -> None:
    current = clock.now().timestamp()
    if current - session.get("seen_at", 0) > _SEEN_EVERY:
        session["seen_at"] = current


def start(user: StaffUser | ClientUser) -> None:
    """Log in with a fresh session: nothing of the anonymous session carries over."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    session["auth_at"] = session["seen_at"] = clock.now().timestamp()


def finish() -> None:
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale


# --- a sign-in waiting for its second step ----------------------------------------------
# After the password (or a link) a user with two-step sign-in is not signed in yet: the
# session holds who they are, their session version and a deadline, until a code is given.

PENDING = "pending_login"
PENDING_SECONDS = 5 * 60


def begin_pending(user: StaffUser | ClientUser, *, method: str, next_url: str | None) -> None:
    """Whoever was signed in here is not any more; the code is asked within 5 minutes."""
    finish()
    session[PENDING] = {"kind": user.kind, "id": user.id, "version": user.session_version,
                        "until": clock.now().timestamp() + PENDING_SECONDS,
                        "next": next_url or "", "method": method}


def pending() -> dict:
    """What the session says about a pending sign-in (empty when there is none)."""
    return dict(session.get(PENDING) or {})


def pending_user() -> StaffUser | ClientUser | None:
    """The user who owes a code, while the 5 minutes last and nothing ended their sessions
    meanwhile (a password reset, sign out everywhere, deactivation)."""
    waiting = pending()
    model = _MODELS.get(waiting.get("kind", ""))
    practice = g.get("practice")
    if model is None or practice is None or waiting.get("until", 0) <= clock.now().timestamp():
        return None
    user = db.session.scalar(select(model).where(model.id == waiting.get("id"),
                                                 model.practice_id == practice.id))
    if user is None or not user.active or user.session_version != waiting.get("version") \
            or not user.two_factor_enabled:
        return None
    return user


def end_pending() -> None:
    session.pop(PENDING, None)
