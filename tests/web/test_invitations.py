"""Inviting every contact person of the portal clients who has not signed in yet, and per
client where they stand."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.clients import tiers
from portal.notifications.models import OutboxMessage


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo", welcome_text="Welkom bij Bakker & Visser!")


@pytest.fixture
def office(client, make, practice):  # type: ignore[no-untyped-def]
    client.login_staff(make.staff(practice, "anna@demo.example", role="staff").email)
    return client


def _stamp(page: str) -> str:
    return re.search(r'name="stamp"[^>]*value="([0-9a-f]+)"', page).group(1)


def _invites(db) -> list[str]:  # type: ignore[no-untyped-def]
    with db() as s:
        return sorted(s.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.kind == "client_invite")))


def test_everyone_not_signed_in_is_invited_once_with_the_welcome_text(office, make, practice,
                                                                      db):
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    make.client_user(practice, korst, email="sanne@korst.example", name="Sanne",
                     password=None)
    make.client_user(practice, korst, email="piet@korst.example", name="Piet")  # signed in
    roos = make.client(practice, tiers.COLLABORATE_PLUS, name="Bloemist Roos")
    make.client_user(practice, roos, email="roos@bloemist.example", name="Roos", password=None)
    garage = make.client(practice, tiers.COLLABORATE, name="Garage Snel")  # no portal
    make.client_user(practice, garage, email="info@snel.example", name="Info", password=None)
    ended = make.client(practice, tiers.COLLABORATE_PLUS, name="Weg", status="ended")
    make.client_user(practice, ended, email="weg@weg.example", name="Weg", password=None)

    page = office.get("/office/clients/invitations").get_data(as_text=True)
    assert "2 persons, 2 clients" in page and "Invite 2 persons" in page
    assert "Sanne <span class=\"muted\">(Bakkerij De Korst)</span>" in page
    assert "info@snel.example" not in page and "weg@weg.example" not in page
    standing = page[page.index('id="invitation_standing"'):]
    assert "piet@korst.example</span> <span class=\"badge badge--success\">signed in" in standing
    assert "sanne@korst.example</span> <span class=\"badge badge--warning\">not invited" in \
        standing

    done = office.submit("/office/clients/invitations", {"stamp": _stamp(page)},
                         page="/office/clients/invitations")
    assert done.status_code == 303
    assert _invites(db) == ["roos@bloemist.example", "sanne@korst.example"]
    with db() as s:
        mail = s.scalar(select(OutboxMessage).where(
            OutboxMessage.recipient == "sanne@korst.example"))
    assert "Welkom bij Bakker & Visser!" in mail.text_body
    again = office.get("/office/clients/invitations").get_data(as_text=True)
    assert "Nobody to invite" in again
    assert re.search(r"<dt>Invited in the last three days</dt><dd>2</dd>", again)
    assert "badge\">invited" in again


def test_a_list_that_changed_meanwhile_sends_nothing(office, make, practice, db):
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    make.client_user(practice, korst, email="sanne@korst.example", password=None)
    page = office.get("/office/clients/invitations").get_data(as_text=True)
    make.client_user(practice, korst, email="piet@korst.example", password=None)
    response = office.submit("/office/clients/invitations", {"stamp": _stamp(page)},
                             page="/office/clients/invitations")
    assert response.status_code == 409 and "nothing was sent" in response.get_data(as_text=True)
    assert _invites(db) == []


def test_a_mail_that_could_not_be_delivered_shows_and_is_sent_again(office, make, practice,
                                                                    db):
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    make.client_user(practice, korst, email="sanne@korst.example", password=None)
    make.outbox(practice, kind="client_invite", recipient="sanne@korst.example",
                state="failed")
    page = office.get("/office/clients/invitations").get_data(as_text=True)
    assert "mail not delivered" in page and "Invite 1 person" in page


def test_the_standing_list_is_paged(office, make, practice):
    for n in range(55):
        make.client(practice, tiers.COLLABORATE_PLUS, name=f"Klant {n:02d}")
    first = office.get("/office/clients/invitations").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Klant 49" in first and "Klant 50" not in first
    assert "Klant 54" in office.get("/office/clients/invitations?page=2").get_data(as_text=True)
