"""A contact person invited to the portal chooses a password through a one-time link."""

from __future__ import annotations

import re

import pytest

from portal.clients import tiers
from portal.notifications.worker import Worker
from tests.factories import Factory

STRONG = "lentezon fietspad koffie"


@pytest.fixture
def invited(mail_app, smtp):  # type: ignore[no-untyped-def]
    make = Factory(mail_app)
    practice = make.practice("demo", name="Bakker & Visser")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    admin = make.staff(practice, "anna@demo.example", role="admin")
    staff = mail_app.test_client()
    staff.login_staff(admin.email)
    card = f"/office/clients/{company.id}"
    staff.submit(f"{card}/contacts", {"name": "Sanne de Boer", "email": "sanne@korst.example",
                                      "locale": "en"}, page=card)
    Worker(mail_app).run_pass()
    mail = smtp.to("sanne@korst.example")[0]
    link = re.search(r"http://demo\.localhost:5000(/invitation/\S+)",
                     mail.get_body(("plain",)).get_content()).group(1)
    return {"link": link, "mail": mail}


def test_invitation_mail_is_branded_and_in_the_contacts_language(invited):
    mail = invited["mail"]
    assert mail["Subject"] == "Your portal at Bakker & Visser"
    assert "Korst" in mail.get_body(("plain",)).get_content()


def test_opening_the_link_changes_nothing_and_setting_a_password_signs_in(mail_app, invited):
    browser = mail_app.test_client()
    assert browser.get(invited["link"]).status_code == 200
    assert browser.get(invited["link"]).status_code == 200  # a mail scanner opened it: fine
    response = browser.submit(invited["link"], {"password": STRONG, "repeat": STRONG})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Korst" in browser.get("/", follow_redirects=True).get_data(as_text=True)
    again = mail_app.test_client().get(invited["link"])
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)
    fresh = mail_app.test_client()
    assert fresh.login_client("sanne@korst.example", STRONG).status_code == 302


def test_a_weak_password_is_refused_with_a_reason(mail_app, invited):
    browser = mail_app.test_client()
    response = browser.submit(invited["link"], {"password": "welkom123456",
                                                "repeat": "welkom123456"})
    assert response.status_code == 422
    assert "too easy to guess" in response.get_data(as_text=True)
    short = browser.submit(invited["link"], {"password": "kort", "repeat": "kort"})
    assert "at least 12 characters" in short.get_data(as_text=True)


def test_a_tampered_link_gets_a_friendly_page(mail_app, invited):
    response = mail_app.test_client().get(invited["link"][:-3] + "xyz")
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)
    assert "Sanne" not in response.get_data(as_text=True)


def test_the_link_does_not_work_on_another_practices_host(mail_app, invited):
    Factory(mail_app).practice("other")
    response = mail_app.test_client().on("other.localhost").get(invited["link"])
    assert response.status_code == 404 and "another address" in response.get_data(as_text=True)
