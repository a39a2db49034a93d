"""The offer wizard in Chromium, with JavaScript on and off: one mistake on each step,
corrected there, and what is sent is what was corrected."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.clients import tiers
from portal.clients.models import Client
from portal.collaboration.models import Offer
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser


def test_a_mistake_on_each_step_is_corrected_there(app, live, page, accessible, db):
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")
    # Every client kept is online already: "a client we already keep" has none to choose.
    make.client(practice, tiers.COLLABORATE_PLUS, name="Al Online")

    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/office/offers/new"))
    nxt = page.get_by_role("button", name="Next")

    # Start: a client we already keep, but there is none to choose.
    nxt.click()
    expect(page.get_by_text("Choose a client.")).to_be_visible()
    page.get_by_label("A new client").check()
    nxt.click()

    # The new client: a KvK number of letters.
    page.get_by_label("Company name").fill("Slagerij Vers")
    page.get_by_label("Client number").fill("2002")
    page.get_by_label("KvK number").fill("abc")
    nxt.click()
    expect(page.get_by_text("A KvK number has 8 digits.")).to_be_visible()
    expect(page.get_by_label("KvK number")).to_have_value("abc")
    accessible(page)
    page.get_by_label("KvK number").fill("55667788")
    nxt.click()
    expect(page.get_by_role("heading", name="The contact at Slagerij Vers")).to_be_visible()

    # The contact: the address typed twice, differently.
    page.get_by_label("Name of the contact").fill("Piet Vers")
    page.get_by_label("E-mail address of the contact").fill("piet@vers.example")
    page.get_by_label("The same address again").fill("piet@vers.exampel")
    nxt.click()
    expect(page.get_by_text("The two addresses differ.")).to_be_visible()
    page.get_by_label("The same address again").fill("piet@vers.example")
    nxt.click()

    # Tier and payer, then the check: the address is wrong after all.
    page.get_by_label("Tier").select_option(label="Collaborate Extended")
    page.get_by_label("The client (invoiced to them)").check()
    nxt.click()
    expect(page.get_by_text("piet@vers.example")).to_be_visible()
    page.get_by_role("button", name="Change the address").click()
    expect(page.get_by_label("E-mail address of the contact")).to_have_value(
        "piet@vers.example")
    page.get_by_label("E-mail address of the contact").fill("p.vers@vers.example")
    page.get_by_label("The same address again").fill("p.vers@vers.example")
    nxt.click()
    expect(page.get_by_label("Tier")).to_have_value(tiers.COLLABORATE_PLUS)
    nxt.click()
    expect(page.get_by_text("p.vers@vers.example")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Send the offer").click()
    expect(page.get_by_text("The offer is on its way to p.vers@vers.example.")).to_be_visible()

    with db() as s:
        client = s.scalar(select(Client).where(Client.client_number == "2002"))
        offer = s.scalar(select(Offer))
    assert (client.name, client.kvk_number) == ("Slagerij Vers", "55667788")
    assert (offer.email, offer.contact_name, offer.tier, offer.payer) == (
        "p.vers@vers.example", "Piet Vers", tiers.COLLABORATE_PLUS, "client")
