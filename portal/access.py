"""THE place for authorization: who may call which view, and who may load which row.

Every view declares its callers with one of the decorators below; `enforce` runs before
every request and denies a view that declares nothing. Loading a tenant row by id goes
through a helper here that answers 404 unless the actor may see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.audit import Actor
from portal.clients import tiers
from portal.clients.models import Client
from portal.notifications.models import OutboxMessage

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Rule:
    """Who may call a view: 'public', 'staff' (optionally admins only), 'client', 'link'."""

    kind: str
    role: str | None = None


def _declare(rule: Rule) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.access = rule  # type: ignore[attr-defined]
        return view

    return mark


public = _declare(Rule("public"))
client_user = _declare(Rule("client"))
link_holder = _declare(Rule("link"))


def staff(role: str | None = None) -> Callable[[View], View]:
    """Staff of this practice; role="admin" for admins only."""
    return _declare(Rule("staff", role))


def rule_of(endpoint: str | None) -> Rule | None:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "access", None)


def init_app(app: Flask) -> None:
    app.view_functions["static"].access = Rule("public")  # type: ignore[attr-defined]
    app.before_request(enforce)


def enforce():  # type: ignore[no-untyped-def]
    """Default deny: a view without a declaration is not served."""
    if request.endpoint is None:
        return None  # no route matched: the 404 handler answers
    rule = rule_of(request.endpoint)
    if rule is None:
        abort(404)
    if rule.kind == "public":
        return None
    user = current_user
    if rule.kind == "staff":
        if isinstance(user, StaffUser):
            if rule.role and user.role != rule.role:
                abort(403)
            return None
        if user.is_authenticated:
            abort(404)  # a client user has no back office to find
        return redirect(url_for("accounts.staff_login", next=request.full_path.rstrip("?")))
    if rule.kind == "client":
        if isinstance(user, ClientUser):
            return None
        if user.is_authenticated:
            abort(404)
        return redirect(url_for("accounts.client_login", next=request.full_path.rstrip("?")))
    abort(404)  # link holders arrive with the approvals feature


def safe_next(target: str | None, fallback: str) -> str:
    """A redirect target only when it is a local path of this host."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return fallback
    return target


def actor() -> Actor:
    """The acting user and where the request came from, for services and the audit log."""
    user = current_user
    return Actor(
        practice_id=g.practice.id,
        type=user.kind,
        id=user.id,
        label=user.email,
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )


# --- loading rows for an actor -------------------------------------------------------

def client_for_staff(user: StaffUser, client_id: int) -> Client:
    """A client of the staff user's practice, or 404."""
    client = db.session.scalar(
        select(Client).where(Client.id == client_id, Client.practice_id == user.practice_id)
    )
    if client is None:
        abort(404)
    return client


def mail_for_staff(user: StaffUser, message_id: int) -> OutboxMessage:
    """A message of the staff user's practice's outbox, or 404."""
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.practice_id == user.practice_id))
    if message is None:
        abort(404)
    return message


def portal_companies(user: ClientUser) -> list[Client]:
    """The companies this client user reaches in the portal: member, portal tier, active."""
    return list(db.session.scalars(
        select(Client)
        .join(Membership, Membership.client_id == Client.id)
        .where(
            Membership.client_user_id == user.id,
            Client.practice_id == user.practice_id,
            Client.tier.in_(tiers.tiers_with("portal")),
            Client.status == "active",
        )
        .order_by(Client.name)
    ))


def company_for_member(user: ClientUser, client_id: int) -> Client:
    """One of the user's portal companies, or 404 (also when its tier lost the portal)."""
    client = db.session.scalar(
        select(Client)
        .join(Membership, Membership.client_id == Client.id)
        .where(
            Client.id == client_id,
            Membership.client_user_id == user.id,
            Client.practice_id == user.practice_id,
            Client.tier.in_(tiers.tiers_with("portal")),
            Client.status == "active",
        )
    )
    if client is None:
        abort(404)
    return client
