"""Forgot password, sign-in links, two-step sign-in, address confirmation and the account
pages (/account for client users, /office/account for staff)."""

from tests.security.matrix import LOGIN, OK, Route, client_only, everyone, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    demo = world["demo"]
    # Users of their own, so that using their links changes no actor of the matrix.
    resetter = make.client_user(demo, world["company"], email="resetter@company.example")
    world["reset_token"] = make.link(demo, "password_reset", resetter.email,
                                     subject=("client_users", resetter.id))
    linker = make.client_user(demo, world["company"], email="linker@company.example")
    world["login_token"] = make.link(demo, "login_link", linker.email,
                                     subject=("client_users", linker.id))
    mover = make.client_user(demo, world["company"], email="mover@company.example")
    world["email_token"] = make.link(demo, "email_change", "moved@company.example",
                                     subject=("client_users", mover.id))


def _both(rule: str, name: str, method: str, **kwargs):  # type: ignore[no-untyped-def]
    """The client user's row at `rule` and the staff row at /office`rule`."""
    staff_expect = kwargs.pop("staff_expect", staff_only())
    client_expect = kwargs.pop("client_expect", client_only())
    return [Route(f"accounts.staff_{name}", method, "/office" + rule, staff_expect, **kwargs),
            Route(f"accounts.client_{name}", method, rule, client_expect, **kwargs)]


# Who signs out everywhere is sent to sign in again, like anyone not allowed.
SIGNED_OUT_STAFF = {**staff_only(), "staff": LOGIN, "admin": LOGIN}
SIGNED_OUT_CLIENT = {**client_only(), "client": LOGIN}

ROUTES = [
    # Asking for a mail: these POSTs send no valid address (422), so nothing is mailed.
    Route("accounts.staff_forgot_password", "GET", "/office/password/forgot", everyone(OK)),
    Route("accounts.staff_forgot_password", "POST", "/office/password/forgot", everyone(OK),
          {"email": ""}),
    Route("accounts.client_forgot_password", "GET", "/password/forgot", everyone(OK)),
    Route("accounts.client_forgot_password", "POST", "/password/forgot", everyone(OK),
          {"email": ""}),
    Route("accounts.request_login_link", "GET", "/login/link", everyone(OK)),
    Route("accounts.request_login_link", "POST", "/login/link", everyone(OK), {"email": ""}),
    # The links are for whoever holds them. The reset POST sends no password (422), so the
    # link stays unused; the sign-in link POST signs its holder in as the linker.
    Route("accounts.reset_password", "GET", lambda w: f"/password/reset/{w['reset_token']}",
          everyone(OK)),
    Route("accounts.reset_password", "POST", lambda w: f"/password/reset/{w['reset_token']}",
          everyone(OK)),
    Route("accounts.login_link", "GET", lambda w: f"/login/link/{w['login_token']}",
          everyone(OK)),
    Route("accounts.login_link", "POST", lambda w: f"/login/link/{w['login_token']}",
          everyone(OK), ends_session=True),
    # The address changes; who is not signed in as its owner is sent to sign in with it.
    Route("accounts.confirm_email", "GET", lambda w: f"/email/confirm/{w['email_token']}",
          everyone(OK)),
    Route("accounts.confirm_email", "POST", lambda w: f"/email/confirm/{w['email_token']}",
          everyone(LOGIN)),
    # Nobody here owes a code: the verification page sends everyone to sign in.
    Route("accounts.verify_login", "GET", "/login/verify", everyone(LOGIN)),
    Route("accounts.verify_login", "POST", "/login/verify", everyone(LOGIN), {"code": "1"}),
    # One's own account: the POSTs send nothing valid (422) unless nothing is needed.
    *_both("/account", "account", "GET"),
    *_both("/account/password", "change_password", "POST"),
    *_both("/account/email", "change_email", "POST"),
    *_both("/account/two-factor", "two_factor", "GET"),
    *_both("/account/two-factor/start", "start_two_factor", "POST"),
    *_both("/account/two-factor/enable", "enable_two_factor", "POST"),
    *_both("/account/two-factor/disable", "disable_two_factor", "POST"),
    *_both("/account/sign-out-everywhere", "sign_out_everywhere", "POST",
           staff_expect=SIGNED_OUT_STAFF, client_expect=SIGNED_OUT_CLIENT, ends_session=True),
]
