"""Resolve the practice once per request from the Host header into g.practice."""

from __future__ import annotations

from flask import Flask, abort, current_app, g, render_template, request, url_for

from portal import db
from portal.tenancy import theme
from portal.tenancy.service import BARE, practice_for_host

# Served on any host, also where no practice lives (the stylesheet then is the default one).
_HOSTLESS = {"static", "tenancy.health", "tenancy.stylesheet", "operations.metrics"}


def init_app(app: Flask) -> None:
    app.before_request(resolve_practice)

    @app.context_processor
    def _branding() -> dict[str, object]:
        return {"stylesheet_url": _stylesheet_url, "logo_url": _logo_url}


def house_style(has_it: bool) -> None:
    """A page for a client whose tier has no house style shows the portal's own look: the
    default theme and no logo (the practice's name stays, so they know whose page it is)."""
    g.house_style = has_it


def _stylesheet_url() -> str:
    if not g.get("house_style", True):
        return url_for("tenancy.stylesheet", plain=1, v=theme.stylesheet_version(None))
    return url_for("tenancy.stylesheet", v=theme.stylesheet_version(g.get("practice")))


def _logo_url() -> str | None:
    practice = g.get("practice")
    if practice is None or not practice.logo_hash or not g.get("house_style", True):
        return None
    return url_for("tenancy.logo", v=practice.logo_hash[:16])


def resolve_practice():  # type: ignore[no-untyped-def]
    g.practice = None
    if request.endpoint == "static":
        return None
    found = practice_for_host(db.session, request.host, current_app.config["BASE_DOMAIN"])
    if found is None or found is BARE:
        if request.endpoint in _HOSTLESS:
            return None
        if found is BARE and request.path == "/":
            return render_template("tenancy/landing.html")
        abort(404)
    g.practice = found
    return None
