"""Staff login at /office/login, client login at /login, logout, language choice."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import access, audit, db
from portal.accounts import service, sessions
from portal.accounts.forms import LanguageForm, LoginForm
from portal.accounts.models import ClientUser, StaffUser
from portal.security import limiter
from portal.web import render

bp = Blueprint("accounts", __name__)


def _login_failed(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code != 302


def _email_key() -> str:
    return f"{request.host}|{service.normalize_email(request.form.get('email', ''))}"


def _throttled(view):  # type: ignore[no-untyped-def]
    """Failed logins count against the address and against the IP."""
    per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"],
                           deduct_when=_login_failed, scope="login-ip")
    per_email = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_EMAIL"],
                              key_func=_email_key, methods=["POST"],
                              deduct_when=_login_failed, scope="login-email")
    return per_ip(per_email(view))


@bp.route("/office/login", methods=["GET", "POST"])
@access.public
@_throttled
def staff_login():  # type: ignore[no-untyped-def]
    return _login(StaffUser, audience="staff", home=url_for("clients.office_home"))


@bp.route("/login", methods=["GET", "POST"])
@access.public
@_throttled
def client_login():  # type: ignore[no-untyped-def]
    return _login(ClientUser, audience="client", home=url_for("home.index"))


def _login(model, *, audience: str, home: str):  # type: ignore[no-untyped-def]
    if isinstance(current_user, model):
        return redirect(access.safe_next(request.args.get("next"), home))
    form = LoginForm(next=request.args.get("next", ""))
    error = None
    if form.validate_on_submit():
        user = service.authenticate(db.session, model, g.practice.id, form.email.data,
                                    form.password.data)
        if user is None:
            error = _("That e-mail address and password do not match an account here.")
        elif model is ClientUser and not access.portal_companies(user):
            error = _("Your practice shares with you through links in e-mails; "
                      "there is no portal to sign in to for your company.")
        else:
            service.record_login(db.session, user, audit.Actor(
                user.practice_id, user.kind, user.id, user.email, request.remote_addr,
                request.user_agent.string))
            sessions.start(user)
            return redirect(access.safe_next(form.next.data, home))
    status = 422 if request.method == "POST" else 200
    form.password.data = ""
    return render("accounts/login.html", form=form, error=error, audience=audience,
                  status=status)


@bp.post("/logout")
@access.public
def logout():  # type: ignore[no-untyped-def]
    target = "accounts.staff_login" if isinstance(current_user, StaffUser) \
        else "accounts.client_login"
    if current_user.is_authenticated:
        service.end_sessions(db.session, current_user._get_current_object())
    sessions.finish()
    flash(_("You are signed out."), "success")
    return redirect(url_for(target))


@bp.post("/language")
@access.public
def set_language():  # type: ignore[no-untyped-def]
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            service.set_locale(db.session, current_user._get_current_object(), form.locale.data)
    return redirect(access.safe_next(form.next.data, url_for("home.index")))
