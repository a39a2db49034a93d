"""Forgot password: a one-time link by mail (1 hour) to choose a new one, for staff and
client users; every earlier session ends."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal import db as portal_db
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.notifications.worker import Worker
from tests.factories import PASSWORD, Factory

NEW = "lentezon fietspad koffie"
ANSWER = "a mail with a link to choose a new password is on its way"


@pytest.fixture
def world(mail_app):  # type: ignore[no-untyped-def]
    make = Factory(mail_app)
    practice = make.practice("demo", name="Bakker & Visser")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    return {
        "practice": practice,
        "anna": make.staff(practice, "anna@demo.example", name="Anna Bakker"),
        "sanne": make.client_user(practice, company, email="sanne@korst.example",
                                  name="Sanne de Boer"),
    }


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    start = clock.now()
    clock.freeze(start)
    yield start
    clock.freeze(None)


def _ask(app, smtp, address: str, page: str = "/office/password/forgot", browser=None):  # type: ignore[no-untyped-def]
    """Ask for a reset link as a user does; returns the answer and the link's path (or
    None when no mail came)."""
    browser = browser or app.test_client()
    before = len(smtp.to(address))
    answer = browser.submit(page, {"email": address})
    Worker(app).run_pass()
    mails = smtp.to(address)[before:]
    if not mails:
        return answer, None
    text = mails[-1].get_body(("plain",)).get_content()
    return answer, re.search(r"http://demo\.localhost:5000(/password/reset/\S+)", text).group(1)


def _choose(browser, link: str, password: str = NEW):  # type: ignore[no-untyped-def]
    return browser.submit(link, {"password": password, "repeat": password})


def test_staff_choose_a_new_password_through_the_link_and_are_signed_in(mail_app, smtp, world):
    answer, link = _ask(mail_app, smtp, "anna@demo.example")
    assert answer.status_code == 303 and answer.headers["Location"] == "/office/login"
    mail = smtp.to("anna@demo.example")[-1]
    assert mail["Subject"] == "Choose a new password for Bakker & Visser"
    browser = mail_app.test_client()
    response = _choose(browser, link)
    assert response.status_code == 302 and response.headers["Location"] == "/office/"
    assert "Anna Bakker" in browser.get("/office/").get_data(as_text=True)
    assert mail_app.test_client().login_staff("anna@demo.example", PASSWORD).status_code == 422
    assert mail_app.test_client().login_staff("anna@demo.example", NEW).status_code == 302


def test_client_users_choose_a_new_password_on_the_same_page_and_land_in_the_portal(
        mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "sanne@korst.example", page="/password/forgot")
    assert link.startswith("/password/reset/")
    browser = mail_app.test_client()
    response = _choose(browser, link)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Korst" in browser.get("/", follow_redirects=True).get_data(as_text=True)
    assert mail_app.test_client().login_client("sanne@korst.example", NEW).status_code == 302


def test_the_login_pages_link_to_forgot_password(client, world):
    assert 'href="/office/password/forgot"' in client.get("/office/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)


def test_opening_the_link_only_shows_the_form(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    scanner = mail_app.test_client()
    page = scanner.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert scanner.get(link).status_code == 200
    assert scanner.get("/office/").status_code == 302  # opening signed nobody in
    assert mail_app.test_client().login_staff("anna@demo.example").status_code == 302
    assert _choose(mail_app.test_client(), link).status_code == 302  # still usable


def test_the_link_works_once(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    assert _choose(mail_app.test_client(), link).status_code == 302
    again = _choose(mail_app.test_client(), link, "een heel ander wachtwoord 7")
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)
    opened = mail_app.test_client().get(link)
    assert opened.status_code == 410
    assert mail_app.test_client().login_staff("anna@demo.example", NEW).status_code == 302


def test_the_link_expires_after_an_hour(mail_app, smtp, world, frozen):
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    clock.freeze(frozen + timedelta(minutes=59))
    assert mail_app.test_client().get(link).status_code == 200
    clock.freeze(frozen + timedelta(minutes=61))
    response = _choose(mail_app.test_client(), link)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert mail_app.test_client().login_staff("anna@demo.example", PASSWORD).status_code == 302


def test_a_newer_link_replaces_the_earlier_one(mail_app, smtp, world):
    _answer, first = _ask(mail_app, smtp, "anna@demo.example")
    _answer, second = _ask(mail_app, smtp, "anna@demo.example")
    assert _choose(mail_app.test_client(), first).status_code == 410
    assert _choose(mail_app.test_client(), second).status_code == 302


def test_every_earlier_session_ends_and_a_copied_cookie_is_anonymous(mail_app, smtp, world):
    laptop = mail_app.test_client()
    laptop.login_staff("anna@demo.example")
    stolen = laptop.get_cookie("portal", domain="demo.localhost").value
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    _choose(mail_app.test_client(), link)
    assert laptop.get("/office/").status_code == 302
    thief = mail_app.test_client()
    thief.set_cookie("portal", stolen, domain="demo.localhost")
    assert thief.get("/office/").status_code == 302
    Worker(mail_app).run_pass()
    notice = smtp.to("anna@demo.example")[-1]
    assert notice["Subject"] == "Your password for Bakker & Visser was changed"


def test_unknown_addresses_get_the_same_answer_and_no_mail(mail_app, smtp, world):
    known, link = _ask(mail_app, smtp, "anna@demo.example")
    unknown, nothing = _ask(mail_app, smtp, "nobody@demo.example")
    client_address, none_either = _ask(mail_app, smtp, "sanne@korst.example")  # not staff
    assert link and nothing is None and none_either is None
    assert known.status_code == unknown.status_code == client_address.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    notices = []
    for address in ("anna@demo.example", "nobody@demo.example"):
        browser = mail_app.test_client()
        browser.submit("/office/password/forgot", {"email": address})
        page = browser.get("/office/login").get_data(as_text=True)
        notices.append(re.findall(r'<p class="notice[^>]*>([^<]*)</p>', page.replace(address, "@")))
    assert ANSWER in notices[0][0] and notices[0] == notices[1]


def test_deactivated_staff_get_no_link(mail_app, smtp, world):
    Factory(mail_app).staff(world["practice"], "gone@demo.example", active=False)
    _answer, link = _ask(mail_app, smtp, "gone@demo.example")
    assert link is None


def test_a_weak_password_is_refused_and_the_link_stays_usable(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    browser = mail_app.test_client()
    weak = _choose(browser, link, "welkom123456")
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    assert "welkom123456" not in weak.get_data(as_text=True)
    differ = browser.submit(link, {"password": NEW, "repeat": NEW + "x"})
    assert differ.status_code == 422 and "The passwords differ" in differ.get_data(as_text=True)
    assert _choose(browser, link).status_code == 302


def test_a_tampered_link_gets_a_friendly_page(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    response = mail_app.test_client().get(link[:-3] + "xyz")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This link is not valid" in page and "anna" not in page.lower()


def test_a_link_of_another_purpose_does_not_reset(mail_app, world):
    make = Factory(mail_app)
    token = make.link(world["practice"], "login_link", "sanne@korst.example",
                      subject=("client_users", world["sanne"].id))
    assert mail_app.test_client().get(f"/password/reset/{token}").status_code == 404


def test_the_link_does_not_work_on_another_practices_host(mail_app, smtp, world):
    Factory(mail_app).practice("other")
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    response = mail_app.test_client().on("other.localhost").get(link)
    assert response.status_code == 404


def test_asking_is_throttled_per_address(app_with):
    app = app_with(MAIL_LINK_LIMIT_PER_EMAIL="2 per 15 minutes")
    make = Factory(app)
    make.staff(make.practice("demo"), "anna@demo.example")
    browser = app.test_client()
    statuses = [browser.submit("/office/password/forgot", {"email": "anna@demo.example"},
                               page="/office/login").status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    other = browser.submit("/office/password/forgot", {"email": "bob@demo.example"},
                           page="/office/login")
    assert other.status_code == 303


def test_asking_is_throttled_per_ip_across_addresses(app_with):
    app = app_with(MAIL_LINK_LIMIT_PER_IP="3 per 15 minutes")
    Factory(app).practice("demo")
    browser = app.test_client()
    statuses = [browser.submit("/password/forgot", {"email": f"user{n}@demo.example"},
                               page="/login").status_code for n in range(4)]
    assert statuses == [303, 303, 303, 429]
    assert "Too many attempts" in browser.submit(
        "/password/forgot", {"email": "x@demo.example"}, page="/login").get_data(as_text=True)


def test_request_and_reset_are_in_the_audit_log(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "anna@demo.example")
    _choose(mail_app.test_client(), link)
    with mail_app.app_context():
        actions = list(portal_db.session.scalars(select(AuditEvent.action)
                                                 .order_by(AuditEvent.id)))
    assert actions[:2] == ["auth.password_reset_requested", "auth.password_reset"]
    assert "auth.login" in actions
