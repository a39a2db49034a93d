"""Staff login at /office/login, client login at /login, logout, language choice; staff
management for admins at /office/staff and the invitation page /office/invite/<token>;
forgot password, sign-in links by mail, two-step sign-in (/login/verify), and one's own
account page (/account for client users, /office/account for staff)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal import access, audit, db
from portal.accounts import links, self_service, service, sessions, two_factor
from portal.accounts.forms import (
    AcceptInviteForm,
    ChangeEmailForm,
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    DisableTwoFactorForm,
    EmailForm,
    InviteStaffForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    StaffRoleForm,
)
from portal.accounts.models import ClientUser, StaffUser
from portal.security import limiter
from portal.web import arg_int, done, link_error_page, render

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
            error = _no_portal_message(user)
        else:
            return _sign_in(user, method="password", next_url=form.next.data)
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
                               page=request.args.get("page", 1, type=arg_int))
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


@bp.post("/office/staff/<int:staff_id>/reset-two-factor")
@access.staff(role="admin")
def reset_staff_two_factor(staff_id: int):  # type: ignore[no-untyped-def]
    return _change_staff(
        staff_id, lambda m: two_factor.reset(db.session, access.actor(), g.practice, m),
        _("Two-step sign-in of %(name)s is off and their sessions have ended. They set it "
          "up again at their next sign-in."))


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


# --- signing in: the shared last step, and the two-step verification -------------------

def _no_portal_message(user: ClientUser) -> str:
    """Why a client user who signed in finds no portal, and whom to ask about it."""
    stopped = service.stopped_companies(db.session, user)
    if not stopped:
        return _("Your practice shares with you through links in e-mails; there is no portal "
                 "to sign in to for your company.")
    practice = g.practice
    message = _("%(practice)s has stopped the online collaboration with %(company)s, so "
                "there is nothing to sign in to here.", practice=practice.name,
                company=", ".join(stopped))
    if practice.reply_to:
        return message + " " + _("For questions, contact %(practice)s at %(email)s.",
                                 practice=practice.name, email=practice.reply_to)
    return message + " " + _("For questions, contact %(practice)s.", practice=practice.name)


def _has_portal(user: StaffUser | ClientUser) -> bool:
    return isinstance(user, ClientUser) and bool(access.portal_companies(user))


def _user_actor(user: StaffUser | ClientUser) -> audit.Actor:
    return audit.Actor(user.practice_id, user.kind, user.id, user.email, request.remote_addr,
                       request.user_agent.string)


def _home(kind: str) -> str:
    return url_for("clients.office_home") if kind == "staff" else url_for("home.index")


def _login_page(kind: str) -> str:
    return url_for("accounts.staff_login") if kind == "staff" \
        else url_for("accounts.client_login")


def _sign_in(user: StaffUser | ClientUser, *, method: str,
             next_url: str | None = None):  # type: ignore[no-untyped-def]
    """The end of every way in (password, reset link, sign-in link): a user with two-step
    sign-in is asked for a code first; everyone else gets a fresh session."""
    if isinstance(user, ClientUser) and not _has_portal(user):
        sessions.finish()
        flash(_no_portal_message(user), "info")
        return redirect(url_for("accounts.client_login"))
    if user.two_factor_enabled:
        sessions.begin_pending(user, method=method, next_url=next_url)
        return redirect(url_for("accounts.verify_login"))
    service.record_login(db.session, user, _user_actor(user), method=method)
    sessions.start(user)
    return redirect(access.safe_next(next_url, _home(user.kind)))


def _pending_key() -> str:
    pending = sessions.pending()
    return f"{request.host}|{pending.get('kind')}:{pending.get('id')}"


def _verify_throttled(view):  # type: ignore[no-untyped-def]
    """Wrong codes count against the user who owes one and against the IP."""
    per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"],
                           deduct_when=_login_failed, scope="login-ip")
    per_user = limiter.limit(
        lambda: current_app.config["TWO_FACTOR_LIMIT"],
        key_func=_pending_key, methods=["POST"], deduct_when=_login_failed,
        scope="two-factor")
    return per_ip(per_user(view))


@bp.route("/login/verify", methods=["GET", "POST"])
@access.public
@_verify_throttled
def verify_login():  # type: ignore[no-untyped-def]
    """The second step of signing in: a code from the app, or a recovery code."""
    pending, user = sessions.pending(), sessions.pending_user()
    if user is None:
        sessions.end_pending()
        if pending:
            flash(_("Please sign in again: the time to type the code ran out."), "info")
        return redirect(_login_page(pending.get("kind", "client")))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if two_factor.verify(db.session, _user_actor(user), user, form.code.data):
            sessions.end_pending()
            service.record_login(db.session, user, _user_actor(user),
                                 method=pending.get("method"), two_factor=True)
            sessions.start(user)
            return redirect(access.safe_next(pending.get("next"), _home(user.kind)))
        error = _("That code is not right, or it was used already. Type the code your app "
                  "shows now.")
    form.code.data = ""
    return render("accounts/verify.html", form=form, error=error, audience=user.kind,
                  recovery=request.args.get("with") == "recovery",
                  status=422 if request.method == "POST" else 200)


# --- forgot password and sign-in links by mail ------------------------------------------

def _mail_link_throttled(view):  # type: ignore[no-untyped-def]
    """Asking for a mail counts against the address and the IP, whatever the answer."""
    per_ip = limiter.limit(
        lambda: current_app.config["MAIL_LINK_LIMIT_PER_IP"],
        methods=["POST"], scope="mail-link-ip")
    per_email = limiter.limit(
        lambda: current_app.config["MAIL_LINK_LIMIT_PER_EMAIL"],
        key_func=_email_key, methods=["POST"], scope="mail-link-email")
    return per_ip(per_email(view))


@bp.route("/office/password/forgot", methods=["GET", "POST"])
@access.public
@_mail_link_throttled
def staff_forgot_password():  # type: ignore[no-untyped-def]
    return _forgot_password(StaffUser, audience="staff")


@bp.route("/password/forgot", methods=["GET", "POST"])
@access.public
@_mail_link_throttled
def client_forgot_password():  # type: ignore[no-untyped-def]
    return _forgot_password(ClientUser, audience="client")


def _forgot_password(model, *, audience: str):  # type: ignore[no-untyped-def]
    form = EmailForm()
    if form.validate_on_submit():
        self_service.request_password_reset(db.session, g.practice, model, form.email.data,
                                            ip=request.remote_addr,
                                            user_agent=request.user_agent.string)
        flash(_("If %(email)s belongs to an account here, a mail with a link to choose a new "
                "password is on its way. The link works once, for an hour.",
                email=form.email.data), "info")
        return done("accounts.staff_login" if audience == "staff" else "accounts.client_login")
    return render("accounts/forgot_password.html", form=form, audience=audience,
                  status=422 if request.method == "POST" else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@access.public
def reset_password(token: str):  # type: ignore[no-untyped-def]
    """GET only shows the form (mail scanners open links too); the POST uses the link."""
    try:
        _link, user = self_service.link_user(db.session, token, purpose=self_service.RESET,
                                             practice_id=g.practice.id)
    except links.LinkError as error:
        return link_error_page(error.reason)
    form = NewPasswordForm()
    if request.method == "POST" and form.validate():
        try:
            user = self_service.reset_password(
                db.session, token, practice=g.practice, password=form.password.data,
                ip=request.remote_addr, user_agent=request.user_agent.string)
        except links.LinkError as error:
            return link_error_page(error.reason)
        except service.Refused as refused:
            _refuse(form, refused.errors)
        else:
            flash(_("Your new password is set, and you are signed out on every other "
                    "device."), "success")
            return _sign_in(user, method="password_reset")
    return render("accounts/reset_password.html", form=form, user=user,
                  status=422 if request.method == "POST" else 200)


@bp.route("/login/link", methods=["GET", "POST"])
@access.public
@_mail_link_throttled
def request_login_link():  # type: ignore[no-untyped-def]
    form = EmailForm()
    if form.validate_on_submit():
        self_service.request_login_link(db.session, g.practice, form.email.data,
                                        eligible=_has_portal, ip=request.remote_addr,
                                        user_agent=request.user_agent.string)
        flash(_("If %(email)s may sign in to the portal here, a mail with a sign-in link is "
                "on its way. The link works once, for 15 minutes.", email=form.email.data),
              "info")
        return done("accounts.client_login")
    return render("accounts/login_link_request.html", form=form,
                  status=422 if request.method == "POST" else 200)


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@access.public
def login_link(token: str):  # type: ignore[no-untyped-def]
    """GET shows a button (mail scanners open links too); the POST uses the link."""
    try:
        _link, user = self_service.link_user(db.session, token,
                                             purpose=self_service.LOGIN_LINK,
                                             practice_id=g.practice.id)
    except links.LinkError as error:
        return link_error_page(error.reason)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        try:
            user = self_service.use_login_link(
                db.session, token, practice_id=g.practice.id, eligible=_has_portal,
                ip=request.remote_addr, user_agent=request.user_agent.string)
        except links.LinkError as error:
            return link_error_page(error.reason)
        except self_service.NotEligible:
            flash(_no_portal_message(user), "info")
            return redirect(url_for("accounts.client_login"))
        return _sign_in(user, method="login_link")
    return render("accounts/login_link.html", form=form, user=user)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
@access.public
def confirm_email(token: str):  # type: ignore[no-untyped-def]
    """The link mailed to a new address: GET shows a button, the POST makes the change."""
    try:
        link, user = self_service.link_user(db.session, token,
                                            purpose=self_service.EMAIL_CHANGE,
                                            practice_id=g.practice.id)
    except links.LinkError as error:
        return link_error_page(error.reason)
    form = ConfirmForm()
    problem = None
    if request.method == "POST" and form.validate():
        try:
            user, _old = self_service.confirm_email_change(
                db.session, token, practice_id=g.practice.id, ip=request.remote_addr,
                user_agent=request.user_agent.string)
        except links.LinkError as error:
            return link_error_page(error.reason)
        except service.Refused as refused:
            problem = " ".join(refused.errors.values())
        else:
            flash(_("Your e-mail address is now %(email)s; you sign in with it from now on.",
                    email=user.email), "success")
            if current_user.is_authenticated and current_user.get_id() == user.get_id():
                return done(f"accounts.{user.kind}_account")
            return done("accounts.staff_login" if user.kind == "staff"
                        else "accounts.client_login")
    return render("accounts/confirm_email.html", form=form, new_email=link.email,
                  problem=problem, status=409 if problem else 200)


# --- the account page: /account for client users, /office/account for staff ------------

def _account_key() -> str:
    return f"{request.host}|{current_user.kind}:{current_user.id}"


def _password_throttled(view):  # type: ignore[no-untyped-def]
    """Wrong passwords and codes on the account page count against the user: a session
    left open must not become a way to guess the password."""
    return limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_EMAIL"], key_func=_account_key,
        methods=["POST"], deduct_when=lambda response: response.status_code == 422,
        scope="account-password")(view)


def _account_route(rule: str, name: str, methods: tuple[str, ...] = ("GET",),
                   throttle=None):  # type: ignore[no-untyped-def]
    """Register a page of one's own account twice: at `rule` for client users and at
    /office`rule` for staff; the handler gets the audience ("client" or "staff")."""
    def register(handler):  # type: ignore[no-untyped-def]
        for audience, prefix, declare in (("staff", "/office", access.staff()),
                                          ("client", "", access.client_user)):
            view = _for_audience(handler, audience, f"{audience}_{name}")
            if throttle is not None:
                view = throttle(view)
            bp.add_url_rule(prefix + rule, f"{audience}_{name}", declare(view),
                            methods=list(methods))
        return handler
    return register


def _for_audience(handler, audience: str, name: str):  # type: ignore[no-untyped-def]
    def view(**values):  # type: ignore[no-untyped-def]
        return handler(audience, **values)
    view.__name__ = view.__qualname__ = name
    view.__doc__ = handler.__doc__
    return view


def _me() -> StaffUser | ClientUser:
    return current_user._get_current_object()


def _account_page(audience: str, status: int = 200, **forms):  # type: ignore[no-untyped-def]
    user = _me()
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    return render("accounts/account.html", status=status, audience=audience, user=user,
                  confirm_form=ConfirmForm(formdata=None),
                  pending_email=self_service.pending_email(db.session, user),
                  recovery_left=two_factor.recovery_codes_left(db.session, user)
                  if user.two_factor_enabled else None, **forms)


@_account_route("/account", "account")
def account(audience: str):  # type: ignore[no-untyped-def]
    """Your own account: password, e-mail address, two-step sign-in, sessions."""
    return _account_page(audience)


@_account_route("/account/password", "change_password", ("POST",), _password_throttled)
def change_password(audience: str):  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    if form.validate():
        try:
            self_service.change_password(db.session, access.actor(), g.practice, _me(),
                                         current=form.current_password.data,
                                         new=form.new_password.data)
        except service.Refused as refused:
            _refuse(form, refused.errors)
        else:
            sessions.start(_me())  # this browser stays; every other session has ended
            flash(_("Your password is changed. You are signed out on every other device."),
                  "success")
            return done(f"accounts.{audience}_account")
    return _account_page(audience, 422, password_form=form)


@_account_route("/account/email", "change_email", ("POST",), _password_throttled)
def change_email(audience: str):  # type: ignore[no-untyped-def]
    form = ChangeEmailForm()
    if form.validate():
        try:
            email = self_service.request_email_change(
                db.session, access.actor(), g.practice, _me(), new_email=form.email.data,
                password=form.password.data)
        except service.Refused as refused:
            _refuse(form, refused.errors)
        else:
            flash(_("We sent a link to %(email)s. Your address changes once you open it "
                    "(within 24 hours).", email=email), "success")
            return done(f"accounts.{audience}_account")
    form.password.data = ""
    return _account_page(audience, 422, email_form=form)


@_account_route("/account/sign-out-everywhere", "sign_out_everywhere", ("POST",))
def sign_out_everywhere(audience: str):  # type: ignore[no-untyped-def]
    self_service.sign_out_everywhere(db.session, access.actor(), _me())
    sessions.finish()
    flash(_("You are signed out everywhere, on this device too."), "success")
    return done("accounts.staff_login" if audience == "staff" else "accounts.client_login")


# --- two-step sign-in: set up, confirm, switch off ---------------------------------------

def _two_factor_page(audience: str, status: int = 200, problem: str | None = None,
                     **forms):  # type: ignore[no-untyped-def]
    user = _me()
    qr_code = setup_key = None
    if user.totp_secret and not user.two_factor_enabled:
        setup_key = two_factor.secret_of(user)  # None after a key change: start again
    if setup_key:
        uri = two_factor.provisioning_uri(user, g.practice.name)
        qr_code = two_factor.qr_code(uri, _("QR code to scan with your authenticator app"))
    forms.setdefault("code_form", CodeForm(formdata=None))
    forms.setdefault("disable_form", DisableTwoFactorForm(formdata=None))
    return render("accounts/two_factor.html", status=status, audience=audience, user=user,
                  problem=problem, qr_code=qr_code, setup_key=setup_key,
                  confirm_form=ConfirmForm(formdata=None),
                  required=audience == "staff" and g.practice.require_staff_2fa,
                  recovery_left=two_factor.recovery_codes_left(db.session, user)
                  if user.two_factor_enabled else None, **forms)


@_account_route("/account/two-factor", "two_factor")
def two_factor_page(audience: str):  # type: ignore[no-untyped-def]
    """Two-step sign-in: its state, and the steps to switch it on or off."""
    return _two_factor_page(audience)


@_account_route("/account/two-factor/start", "start_two_factor", ("POST",))
def start_two_factor(audience: str):  # type: ignore[no-untyped-def]
    try:
        two_factor.begin_setup(db.session, access.actor(), _me())
    except service.Refused as refused:
        return _two_factor_page(audience, 409, problem=" ".join(refused.errors.values()))
    return done(f"accounts.{audience}_two_factor")


@_account_route("/account/two-factor/enable", "enable_two_factor", ("POST",))
def enable_two_factor(audience: str):  # type: ignore[no-untyped-def]
    form = CodeForm()
    if form.validate():
        try:
            codes = two_factor.enable(db.session, access.actor(), _me(), form.code.data)
        except service.Refused as refused:
            if "" in refused.errors:
                return _two_factor_page(audience, 409, problem=refused.errors[""])
            _refuse(form, refused.errors)
        else:
            # Shown this once, in this response: the codes are stored only as hashes.
            return render("accounts/recovery_codes.html", codes=codes, audience=audience)
    form.code.data = ""
    return _two_factor_page(audience, 422, code_form=form)


@_account_route("/account/two-factor/disable", "disable_two_factor", ("POST",),
                _password_throttled)
def disable_two_factor(audience: str):  # type: ignore[no-untyped-def]
    form = DisableTwoFactorForm()
    if form.validate():
        try:
            two_factor.disable(db.session, access.actor(), _me(), password=form.password.data,
                               code=form.code.data)
        except service.Refused as refused:
            if "" in refused.errors:
                return _two_factor_page(audience, 409, problem=refused.errors[""])
            _refuse(form, refused.errors)
        else:
            flash(_("Two-step sign-in is off. You sign in with your password alone."),
                  "success")
            return done(f"accounts.{audience}_account")
    form.code.data = ""
    return _two_factor_page(audience, 422, disable_form=form)


# Where staff may go while their practice requires two-step sign-in and they have none.
_SETUP_ENDPOINTS = {"accounts.staff_two_factor", "accounts.staff_start_two_factor",
                    "accounts.staff_enable_two_factor"}


@bp.before_app_request
def _require_staff_two_factor():  # type: ignore[no-untyped-def]
    """Staff of a practice that requires two-step sign-in set it up before anything else
    in the office. (Runs after access.enforce: only staff who may be here get this far.)"""
    if not getattr(g.get("practice"), "require_staff_2fa", False):
        return None
    rule = access.rule_of(request.endpoint)
    if rule is None or rule.kind != "staff" or request.endpoint in _SETUP_ENDPOINTS:
        return None
    user = current_user
    if not isinstance(user, StaffUser) or user.two_factor_enabled:
        return None
    return redirect(url_for("accounts.staff_two_factor"))
