"""Staff login at /office/login, client login at /login, logout, language choice; staff
management for admins at /office/staff and the invitation page /office/invite/<token>."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal import access, audit, db
from portal.accounts import links, service, sessions
from portal.accounts.forms import (
    AcceptInviteForm,
    InviteStaffForm,
    LanguageForm,
    LoginForm,
    StaffRoleForm,
)
from portal.accounts.models import ClientUser, StaffUser
from portal.security import limiter
from portal.web import done, link_error_page, render

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


# --- staff management (admins) --------------------------------------------------------

def _refuse(form: FlaskForm, errors: dict[str, str]) -> None:
    """Show a service's refusals beside the fields they are about."""
    for name, message in errors.items():
        form[name].errors = [*form[name].errors, message]


def _staff_page(status: int = 200, invite_form: InviteStaffForm | None = None,
                problem: str | None = None):  # type: ignore[no-untyped-def]
    staff = service.staff_page(db.session, current_user.practice_id,
                               page=request.args.get("page", 1, type=int))
    return render("accounts/staff.html", status=status, staff=staff, problem=problem,
                  invite_form=invite_form or InviteStaffForm(formdata=None))


@bp.get("/office/staff")
@access.staff(role="admin")
def staff_list():  # type: ignore[no-untyped-def]
    return _staff_page()


@bp.post("/office/staff/invite")
@access.staff(role="admin")
def invite_staff():  # type: ignore[no-untyped-def]
    form = InviteStaffForm()
    if form.validate():
        try:
            user = service.invite_staff(db.session, access.actor(), g.practice,
                                        email=form.email.data, name=form.name.data or "",
                                        role=form.role.data)
        except service.Refused as refused:
            _refuse(form, refused.errors)
        else:
            flash(_("An invitation is on its way to %(email)s.", email=user.email), "success")
            return done("accounts.staff_list")
    return _staff_page(422, invite_form=form)


def _change_staff(staff_id: int, change, message: str):  # type: ignore[no-untyped-def]
    """Apply one change to a colleague: refused changes show why (409) on the staff page."""
    member = access.staff_for_admin(current_user, staff_id)
    try:
        changed = change(member)
    except service.Refused as refused:
        return _staff_page(409, problem=" ".join(refused.errors.values()))
    if changed is not False:
        flash(message % {"name": member.name or member.email}, "success")
    if member.id == current_user.id:  # who they are now may not see the staff page
        return done("clients.office_home")
    return done("accounts.staff_list")


@bp.post("/office/staff/<int:staff_id>/role")
@access.staff(role="admin")
def change_staff_role(staff_id: int):  # type: ignore[no-untyped-def]
    form = StaffRoleForm()
    if not form.validate():
        access.staff_for_admin(current_user, staff_id)
        return _staff_page(422, problem=_("Choose admin or staff."))
    return _change_staff(
        staff_id, lambda m: service.change_role(db.session, access.actor(), m, form.role.data),
        _("%(name)s is now admin.") if form.role.data == "admin"
        else _("%(name)s is now staff."))


@bp.post("/office/staff/<int:staff_id>/deactivate")
@access.staff(role="admin")
def deactivate_staff(staff_id: int):  # type: ignore[no-untyped-def]
    return _change_staff(
        staff_id, lambda m: service.deactivate_staff(db.session, access.actor(), m),
        _("%(name)s can no longer sign in; their sessions have ended."))


@bp.post("/office/staff/<int:staff_id>/reactivate")
@access.staff(role="admin")
def reactivate_staff(staff_id: int):  # type: ignore[no-untyped-def]
    return _change_staff(
        staff_id, lambda m: service.reactivate_staff(db.session, access.actor(), m),
        _("%(name)s can sign in again."))


@bp.post("/office/staff/<int:staff_id>/invite-again")
@access.staff(role="admin")
def reinvite_staff(staff_id: int):  # type: ignore[no-untyped-def]
    return _change_staff(
        staff_id, lambda m: service.invite_again(db.session, access.actor(), g.practice, m),
        _("A new invitation is on its way to %(name)s."))


# --- accepting an invitation (the one-time link in the mail) ---------------------------

@bp.route("/office/invite/<token>", methods=["GET", "POST"])
@access.public
def accept_invite(token: str):  # type: ignore[no-untyped-def]
    """GET only shows the form (mail scanners open links too); the POST uses the link."""
    try:
        user = service.invitation(db.session, token, practice_id=g.practice.id)
    except links.LinkError as error:
        return link_error_page(error.reason)
    form = AcceptInviteForm(name=user.name)
    if request.method == "POST" and form.validate():
        try:
            user = service.accept_invitation(
                db.session, token, practice_id=g.practice.id, name=form.name.data,
                password=form.password.data, ip=request.remote_addr,
                user_agent=request.user_agent.string)
        except links.LinkError as error:
            return link_error_page(error.reason)
        except service.Refused as refused:
            _refuse(form, refused.errors)
        else:
            sessions.start(user)
            flash(_("Welcome, %(name)s. Your account is ready; from now on you sign in "
                    "with %(email)s.", name=user.name, email=user.email), "success")
            return done("clients.office_home")
    return render("accounts/accept_invite.html", form=form, user=user,
                  status=422 if request.method == "POST" else 200)
