"""The clients overview and the client card, as an accountant uses them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import ClientUser, Membership
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.clients.models import Client
from portal.notifications.models import OutboxMessage


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


@pytest.fixture
def anna(make, practice):  # type: ignore[no-untyped-def]
    return make.staff(practice, "anna@demo.example", role="admin")


@pytest.fixture
def signed_in(client, anna):  # type: ignore[no-untyped-def]
    client.login_staff(anna.email)
    return client


def test_overview_searches_name_number_kvk_and_email(signed_in, make, practice):
    make.client(practice, name="Bakkerij De Korst", client_number="1001", kvk_number="12345678",
                contact_email="sanne@korst.example")
    make.client(practice, name="Fietsen Jansen", client_number="1002")
    for term in ("korst", "KORST", "1001", "12345678", "sanne@"):
        page = signed_in.get(f"/office/clients?q={term}").get_data(as_text=True)
        assert "Bakkerij De Korst" in page and "Fietsen Jansen" not in page, term


def test_search_treats_percent_and_underscore_as_plain_text(signed_in, make, practice):
    make.client(practice, name="100% Schoon")
    make.client(practice, name="Schoonmaak B.V.")
    page = signed_in.get("/office/clients?q=0%25").get_data(as_text=True)
    assert "100% Schoon" in page and "Schoonmaak B.V." not in page


def test_filters_counts_per_tier_and_pagination(signed_in, make, practice):
    for n in range(60):
        make.client(practice, tiers.COLLABORATE if n % 3 else tiers.STANDARD,
                    name=f"Klant {n:03d}")
    page = signed_in.get("/office/clients?tier=collaborate").get_data(as_text=True)
    assert "40 clients match" in page and "Klant 001" in page and "Klant 000" not in page
    first = signed_in.get("/office/clients").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Klant 049" in first and "Klant 050" not in first
    second = signed_in.get("/office/clients?page=2").get_data(as_text=True)
    assert "Klant 050" in second
    assert "Standard <strong>20</strong>" in first


def test_overview_never_shows_another_practices_clients(signed_in, make):
    other = make.practice("other")
    make.client(other, name="Andermans Klant")
    assert "Andermans Klant" not in signed_in.get("/office/clients").get_data(as_text=True)
    assert "Andermans Klant" not in signed_in.get("/office/clients?q=Andermans").get_data(
        as_text=True)


def test_live_search_answers_with_the_results_only(signed_in, make, practice):
    make.client(practice, name="Bakkerij De Korst")
    response = signed_in.get("/office/clients?q=korst",
                             headers={"HX-Request": "true", "HX-Target": "div#client_results"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="client_results">')
    assert "Bakkerij De Korst" in body


def test_another_practices_client_card_is_404(signed_in, make):
    other = make.practice("other")
    theirs = make.client(other)
    assert signed_in.get(f"/office/clients/{theirs.id}").status_code == 404


def test_new_client_is_validated_and_keeps_what_was_typed(signed_in, make, practice):
    make.client(practice, client_number="1001")
    response = signed_in.submit("/office/clients/new", {
        "name": "Nieuwe Klant", "client_number": "1001", "kvk_number": "1234",
        "contact_email": "not-an-address", "tier": "collaborate"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Another client already has this number." in body
    assert "A KvK number has 8 digits." in body
    assert 'value="Nieuwe Klant"' in body and 'value="not-an-address"' in body


def test_a_nul_character_typed_or_pasted_is_dropped_not_a_server_error(signed_in, db):
    # PostgreSQL cannot store NUL in text: every form drops it before anything sees it.
    response = signed_in.submit("/office/clients/new", {
        "name": "Bakkerij\x00 De Korst", "client_number": "10\x0001", "tier": "standard",
        "contact_name": "Sanne\x00"})
    assert response.status_code == 303
    with db() as s:
        stored = s.scalar(select(Client))
    assert (stored.name, stored.client_number, stored.contact_name) == (
        "Bakkerij De Korst", "1001", "Sanne")


def test_new_client_is_created_and_audited(signed_in, db):
    response = signed_in.submit("/office/clients/new", {
        "name": "Nieuwe Klant", "client_number": "2001", "kvk_number": "",
        "tier": "collaborate"})
    assert response.status_code == 303
    with db() as s:
        client = s.scalar(select(Client).where(Client.client_number == "2001"))
        assert client.tier == "collaborate" and client.kvk_number is None
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "client.created"))


def test_details_are_edited_and_changes_audited(signed_in, make, practice, db):
    company = make.client(practice, name="Oud", client_number="1")
    response = signed_in.submit(f"/office/clients/{company.id}/details",
                                {"name": "Nieuw", "client_number": "1"},
                                page=f"/office/clients/{company.id}")
    assert response.status_code == 303
    with db() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "client.updated"))
        assert event.data["changes"]["name"] == ["Oud", "Nieuw"]


def test_tier_upgrade_saves_at_once_and_is_audited(signed_in, make, practice, db):
    company = make.client(practice, tiers.STANDARD)
    response = signed_in.submit(f"/office/clients/{company.id}/tier",
                                {"tier": "collaborate_plus"}, page=f"/office/clients/{company.id}")
    assert response.status_code == 303
    with db() as s:
        assert s.get(Client, company.id).tier == "collaborate_plus"
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "client.tier_changed"))
        assert event.data == {"old": "standard", "new": "collaborate_plus"}


def test_downgrade_first_shows_what_is_lost_then_applies_on_confirmation(signed_in, make,
                                                                         practice, db):
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    card = f"/office/clients/{company.id}"
    first = signed_in.submit(f"{card}/tier", {"tier": "standard"}, page=card)
    body = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "takes away" in body and "the permanent portal" in body
    with db() as s:
        assert s.get(Client, company.id).tier == "collaborate_plus"  # not yet
    second = signed_in.submit(f"{card}/tier", {"tier": "standard", "confirm": "standard"},
                              page=card)
    assert second.status_code == 303
    with db() as s:
        assert s.get(Client, company.id).tier == "standard"


def test_tier_change_with_htmx_answers_the_tier_panel(signed_in, make, practice):
    company = make.client(practice, tiers.COLLABORATE)
    card = f"/office/clients/{company.id}"
    response = signed_in.submit(f"{card}/tier", {"tier": "standard"}, page=card,
                                headers={"HX-Request": "true", "HX-Target": "section#client_tier"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="panel" id="client_tier">')
    assert "takes away" in body


def test_downgrade_stops_the_portal_login_for_that_company_but_keeps_data(
        app, client, make, practice, db):
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    user = make.client_user(practice, company)
    client.login_client(user.email)
    assert "Korst" in client.get("/", follow_redirects=True).get_data(as_text=True)
    staff = app.test_client()
    admin = make.staff(practice, "admin@demo.example", role="admin")
    staff.login_staff(admin.email)
    card = f"/office/clients/{company.id}"
    staff.submit(f"{card}/tier", {"tier": "collaborate", "confirm": "collaborate"}, page=card)
    assert "Korst" not in client.get("/", follow_redirects=True).get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(Membership).where(Membership.client_id == company.id))


def test_inviting_a_contact_of_an_extended_client_mails_a_link(signed_in, make, practice, db):
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    card = f"/office/clients/{company.id}"
    response = signed_in.submit(f"{card}/contacts", {"name": "Sanne de Boer",
                                                     "email": "Sanne@Korst.example",
                                                     "locale": "nl"}, page=card)
    assert response.status_code == 303
    with db() as s:
        user = s.scalar(select(ClientUser).where(ClientUser.email == "sanne@korst.example"))
        assert user.password_hash is None
        mail = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "client_invite"))
        assert mail.recipient == "sanne@korst.example"
        assert "http://demo.localhost/invitation/" in mail.text_body
        assert s.get(Client, company.id).contact_email == "sanne@korst.example"


def test_second_contact_is_refused_outside_extended_with_the_reason(signed_in, make,
                                                                     practice):
    company = make.client(practice, tiers.COLLABORATE)
    make.client_user(practice, company)
    card = f"/office/clients/{company.id}"
    page = signed_in.get(card).get_data(as_text=True)
    assert "More contact persons" in page and "come with Collaborate Extended" in page
    response = signed_in.submit(f"{card}/contacts", {"name": "Extra", "email": "x@y.example",
                                                     "locale": "nl"}, page=card)
    assert response.status_code == 422
    assert "Only Collaborate Extended includes more than one contact person." in \
        response.get_data(as_text=True)


def test_removing_a_contact_ends_their_sessions(app, signed_in, client, make, practice):
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Korst")
    other = make.client(practice, tiers.COLLABORATE_PLUS, name="Dijk")
    user = make.client_user(practice, company, other)
    portal = app.test_client()
    portal.login_client(user.email)
    assert portal.get("/").status_code == 200
    with app.app_context():
        from portal import db as portal_db

        membership = portal_db.session.scalar(select(Membership).where(
            Membership.client_id == company.id))
    card = f"/office/clients/{company.id}"
    response = signed_in.submit(f"{card}/contacts/{membership.id}/remove", page=card)
    assert response.status_code == 303
    assert portal.get("/").status_code == 302  # signed out
    portal.login_client(user.email)
    page = portal.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Dijk" in page and "Korst" not in page


def test_client_card_runs_a_fixed_number_of_queries(signed_in, make, practice,
                                                    count_queries):
    def card_queries(contacts: int, engagements: int) -> int:
        company = make.client(practice, tiers.COLLABORATE_PLUS)
        for _ in range(contacts):
            make.client_user(practice, company, role="member")
        for n in range(engagements):
            make.engagement(company, year=2020 + n % 6)
        response, count = count_queries(lambda: signed_in.get(
            f"/office/clients/{company.id}"))
        assert response.status_code == 200
        return count

    small, large = card_queries(1, 2), card_queries(8, 30)
    assert small == large and small <= 12


def test_clients_overview_runs_a_fixed_number_of_queries(signed_in, make, practice,
                                                         count_queries):
    def overview_queries() -> int:
        response, count = count_queries(lambda: signed_in.get("/office/clients?q=a"))
        assert response.status_code == 200
        return count

    for n in range(5):
        make.client(practice, name=f"Klant a{n}")
    small = overview_queries()
    for n in range(60):
        make.client(practice, name=f"Klant a{n + 5}")
    assert overview_queries() == small and small <= 12
