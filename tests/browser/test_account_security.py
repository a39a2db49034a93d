"""Forgot password, the account page and two-step setup in a real browser, with JavaScript
on and off; every page visited is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import clock
from portal import db as portal_db
from portal.accounts.two_factor import code_for
from portal.clients import tiers
from portal.notifications.models import OutboxMessage

pytestmark = pytest.mark.browser
NEW = "lentezon fietspad koffie"


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    demo = make.practice("demo", name="Bakker & Visser", brand_color="#1d4f7a")
    korst = make.client(demo, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    return {"sanne": make.client_user(demo, korst, email="sanne@korst.example",
                                      name="Sanne de Boer")}


def _mailed_link(app, path: str) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        body = portal_db.session.scalars(select(OutboxMessage.text_body)
                                         .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"http://demo\.localhost(?::\d+)?(" + path + r"\S+)", body).group(1)


def test_a_forgotten_password_is_replaced_through_a_single_use_link(app, page, live, world,
                                                                    accessible):
    page.goto(live.url("/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    accessible(page)
    page.get_by_label("E-mail address").fill("sanne@korst.example")
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_url(live.url("/login"))
    assert "a mail with a link to choose a new password is on its way" in \
        page.get_by_role("status").inner_text()

    link = _mailed_link(app, "/password/reset/")
    page.goto(live.url(link))
    accessible(page)
    page.get_by_label("New password").fill(NEW)
    page.get_by_label("Repeat the password").fill(NEW)
    page.get_by_role("button", name="Save and sign in").click()
    page.wait_for_load_state()
    assert "Bakkerij De Korst" in page.content()

    page.goto(live.url(link))
    assert page.get_by_role("heading", level=1).inner_text() == \
        "This link has been used already"


def test_the_account_page_sets_up_two_step_sign_in(page, live, world, accessible):
    from tests.factories import PASSWORD

    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill("sanne@korst.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Account").click()
    page.wait_for_url(live.url("/account"))
    accessible(page)

    page.get_by_role("link", name="Set up two-step sign-in").click()
    page.get_by_role("button", name="Set up two-step sign-in").click()
    page.wait_for_url(live.url("/account/two-factor"))
    assert page.get_by_role("img", name="QR code to scan with your authenticator app") \
        .is_visible()
    accessible(page)
    secret = page.locator("code.secret-key").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(code_for(secret, clock.now()))
    page.get_by_role("button", name="Switch two-step sign-in on").click()
    page.wait_for_load_state()
    assert page.locator("ul.recovery-codes li").count() == 10
    accessible(page)
