"""One's own account: change password, change e-mail address, sign out everywhere."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import db as portal_db
from portal.accounts.models import ClientUser
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.notifications.worker import Worker
from tests.factories import PASSWORD, Factory

NEW = "lentezon fietspad koffie"


@pytest.fixture
def world(mail_app):  # type: ignore[no-untyped-def]
    make = Factory(mail_app)
    practice = make.practice("demo", name="Bakker & Visser")
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    return {
        "practice": practice,
        "korst": korst,
        "sanne": make.client_user(practice, korst, email="sanne@korst.example",
                                  name="Sanne de Boer"),
        "anna": make.staff(practice, "anna@demo.example", name="Anna Bakker"),
    }


@pytest.fixture
def sanne(mail_app, world):  # type: ignore[no-untyped-def]
    browser = mail_app.test_client()
    assert browser.login_client("sanne@korst.example").status_code == 302
    return browser


def _cookie(browser) -> str:  # type: ignore[no-untyped-def]
    return browser.get_cookie("portal", domain="demo.localhost").value


def _as(app, cookie: str):  # type: ignore[no-untyped-def]
    """Another browser holding a copy of a session cookie."""
    browser = app.test_client()
    browser.set_cookie("portal", cookie, domain="demo.localhost")
    return browser


def _stored_email(app, user_id: int) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return portal_db.session.get(ClientUser, user_id).email


def _mail_link(app, smtp, address: str, pattern: str) -> str:  # type: ignore[no-untyped-def]
    Worker(app).run_pass()
    text = smtp.to(address)[-1].get_body(("plain",)).get_content()
    return re.search(r"http://demo\.localhost:5000(" + pattern + r"\S+)", text).group(1)


def test_the_header_links_to_the_account_page(sanne, mail_app):
    page = sanne.get("/account").get_data(as_text=True)
    assert 'href="/account"' in page and "sanne@korst.example" in page
    staff = mail_app.test_client()
    staff.login_staff("anna@demo.example")
    office = staff.get("/office/account").get_data(as_text=True)
    assert 'href="/office/account"' in office and "anna@demo.example" in office
    assert staff.get("/account").status_code == 404
    assert sanne.get("/office/account").status_code == 404


# --- password ----------------------------------------------------------------------------

def test_changing_the_password_keeps_this_browser_and_ends_every_other_session(
        sanne, mail_app, smtp):
    other_device = mail_app.test_client()
    other_device.login_client("sanne@korst.example")
    copy_of_this_one = _cookie(sanne)
    response = sanne.submit("/account/password", {"current_password": PASSWORD,
                                                  "new_password": NEW, "repeat": NEW},
                            page="/account")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "signed out on every other device" in sanne.get("/account").get_data(as_text=True)
    assert other_device.get("/account").status_code == 302
    assert _as(mail_app, copy_of_this_one).get("/account").status_code == 302
    assert mail_app.test_client().login_client("sanne@korst.example").status_code == 422
    assert mail_app.test_client().login_client("sanne@korst.example", NEW).status_code == 302
    Worker(mail_app).run_pass()
    assert smtp.to("sanne@korst.example")[-1]["Subject"] == \
        "Your password for Bakker & Visser was changed"


def test_a_wrong_current_password_or_a_weak_new_one_is_refused(sanne, mail_app):
    wrong = sanne.submit("/account/password", {"current_password": "not it",
                                               "new_password": NEW, "repeat": NEW},
                         page="/account")
    assert wrong.status_code == 422
    assert "not your current password" in wrong.get_data(as_text=True)
    weak = sanne.submit("/account/password", {"current_password": PASSWORD,
                                              "new_password": "welkom123456",
                                              "repeat": "welkom123456"}, page="/account")
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    assert "welkom123456" not in weak.get_data(as_text=True)
    assert mail_app.test_client().login_client("sanne@korst.example").status_code == 302


def test_staff_change_their_password_on_the_office_account_page(mail_app):
    make = Factory(mail_app)
    make.staff(make.practice("demo"), "anna@demo.example")
    browser = mail_app.test_client()
    browser.login_staff("anna@demo.example")
    response = browser.submit("/office/account/password",
                              {"current_password": PASSWORD, "new_password": NEW,
                               "repeat": NEW}, page="/office/account")
    assert response.headers["Location"] == "/office/account"
    assert mail_app.test_client().login_staff("anna@demo.example", NEW).status_code == 302


def test_wrong_passwords_on_the_account_page_are_throttled(app_with):
    app = app_with(LOGIN_LIMIT_PER_EMAIL="3 per 15 minutes")
    make = Factory(app)
    practice = make.practice("demo")
    make.client_user(practice, make.client(practice), email="sanne@korst.example")
    browser = app.test_client()
    browser.login_client("sanne@korst.example")
    statuses = [browser.submit("/account/password", {"current_password": "guess",
                                                     "new_password": NEW, "repeat": NEW},
                               page="/account").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


# --- e-mail address ----------------------------------------------------------------------

def test_a_new_address_counts_once_the_link_mailed_to_it_is_used(sanne, mail_app, smtp, world):
    response = sanne.submit("/account/email", {"email": "Sanne@Nieuw.example",
                                               "password": PASSWORD}, page="/account")
    assert response.status_code == 303
    assert "We sent a link to sanne@nieuw.example" in sanne.get("/account").get_data(
        as_text=True)
    link = _mail_link(mail_app, smtp, "sanne@nieuw.example", "/email/confirm/")
    notice = smtp.to("sanne@korst.example")[-1]
    assert "sanne@nieuw.example" in notice.get_body(("plain",)).get_content()
    assert _stored_email(mail_app, world["sanne"].id) == "sanne@korst.example"

    other = mail_app.test_client()
    assert other.get(link).status_code == 200  # showing the page changes nothing
    assert _stored_email(mail_app, world["sanne"].id) == "sanne@korst.example"
    confirmed = other.submit(link, {})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/login"
    assert _stored_email(mail_app, world["sanne"].id) == "sanne@nieuw.example"
    assert mail_app.test_client().login_client("sanne@nieuw.example").status_code == 302
    assert mail_app.test_client().login_client("sanne@korst.example").status_code == 422
    again = mail_app.test_client().submit(link, {})
    assert again.status_code == 410


def test_confirming_in_the_signed_in_browser_returns_to_the_account_page(sanne, mail_app,
                                                                         smtp):
    sanne.submit("/account/email", {"email": "sanne@nieuw.example", "password": PASSWORD},
                 page="/account")
    link = _mail_link(mail_app, smtp, "sanne@nieuw.example", "/email/confirm/")
    response = sanne.submit(link, {})
    assert response.headers["Location"] == "/account"
    assert "sanne@nieuw.example" in sanne.get("/account").get_data(as_text=True)


def test_an_address_another_client_user_has_is_refused_with_a_clear_message(
        sanne, mail_app, world):
    Factory(mail_app).client_user(world["practice"], world["korst"], email="piet@korst.example")
    response = sanne.submit("/account/email", {"email": "piet@korst.example",
                                               "password": PASSWORD}, page="/account")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Another account here uses this address already" in page
    assert 'value="piet@korst.example"' in page  # what was typed stays
    assert PASSWORD not in page


def test_an_address_taken_before_the_link_is_used_is_refused_then(sanne, mail_app, smtp,
                                                                  world):
    sanne.submit("/account/email", {"email": "sanne@nieuw.example", "password": PASSWORD},
                 page="/account")
    link = _mail_link(mail_app, smtp, "sanne@nieuw.example", "/email/confirm/")
    Factory(mail_app).client_user(world["practice"], email="sanne@nieuw.example")
    response = mail_app.test_client().submit(link, {})
    assert response.status_code == 409
    assert "Another account here uses this address already" in response.get_data(as_text=True)
    assert _stored_email(mail_app, world["sanne"].id) == "sanne@korst.example"


def test_a_staff_members_address_is_no_obstacle_for_a_client_user(sanne, mail_app, smtp,
                                                                  world):
    response = sanne.submit("/account/email", {"email": "anna@demo.example",
                                               "password": PASSWORD}, page="/account")
    assert response.status_code == 303


def test_changing_the_address_takes_the_current_password(sanne, mail_app, smtp):
    response = sanne.submit("/account/email", {"email": "sanne@nieuw.example",
                                               "password": "wrong"}, page="/account")
    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)
    Worker(mail_app).run_pass()
    assert smtp.to("sanne@nieuw.example") == []


def test_a_new_password_stops_a_pending_address_change(sanne, mail_app, smtp):
    sanne.submit("/account/email", {"email": "sanne@nieuw.example", "password": PASSWORD},
                 page="/account")
    link = _mail_link(mail_app, smtp, "sanne@nieuw.example", "/email/confirm/")
    sanne.submit("/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                       "repeat": NEW}, page="/account")
    assert mail_app.test_client().get(link).status_code == 410


def test_address_changes_are_in_the_audit_log(sanne, mail_app, smtp):
    sanne.submit("/account/email", {"email": "sanne@nieuw.example", "password": PASSWORD},
                 page="/account")
    sanne.submit(_mail_link(mail_app, smtp, "sanne@nieuw.example", "/email/confirm/"), {})
    with mail_app.app_context():
        event = portal_db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "account.email_changed"))
    assert event.data == {"old": "sanne@korst.example", "new": "sanne@nieuw.example"}


# --- sign out everywhere -----------------------------------------------------------------

def test_signing_out_everywhere_ends_every_session_this_one_too(sanne, mail_app):
    other_device = mail_app.test_client()
    other_device.login_client("sanne@korst.example")
    copy = _cookie(sanne)
    response = sanne.submit("/account/sign-out-everywhere", {}, page="/account")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "signed out everywhere" in sanne.get("/login").get_data(as_text=True)
    for browser in (sanne, other_device, _as(mail_app, copy)):
        assert browser.get("/account").status_code == 302
    assert mail_app.test_client().login_client("sanne@korst.example").status_code == 302


def test_staff_sign_out_everywhere_from_the_office(mail_app):
    make = Factory(mail_app)
    make.staff(make.practice("demo"), "anna@demo.example")
    browser = mail_app.test_client()
    browser.login_staff("anna@demo.example")
    copy = _cookie(browser)
    response = browser.submit("/office/account/sign-out-everywhere", {},
                              page="/office/account")
    assert response.headers["Location"] == "/office/login"
    assert _as(mail_app, copy).get("/office/").status_code == 302
