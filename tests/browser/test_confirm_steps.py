"""Blocking a client, ending the collaboration and cancelling an offer, in Chromium with
JavaScript on and off: one click on the button changes nothing and says why; the ticked box
(or the confirm step of the offer) does it. No browser dialog is involved either way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal import clock
from portal import db as portal_db
from portal.clients import tiers
from portal.clients.models import Client
from portal.collaboration.models import Offer
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser


def _world(app):  # type: ignore[no-untyped-def]
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Online B.V.")
    make.client_user(practice, company, email="owner@online.example")
    prospect = make.client(practice, tiers.STANDARD, name="Prospect B.V.")
    offer = make._save(Offer(practice_id=practice.id, client_id=prospect.id,
                             email="prospect@example.nl", contact_name="Petra",
                             tier=tiers.COLLABORATE, payer="practice",
                             expires_at=clock.now() + timedelta(days=21)))
    return company, offer


def _read(app, model, row_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        return portal_db.session.get(model, row_id)


def _sign_in(page, live) -> list[str]:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Clients").first.wait_for()
    return dialogs


def test_block_and_end_take_a_ticked_box(app, live, page, accessible):  # type: ignore[no-untyped-def]
    company, _offer = _world(app)
    dialogs = _sign_in(page, live)
    panel = live.url(f"/office/clients/{company.id}/collaboration")
    page.goto(panel)

    page.get_by_role("button", name="Block access").click()
    expect(page.get_by_text("Nothing was blocked: tick the box to confirm.")).to_be_visible()
    assert _read(app, Client, company.id).status == "active"
    if page.javascript:
        assert page.url == panel  # swapped in place
    accessible(page)
    page.get_by_label("I understand that its users lose access").check()
    page.get_by_role("button", name="Block access").click()
    expect(page.get_by_text("Online B.V. is blocked")).to_be_visible()
    assert _read(app, Client, company.id).status == "blocked"

    page.get_by_role("button", name="End the collaboration").click()
    expect(page.get_by_text("Nothing has ended: tick the box to confirm.")).to_be_visible()
    assert _read(app, Client, company.id).status == "blocked"
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="End the collaboration").click()
    expect(page.get_by_text("The collaboration with Online B.V. has ended.")).to_be_visible()
    client = _read(app, Client, company.id)
    assert client.status == "ended" and client.purge_after is not None
    assert dialogs == []


def test_cancelling_an_offer_asks_first(app, live, page, accessible):  # type: ignore[no-untyped-def]
    _company, offer = _world(app)
    dialogs = _sign_in(page, live)
    page.goto(live.url("/office/offers"))

    page.get_by_role("link", name="Cancel", exact=True).click()
    confirm = page.get_by_role("button", name="Yes, cancel the offer")
    expect(confirm).to_be_visible()
    expect(page.get_by_text("the link in their mail no longer works")).to_be_visible()
    assert _read(app, Offer, offer.id).state == "pending"
    if page.javascript:
        assert page.url.endswith("/office/offers")  # asked in the offer's row
    else:
        assert page.url.endswith(f"/office/offers/{offer.id}/cancel")
    accessible(page)
    confirm.click()
    expect(page.get_by_text("The offer is cancelled; its link no longer works.")).to_be_visible()
    assert _read(app, Offer, offer.id).state == "cancelled"
    assert dialogs == []
