"""A bulk tier change in Chromium, JavaScript on and off: what is applied is exactly the
selection that was confirmed, even when a client changes in another tab meanwhile."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal import db as portal_db
from portal.clients import tiers
from portal.clients.models import Client
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser


def _tiers(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return dict(portal_db.session.execute(
            select(Client.tier, func.count()).group_by(Client.tier)).all())


def test_a_client_changed_meanwhile_stops_the_change_until_it_is_confirmed_again(
        app, live, page, accessible):
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="admin")
    make.client(practice, tiers.STANDARD, name="Bakker Noord")
    make.client(practice, tiers.STANDARD, name="Bakker Zuid")
    make.client(practice, tiers.STANDARD, name="Slager")

    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/office/clients?q=Bakker"))
    page.get_by_label("all 2 clients that match, on every page").check()
    page.get_by_label("New tier").select_option("collaborate")
    page.get_by_role("button", name="Review the change").click()
    expect(page.get_by_role("heading", name="Move 2 clients to Collaborate?")).to_be_visible()

    make.client(practice, tiers.STANDARD, name="Bakker West")  # in another tab, meanwhile
    page.get_by_role("button", name="Change 2 clients").click()
    expect(page.get_by_text("The selection has changed since you checked it")).to_be_visible()
    expect(page.get_by_role("heading", name="Move 3 clients to Collaborate?")).to_be_visible()
    assert _tiers(app) == {"standard": 4}
    accessible(page)

    page.get_by_role("button", name="Change 3 clients").click()
    expect(page.get_by_text("3 clients are now on Collaborate")).to_be_visible()
    assert _tiers(app) == {"collaborate": 3, "standard": 1}
