"""Over-long values typed (or posted past the browser's maxlength) are refused by the server:
the message stands by the field, what was typed stays in it, and nothing is saved."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.clients import tiers
from portal.clients.models import Client
from portal.tenancy.models import Practice


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    return {"practice": practice, "anna": anna}


@pytest.fixture
def office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def _error(page: str, field_id: str) -> str | None:
    found = re.search(rf'<p class="field__error" id="{field_id}-error">([^<]*)</p>', page)
    return unescape(found.group(1)) if found else None


def _value(page: str, field_id: str) -> str:
    tag = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page).group(0)
    return unescape(re.search(r'value="([^"]*)"', tag).group(1))


def test_a_new_client_with_a_name_of_5000_characters(office, db):
    name = "Bakkerij " + "K" * 5000
    response = office.submit("/office/clients/new", {
        "name": name, "client_number": "1001", "kvk_number": "", "contact_name": "",
        "contact_email": "", "tier": tiers.STANDARD}, page="/office/clients/new")
    assert response.status_code == 422  # the form again, not an error page
    page = response.get_data(as_text=True)
    assert _error(page, "name") == "Field cannot be longer than 200 characters."
    assert _value(page, "name") == name
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 0


def test_a_kvk_number_too_long_is_told_once(office, db):
    response = office.submit("/office/clients/new", {
        "name": "Bakkerij De Korst", "client_number": "1001", "kvk_number": "1" * 300,
        "tier": tiers.STANDARD}, page="/office/clients/new")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _error(page, "kvk_number") == "A KvK number has 8 digits."
    assert _value(page, "kvk_number") == "1" * 300


def test_an_over_long_contact_person_on_the_client_card(office, make, world, db):
    company = make.client(world["practice"], tiers.STANDARD, name="Bakkerij De Korst")
    card = f"/office/clients/{company.id}"
    response = office.submit(f"{card}/contacts", {
        "name": "S" * 5000, "email": "sanne@korst.example", "locale": "en"}, page=card)
    assert response.status_code == 422
    assert "Field cannot be longer than 200 characters." in response.get_data(as_text=True)
    with db() as s:
        assert s.get(Client, company.id).contact_email is None


def test_the_offer_wizard_refuses_a_contact_name_of_5000_characters(office, make, world, db):
    company = make.client(world["practice"], tiers.STANDARD, name="Bakkerij De Korst")
    page = f"/office/offers/new?client_id={company.id}"
    long_name = "S" * 5000
    response = office.submit("/office/offers/new", {
        "step": "contact", "client_id": company.id, "contact_name": long_name,
        "email": "sanne@korst.example", "email_again": "sanne@korst.example",
        "locale": "en"}, page=page)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert _error(text, "contact_name") == "Field cannot be longer than 200 characters."
    assert _value(text, "contact_name") == long_name


def test_settings_with_over_long_colour_and_reminder_moments(office, world, db):
    typed = ", ".join(["-7"] * 100)
    response = office.submit("/office/settings", {
        "name": "Bakker & Visser", "locale": "en", "theme": "default",
        "brand_color": "#" + "1" * 300, "reminder_days": typed}, page="/office/settings")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _error(page, "brand_color") == "Field cannot be longer than 7 characters."
    assert _error(page, "reminder_days") == "Field cannot be longer than 200 characters."
    assert _value(page, "reminder_days") == typed
    with db() as s:
        assert s.get(Practice, world["practice"].id).brand_color is None


def test_the_message_is_in_the_practice_language(client, make, db):
    practice = make.practice("demo", name="Bakker & Visser", locale="nl")
    anna = make.staff(practice, "anna@demo.example", role="admin", locale="nl")
    client.login_staff(anna.email)
    response = client.submit("/office/clients/new", {
        "name": "K" * 201, "client_number": "1001", "tier": tiers.STANDARD},
        page="/office/clients/new")
    assert response.status_code == 422
    message = _error(response.get_data(as_text=True), "name")
    assert message and "200" in message and "cannot" not in message  # WTForms' Dutch words
