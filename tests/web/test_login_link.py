"""Signing in with a link by mail: client users with a portal company, once, 15 minutes."""

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
from tests.factories import Factory

ANSWER = "a mail with a sign-in link is on its way"


@pytest.fixture
def world(mail_app):  # type: ignore[no-untyped-def]
    make = Factory(mail_app)
    practice = make.practice("demo", name="Bakker & Visser")
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    basic = make.client(practice, tiers.COLLABORATE, name="Alleen Links B.V.")
    return {
        "practice": practice,
        "sanne": make.client_user(practice, korst, email="sanne@korst.example"),
        "linksonly": make.client_user(practice, basic, email="piet@links.example"),
        "anna": make.staff(practice, "anna@demo.example"),
    }


def _ask(app, smtp, address: str, browser=None):  # type: ignore[no-untyped-def]
    """Ask for a sign-in link as a user does; the answer, and the link's path or None."""
    browser = browser or app.test_client()
    before = len(smtp.to(address))
    answer = browser.submit("/login/link", {"email": address})
    Worker(app).run_pass()
    mails = smtp.to(address)[before:]
    if not mails:
        return answer, None
    text = mails[-1].get_body(("plain",)).get_content()
    return answer, re.search(r"http://demo\.localhost:5000(/login/link/\S+)", text).group(1)


def test_the_client_login_page_offers_a_link_by_mail_and_the_office_does_not(client, world):
    assert 'href="/login/link"' in client.get("/login").get_data(as_text=True)
    assert 'href="/login/link"' not in client.get("/office/login").get_data(as_text=True)


def test_a_client_user_signs_in_with_the_link_from_the_mail(mail_app, smtp, world):
    answer, link = _ask(mail_app, smtp, "sanne@korst.example")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert smtp.to("sanne@korst.example")[-1]["Subject"] == \
        "Your sign-in link for Bakker & Visser"
    phone = mail_app.test_client()
    page = phone.get(link)
    assert page.status_code == 200 and "sanne@korst.example" in page.get_data(as_text=True)
    assert phone.get("/").status_code == 302  # showing the page signed nobody in
    response = phone.submit(link, {})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Korst" in phone.get("/", follow_redirects=True).get_data(as_text=True)


def test_opening_the_link_does_not_use_it(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "sanne@korst.example")
    scanner = mail_app.test_client()
    assert scanner.get(link).status_code == 200
    assert scanner.get(link).status_code == 200
    assert mail_app.test_client().submit(link, {}).status_code == 302


def test_the_link_works_once(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "sanne@korst.example")
    assert mail_app.test_client().submit(link, {}).status_code == 302
    second = mail_app.test_client()
    response = second.post(link, data={"csrf_token": second.csrf_token("/login")})
    assert response.status_code == 410 and "used already" in response.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_the_link_expires_after_15_minutes(mail_app, smtp, world):
    start = clock.now()
    clock.freeze(start)
    _answer, link = _ask(mail_app, smtp, "sanne@korst.example")
    clock.freeze(start + timedelta(minutes=14))
    assert mail_app.test_client().get(link).status_code == 200
    clock.freeze(start + timedelta(minutes=16))
    browser = mail_app.test_client()
    response = browser.post(link, data={"csrf_token": browser.csrf_token("/login")})
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert browser.get("/").status_code == 302


@pytest.mark.parametrize("address", ["nobody@korst.example", "piet@links.example",
                                     "anna@demo.example"])
def test_who_may_not_sign_in_this_way_gets_the_same_answer_and_no_mail(mail_app, smtp, world,
                                                                        address):
    known, link = _ask(mail_app, smtp, "sanne@korst.example")
    other, nothing = _ask(mail_app, smtp, address)
    assert link is not None and nothing is None
    assert known.status_code == other.status_code == 303
    assert known.headers["Location"] == other.headers["Location"]
    browser = mail_app.test_client()
    browser.submit("/login/link", {"email": address})
    assert ANSWER in browser.get("/login").get_data(as_text=True)


def test_a_link_whose_company_lost_the_portal_signs_nobody_in(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "sanne@korst.example")
    with mail_app.app_context():
        from portal.clients.models import Client

        korst = portal_db.session.scalar(select(Client).where(Client.name == "Korst"))
        korst.tier = tiers.COLLABORATE
        portal_db.session.commit()
    browser = mail_app.test_client()
    response = browser.submit(link, {})
    assert response.headers["Location"] == "/login"
    assert browser.get("/").status_code == 302
    assert "no portal to sign in to" in browser.get("/login").get_data(as_text=True)


def test_asking_is_throttled_per_address(app_with):
    app = app_with(MAIL_LINK_LIMIT_PER_EMAIL="2 per 15 minutes")
    Factory(app).practice("demo")
    browser = app.test_client()
    statuses = [browser.submit("/login/link", {"email": "sanne@korst.example"},
                               page="/login").status_code for _ in range(3)]
    assert statuses == [303, 303, 429]


def test_signing_in_with_a_link_is_in_the_audit_log(mail_app, smtp, world):
    _answer, link = _ask(mail_app, smtp, "sanne@korst.example")
    mail_app.test_client().submit(link, {})
    with mail_app.app_context():
        events = list(portal_db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["auth.login_link_requested", "auth.login_link_used",
                                          "auth.login"]
    assert events[-1].data == {"method": "login_link"}
