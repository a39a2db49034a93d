"""The practice's stylesheet and logo, a health check for load balancers, and the practice
settings page for admins (/office/settings): texts, house style, logo, custom domains."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import access, db
from portal.operations import heartbeat
from portal.tenancy import service, theme
from portal.tenancy.forms import DomainForm, LogoForm, SettingsForm, refuse
from portal.tenancy.models import Practice
from portal.web import done, render

bp = Blueprint("tenancy", __name__)
YEAR = 365 * 24 * 3600


def _cached(body: bytes | str, mimetype: str, etag: str):  # type: ignore[no-untyped-def]
    """Immutable when the URL names this version, else revalidated by ETag."""
    response = make_response(body)
    response.mimetype = mimetype
    response.set_etag(etag)
    if request.args.get("v") == etag:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/theme.css")
@access.public
def stylesheet():  # type: ignore[no-untyped-def]
    css = theme.stylesheet(None if request.args.get("plain") else g.practice)
    return _cached(css, "text/css", hashlib.sha256(css.encode()).hexdigest()[:16])


@bp.get("/brand/logo")
@access.public
def logo():  # type: ignore[no-untyped-def]
    practice = g.practice
    if not practice.logo_hash:
        abort(404)
    data = db.session.scalar(select(Practice.logo).where(Practice.id == practice.id))
    return _cached(data or b"", practice.logo_type or "application/octet-stream",
                   practice.logo_hash[:16])


@bp.get("/healthz")
@access.public
def health():  # type: ignore[no-untyped-def]
    """Up when the database answers (the heartbeat query is the round trip). A stale or
    missing worker does not take the web servers out of the load balancer: it says so."""
    stale = timedelta(seconds=current_app.config["WORKER_STALE_SECONDS"])
    return {"status": "ok", "worker": heartbeat.worker_health(db.session, stale)}


# --- settings (admins) ---------------------------------------------------------------

def _settings_page(status: int = 200, **forms):  # type: ignore[no-untyped-def]
    """The settings page with the forms given (as typed) and fresh ones for the rest."""
    forms.setdefault("settings_form", SettingsForm(formdata=None, obj=g.practice))
    forms.setdefault("logo_form", LogoForm(formdata=None))
    forms.setdefault("domain_form", DomainForm(formdata=None))
    return render("tenancy/settings.html", status=status,
                  domains=service.domains(db.session, g.practice.id),
                  base_domain=current_app.config["BASE_DOMAIN"], **forms)


@bp.route("/office/settings", methods=["GET", "POST"])
@access.staff(role="admin")
def settings():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _settings_page()
    form = SettingsForm(obj=g.practice)
    if form.validate():
        try:
            changes = service.update_settings(db.session, access.actor(), g.practice,
                                              form.values())
        except service.Refused as refused:
            refuse(form, refused.errors)
        else:
            flash(_("The settings are saved.") if changes else _("Nothing was changed."),
                  "success" if changes else "info")
            return done("tenancy.settings")
    return _settings_page(422, settings_form=form)


@bp.post("/office/settings/logo")
@access.staff(role="admin")
def upload_logo():  # type: ignore[no-untyped-def]
    form = LogoForm()
    if form.validate():
        try:
            service.set_logo(db.session, access.actor(), g.practice,
                             form.logo.data.read(service.MAX_LOGO_BYTES + 1))
        except service.Refused as refused:
            refuse(form, refused.errors)
        else:
            flash(_("The new logo is in place."), "success")
            return done("tenancy.settings")
    return _settings_page(422, logo_form=form)


@bp.post("/office/settings/logo/remove")
@access.staff(role="admin")
def remove_logo():  # type: ignore[no-untyped-def]
    if service.remove_logo(db.session, access.actor(), g.practice):
        flash(_("The logo is removed."), "success")
    return done("tenancy.settings")


@bp.post("/office/settings/domains")
@access.staff(role="admin")
def add_domain():  # type: ignore[no-untyped-def]
    form = DomainForm()
    if form.validate():
        try:
            domain = service.add_domain(db.session, access.actor(), g.practice,
                                        form.host.data,
                                        base_domain=current_app.config["BASE_DOMAIN"])
        except service.Refused as refused:
            refuse(form, refused.errors)
        else:
            flash(_("%(host)s now leads to your portal, once its DNS points here.",
                    host=domain.host), "success")
            return done("tenancy.settings")
    return _settings_page(422, domain_form=form)


@bp.post("/office/settings/domains/<int:domain_id>/remove")
@access.staff(role="admin")
def remove_domain(domain_id: int):  # type: ignore[no-untyped-def]
    domain = access.domain_for_admin(current_user, domain_id)
    service.remove_domain(db.session, access.actor(), domain)
    flash(_("%(host)s no longer leads to your portal.", host=domain.host), "success")
    return done("tenancy.settings")
