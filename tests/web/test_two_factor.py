"""Two-step sign-in with an authenticator app (TOTP): setting it up, signing in with a
code or a recovery code, switching it off, and practices that require it of staff."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal import db as portal_db
from portal.accounts.models import RecoveryCode
from portal.accounts.two_factor import code_for
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.notifications.models import OutboxMessage
from portal.tenancy.models import Practice
from tests.factories import PASSWORD, Factory

SECRET_SHOWN = re.compile(r'<code class="secret-key">([A-Z2-7 ]+)</code>')
RECOVERY_SHOWN = re.compile(r"<li><code>([a-z0-9-]{19})</code></li>")
START = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    """The codes depend on the time: every test here runs on a pinned clock."""
    clock.freeze(START)
    yield
    clock.freeze(None)


def _at(seconds: float) -> datetime:
    moment = START + timedelta(seconds=seconds)
    clock.freeze(moment)
    return moment


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    return {"practice": practice,
            "sanne": make.client_user(practice, korst, email="sanne@korst.example"),
            "anna": make.staff(practice, "anna@demo.example", name="Anna Bakker")}


def _enrol(browser, base: str = "/account") -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Set up two-step sign-in as a user does: start, read the key, confirm with a code.
    Returns the secret and the recovery codes shown."""
    browser.submit(f"{base}/two-factor/start", {}, page=f"{base}/two-factor")
    page = browser.get(f"{base}/two-factor").get_data(as_text=True)
    secret = SECRET_SHOWN.search(page).group(1).replace(" ", "")
    shown = browser.submit(f"{base}/two-factor/enable", {"code": code_for(secret, clock.now())},
                           page=f"{base}/two-factor")
    assert shown.status_code == 200
    return secret, RECOVERY_SHOWN.findall(shown.get_data(as_text=True))


@pytest.fixture
def enrolled(app, world):  # type: ignore[no-untyped-def]
    """Sanne has two-step sign-in; a minute later she signs in afresh."""
    browser = app.test_client()
    browser.login_client("sanne@korst.example")
    secret, codes = _enrol(browser)
    _at(60)
    return {"secret": secret, "codes": codes}


def _verify(browser, code: str):  # type: ignore[no-untyped-def]
    return browser.submit("/login/verify", {"code": code}, page="/login/verify")


def _password_step(app):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    response = browser.login_client("sanne@korst.example")
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    return browser


# --- setting it up -----------------------------------------------------------------------

def test_setup_shows_the_qr_code_as_inline_svg_and_the_key_as_text(client, world):
    client.login_client("sanne@korst.example")
    client.submit("/account/two-factor/start", {}, page="/account/two-factor")
    response = client.get("/account/two-factor")
    page = response.get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert 'role="img"' in svg
    assert "<title>QR code to scan with your authenticator app</title>" in svg
    assert "data:" not in page and " style=" not in page and "<img" not in svg
    assert len(SECRET_SHOWN.search(page).group(1).replace(" ", "")) == 32
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_a_wrong_code_does_not_switch_it_on(app, client, world):
    client.login_client("sanne@korst.example")
    client.submit("/account/two-factor/start", {}, page="/account/two-factor")
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_SHOWN.search(page).group(1).replace(" ", "")
    wrong = "000000" if code_for(secret, START) != "000000" else "111111"
    response = client.submit("/account/two-factor/enable", {"code": wrong},
                             page="/account/two-factor")
    assert response.status_code == 422 and "That code is not right" in response.get_data(
        as_text=True)
    assert app.test_client().login_client("sanne@korst.example").headers["Location"] == "/"


def test_switching_on_shows_ten_recovery_codes_once_and_keeps_only_their_hashes(app, world):
    browser = app.test_client()
    browser.login_client("sanne@korst.example")
    _secret, codes = _enrol(browser)
    assert len(codes) == len(set(codes)) == 10
    assert codes[0] not in browser.get("/account/two-factor").get_data(as_text=True)
    with app.app_context():
        stored = list(portal_db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert "10 unused recovery codes" in browser.get("/account/two-factor").get_data(
        as_text=True)


def test_switching_on_is_audited(app, enrolled):
    with app.app_context():
        actions = set(portal_db.session.scalars(select(AuditEvent.action)))
    assert "account.two_factor_enabled" in actions


# --- signing in --------------------------------------------------------------------------

def test_after_the_password_a_code_is_asked_before_anything_opens(app, enrolled):
    browser = _password_step(app)
    assert browser.get("/").status_code == 302  # not signed in yet
    assert browser.get("/account").status_code == 302
    assert "6-digit code" in browser.get("/login/verify").get_data(as_text=True)
    response = _verify(browser, code_for(enrolled["secret"], clock.now()))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert browser.get("/account").status_code == 200


def test_a_wrong_code_is_refused(app, enrolled):
    browser = _password_step(app)
    right = code_for(enrolled["secret"], clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = _verify(browser, wrong)
    assert response.status_code == 422
    assert "That code is not right" in response.get_data(as_text=True)
    assert browser.get("/account").status_code == 302


@pytest.mark.parametrize(("made", "accepted"), [(-30, True), (30, True), (-60, False),
                                                (60, False)])
def test_a_code_of_the_step_before_or_after_is_accepted_but_no_further(app, enrolled, made,
                                                                       accepted):
    browser = _password_step(app)
    code = code_for(enrolled["secret"], clock.now() + timedelta(seconds=made))
    assert (_verify(browser, code).status_code == 302) is accepted


def test_a_code_works_once(app, enrolled):
    code = code_for(enrolled["secret"], clock.now())
    assert _verify(_password_step(app), code).status_code == 302
    replayed = _verify(_password_step(app), code)
    assert replayed.status_code == 422
    assert "used already" in replayed.get_data(as_text=True)


def test_the_code_that_switched_it_on_cannot_sign_in(app, world):
    browser = app.test_client()
    browser.login_client("sanne@korst.example")
    secret, _codes = _enrol(browser)  # used the code of this step
    assert _verify(_password_step(app), code_for(secret, clock.now())).status_code == 422


def test_a_recovery_code_works_once_instead_of_the_app(app, enrolled):
    code = enrolled["codes"][3]
    first = _verify(_password_step(app), code.upper().replace("-", " "))
    assert first.status_code == 302
    assert _verify(_password_step(app), code).status_code == 422
    with app.app_context():
        event = portal_db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "auth.recovery_code_used"))
    assert event.data == {"left": 9}


def test_the_code_must_come_within_five_minutes(app, enrolled):
    browser = _password_step(app)
    token = browser.csrf_token("/login/verify")  # the page opened in time
    _at(60 + 5 * 60 + 1)
    response = browser.post("/login/verify", data={
        "csrf_token": token, "code": code_for(enrolled["secret"], clock.now())})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "ran out" in browser.get("/login").get_data(as_text=True)
    assert browser.get("/account").status_code == 302


def test_the_sign_in_is_audited_as_two_step(app, enrolled):
    _verify(_password_step(app), code_for(enrolled["secret"], clock.now()))
    with app.app_context():
        login = portal_db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.login").order_by(AuditEvent.id)).all()[-1]
    assert login.data == {"method": "password", "two_factor": True}


def test_wrong_codes_are_throttled(app_with):
    app = app_with(TWO_FACTOR_LIMIT="3 per 5 minutes")
    make = Factory(app)
    practice = make.practice("demo")
    make.client_user(practice, make.client(practice), email="sanne@korst.example")
    setup = app.test_client()
    setup.login_client("sanne@korst.example")
    secret, _codes = _enrol(setup)
    _at(60)
    browser = _password_step(app)
    right = code_for(secret, clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    statuses = [_verify(browser, wrong).status_code for _ in range(3)]
    assert statuses == [422, 422, 422]
    assert _verify(browser, right).status_code == 429


def test_a_sign_in_link_also_asks_for_the_code(app, make, world, enrolled):
    token = make.link(world["practice"], "login_link", "sanne@korst.example",
                      subject=("client_users", world["sanne"].id))
    browser = app.test_client()
    response = browser.submit(f"/login/link/{token}", {})
    assert response.headers["Location"] == "/login/verify"
    assert browser.get("/account").status_code == 302
    assert _verify(browser, code_for(enrolled["secret"], clock.now())).status_code == 302


def test_a_password_reset_does_not_skip_the_code(app, make, world, enrolled):
    token = make.link(world["practice"], "password_reset", "sanne@korst.example",
                      subject=("client_users", world["sanne"].id))
    browser = app.test_client()
    new = "lentezon fietspad koffie"
    response = browser.submit(f"/password/reset/{token}", {"password": new, "repeat": new})
    assert response.headers["Location"] == "/login/verify"
    assert browser.get("/account").status_code == 302


# --- switching it off --------------------------------------------------------------------

def _signed_in(app, enrolled):  # type: ignore[no-untyped-def]
    browser = _password_step(app)
    _verify(browser, code_for(enrolled["secret"], clock.now()))
    _at(120)
    return browser


def test_switching_off_takes_the_password_and_a_code(app, enrolled):
    browser = _signed_in(app, enrolled)
    code = code_for(enrolled["secret"], clock.now())
    no_password = browser.submit("/account/two-factor/disable",
                                 {"password": "wrong", "code": code},
                                 page="/account/two-factor")
    assert no_password.status_code == 422
    assert "not your current password" in no_password.get_data(as_text=True)
    no_code = browser.submit("/account/two-factor/disable",
                             {"password": PASSWORD, "code": "123456"
                              if code != "123456" else "654321"},
                             page="/account/two-factor")
    assert no_code.status_code == 422
    assert _password_step(app)  # still on
    done = browser.submit("/account/two-factor/disable", {"password": PASSWORD, "code": code},
                          page="/account/two-factor")
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    assert app.test_client().login_client("sanne@korst.example").headers["Location"] == "/"
    with app.app_context():
        assert portal_db.session.scalar(select(RecoveryCode.id)) is None


def test_a_recovery_code_can_switch_it_off_when_the_phone_is_lost(app, enrolled):
    browser = _signed_in(app, enrolled)
    done = browser.submit("/account/two-factor/disable",
                          {"password": PASSWORD, "code": enrolled["codes"][0]},
                          page="/account/two-factor")
    assert done.status_code == 303


# --- practices that require it of staff --------------------------------------------------

def test_staff_of_a_practice_that_requires_it_set_it_up_before_anything_else(app, make):
    practice = make.practice("demo", require_staff_2fa=True)
    make.staff(practice, "anna@demo.example")
    browser = app.test_client()
    assert browser.login_staff("anna@demo.example").status_code == 302
    for page in ("/office/", "/office/account", "/office/clients"):
        response = browser.get(page)
        assert response.status_code == 302, page
        assert response.headers["Location"] == "/office/account/two-factor", page
    setup = browser.get("/office/account/two-factor").get_data(as_text=True)
    assert "requires two-step sign-in for the office" in setup
    _secret, codes = _enrol(browser, base="/office/account")
    assert len(codes) == 10
    assert browser.get("/office/").status_code == 200


def test_staff_who_have_it_sign_in_with_a_code_where_it_is_required(app, make):
    practice = make.practice("demo", require_staff_2fa=True)
    make.staff(practice, "anna@demo.example")
    first = app.test_client()
    first.login_staff("anna@demo.example")
    secret, _codes = _enrol(first, base="/office/account")
    _at(60)
    browser = app.test_client()
    assert browser.login_staff("anna@demo.example").headers["Location"] == "/login/verify"
    response = _verify(browser, code_for(secret, clock.now()))
    assert response.headers["Location"] == "/office/"
    assert browser.get("/office/").status_code == 200


def test_the_requirement_does_not_touch_client_users(app, make):
    practice = make.practice("demo", require_staff_2fa=True)
    make.client_user(practice, make.client(practice), email="sanne@korst.example")
    browser = app.test_client()
    assert browser.login_client("sanne@korst.example").headers["Location"] == "/"
    assert browser.get("/account").status_code == 200


def test_an_admin_requires_it_on_the_settings_page_and_the_change_is_audited(app, make):
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="admin")
    browser = app.test_client()
    browser.login_staff("anna@demo.example")
    assert 'name="require_staff_2fa"' in browser.get("/office/settings").get_data(
        as_text=True)
    response = browser.submit("/office/settings", {
        "name": "Bakker & Visser", "locale": "en", "theme": "default",
        "reminder_days": "-7, -2, 1", "require_staff_2fa": "y"})
    assert response.status_code == 303
    with app.app_context():
        assert portal_db.session.scalar(select(Practice.require_staff_2fa))
        event = portal_db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "practice.settings_changed"))
    assert event.data["changes"] == {"require_staff_2fa": {"old": False, "new": True}}
    # The admin too, from the next page on.
    assert browser.get("/office/").headers["Location"] == "/office/account/two-factor"


# --- an admin resets it for a colleague who lost the phone and the codes -------------------

def test_an_admin_resets_a_colleagues_two_step_sign_in(app, make):
    practice = make.practice("demo", name="Bakker & Visser", require_staff_2fa=True)
    anna_id = make.staff(practice, "anna@demo.example", name="Anna Bakker").id
    joost = make.staff(practice, "joost@demo.example", role="admin")
    anna = app.test_client()
    anna.login_staff("anna@demo.example")
    _enrol(anna, base="/office/account")
    admin = app.test_client()
    admin.login_staff(joost.email)
    _enrol(admin, base="/office/account")  # the practice asks it of every colleague
    _at(60)

    page = admin.get("/office/staff").get_data(as_text=True)
    reset = f"/office/staff/{anna_id}/reset-two-factor"
    assert f'action="{reset}"' in page
    assert f'action="/office/staff/{joost.id}/reset-two-factor"' not in page  # not one's own
    done = admin.submit(reset, page="/office/staff")
    assert done.status_code == 303
    assert "Two-step sign-in of Anna Bakker is off" in admin.get("/office/staff").get_data(
        as_text=True)
    assert anna.get("/office/").status_code == 302  # her session has ended
    assert "/login" in anna.get("/office/").headers["Location"]
    with app.app_context():
        assert portal_db.session.scalar(select(RecoveryCode.id).where(
            RecoveryCode.staff_user_id == anna_id)) is None
        mail = portal_db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "two_factor_reset"))
        event = portal_db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "staff.two_factor_reset"))
        assert mail.recipient == "anna@demo.example"
        assert "joost@demo.example switched off the two-step sign-in" in mail.text_body
        assert event.actor_label == "joost@demo.example" and event.subject_id == anna_id

    # The password alone signs her in again, straight into setting it up anew.
    again = app.test_client()
    assert again.login_staff("anna@demo.example").headers["Location"] != "/login/verify"
    assert again.get("/office/clients").headers["Location"] == "/office/account/two-factor"


def test_an_admin_cannot_reset_their_own_two_step_sign_in(app, make):
    practice = make.practice("demo")
    joost = make.staff(practice, "joost@demo.example", role="admin")
    admin = app.test_client()
    admin.login_staff(joost.email)
    _enrol(admin, base="/office/account")
    refused = admin.submit(f"/office/staff/{joost.id}/reset-two-factor", page="/office/staff")
    assert refused.status_code == 409
    assert "Switch your own two-step sign-in off under Account" in refused.get_data(
        as_text=True)


# --- the key is sealed in the database -------------------------------------------------------

def test_the_key_is_stored_sealed_and_a_key_stored_plain_is_sealed_at_the_next_code(
        app, world, enrolled):
    from portal.accounts.models import ClientUser

    with app.app_context():
        sanne = portal_db.session.scalar(select(ClientUser).where(
            ClientUser.email == "sanne@korst.example"))
        assert sanne.totp_secret.startswith("v1:")
        assert enrolled["secret"] not in sanne.totp_secret
        sanne.totp_secret = enrolled["secret"]  # as keys were kept before they were sealed
        portal_db.session.commit()
    browser = _password_step(app)
    assert _verify(browser, code_for(enrolled["secret"], clock.now())).status_code == 302
    with app.app_context():
        stored = portal_db.session.scalar(select(ClientUser.totp_secret).where(
            ClientUser.email == "sanne@korst.example"))
    assert stored.startswith("v1:") and enrolled["secret"] not in stored
    _at(120)
    again = _password_step(app)
    assert _verify(again, code_for(enrolled["secret"], clock.now())).status_code == 302
