"""Bulk tier change across pages, and the monthly statement."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.clients.models import Client


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


@pytest.fixture
def signed_in(client, make, practice):  # type: ignore[no-untyped-def]
    admin = make.staff(practice, "anna@demo.example", role="admin")
    client.login_staff(admin.email)
    return client


def _stamp(preview) -> str:  # type: ignore[no-untyped-def]
    """The fingerprint of the confirmed selection that the confirmation page carries."""
    found = re.search(r'name="stamp" value="([0-9a-f]+)"', preview.get_data(as_text=True))
    assert found, "the confirmation carries no stamp"
    return found.group(1)


def _tiers(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db() as s:
        return dict(s.execute(select(Client.tier, func.count()).group_by(Client.tier)).all())


def test_ticked_clients_change_after_a_confirmation_with_counts_and_fee_effect(
        signed_in, make, practice, db):
    a = make.client(practice, tiers.STANDARD)
    b = make.client(practice, tiers.COLLABORATE)
    c = make.client(practice, tiers.COLLABORATE_PLUS)
    preview = signed_in.submit("/office/clients/bulk",
                               {"client_id": [a.id, b.id, c.id], "new_tier": "collaborate_plus"},
                               page="/office/clients")
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Move 2 clients to Collaborate Extended?" in body
    assert "1 selected client is on Collaborate Extended already" in body
    assert "€1.90" in body and "€3.30" in body and "+€1.40" in body  # 0.80+1.10 -> 2x1.65
    assert _tiers(db) == {"standard": 1, "collaborate": 1, "collaborate_plus": 1}  # not yet
    done = signed_in.submit("/office/clients/bulk/apply",
                            {"client_id": [a.id, b.id, c.id], "new_tier": "collaborate_plus",
                             "stamp": _stamp(preview)},
                            page="/office/clients")
    assert done.status_code == 303
    assert _tiers(db) == {"collaborate_plus": 3}
    with db() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "client.tier_changed")).all()
    assert sorted(e.client_id for e in events) == sorted([a.id, b.id])
    assert "2 clients are now on Collaborate Extended" in signed_in.get(
        "/office/clients").get_data(as_text=True)


@pytest.mark.parametrize(("language", "up", "down"), [("nl", "+€\xa00,55", "-€\xa00,55"),
                                                     ("en", "+€0.55", "-€0.55")])
def test_the_fee_effect_carries_its_sign_in_front_either_way(signed_in, make, practice,
                                                             language, up, down):
    signed_in.submit("/language", {"locale": language, "next": "/office/clients"},
                     page="/office/clients")
    plus = make.client(practice, tiers.COLLABORATE_PLUS)  # 1.65 a month
    basic = make.client(practice, tiers.COLLABORATE)  # 1.10 a month

    def effect(company, tier: str) -> str:
        return signed_in.submit("/office/clients/bulk",
                                {"client_id": [company.id], "new_tier": tier},
                                page="/office/clients").get_data(as_text=True)

    assert up in effect(basic, "collaborate_plus")
    down_page = effect(plus, "collaborate")
    assert down in down_page and "€\xa0-" not in down_page and "€-" not in down_page


def test_all_that_match_the_filter_changes_clients_on_every_page(signed_in, make, practice,
                                                                 db):
    for n in range(120):
        make.client(practice, tiers.STANDARD, name=f"Bakker {n}")
    make.client(practice, tiers.STANDARD, name="Slager")
    form = {"all_matching": "1", "q": "Bakker", "new_tier": "collaborate"}
    preview = signed_in.submit("/office/clients/bulk", form, page="/office/clients?q=Bakker")
    assert "Move 120 clients to Collaborate?" in preview.get_data(as_text=True)
    signed_in.submit("/office/clients/bulk/apply", form | {"stamp": _stamp(preview)},
                     page="/office/clients")
    assert _tiers(db) == {"collaborate": 120, "standard": 1}


@pytest.mark.parametrize("meanwhile", ["a client joins the filter", "a tier changes"])
def test_apply_changes_exactly_the_confirmed_clients_or_nothing(signed_in, make, practice, db,
                                                                meanwhile):
    make.client(practice, tiers.STANDARD, name="Bakker Noord")
    south = make.client(practice, tiers.STANDARD, name="Bakker Zuid")
    form = {"all_matching": "1", "q": "Bakker", "new_tier": "collaborate"}
    preview = signed_in.submit("/office/clients/bulk", form, page="/office/clients?q=Bakker")
    assert "Move 2 clients to Collaborate?" in preview.get_data(as_text=True)
    # Meanwhile, in another tab:
    if meanwhile == "a client joins the filter":
        make.client(practice, tiers.STANDARD, name="Bakker West")
    else:
        with db() as s:
            s.get(Client, south.id).tier = tiers.COLLABORATE_PLUS
            s.commit()
    before = _tiers(db)
    again = signed_in.submit("/office/clients/bulk/apply", form | {"stamp": _stamp(preview)},
                             page="/office/clients")
    body = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "The selection has changed since you checked it" in body
    assert _tiers(db) == before  # nothing changed
    # The page shows the selection as it is now, and confirming that one applies it.
    now_moving = 3 if meanwhile == "a client joins the filter" else 2
    assert f"Move {now_moving} clients to Collaborate?" in body
    done = signed_in.submit("/office/clients/bulk/apply", form | {"stamp": _stamp(again)},
                            page="/office/clients")
    assert done.status_code == 303
    assert _tiers(db)["collaborate"] == now_moving


def test_apply_without_a_confirmation_changes_nothing(signed_in, make, practice, db):
    company = make.client(practice, tiers.STANDARD)
    response = signed_in.submit("/office/clients/bulk/apply",
                                {"client_id": [company.id], "new_tier": "collaborate"},
                                page="/office/clients")
    assert response.status_code == 409
    assert _tiers(db) == {"standard": 1}


def test_bulk_selection_cannot_reach_another_practices_clients(signed_in, make, db):
    other = make.practice("other")
    theirs = make.client(other, tiers.STANDARD)
    signed_in.submit("/office/clients/bulk/apply",
                     {"client_id": [theirs.id], "new_tier": "collaborate_plus"},
                     page="/office/clients")
    with db() as s:
        assert s.get(Client, theirs.id).tier == "standard"


def test_nothing_ticked_explains_what_to_do(signed_in, make, practice):
    make.client(practice)
    response = signed_in.submit("/office/clients/bulk", {"new_tier": "standard"},
                                page="/office/clients", follow_redirects=True)
    assert "Tick one or more clients" in response.get_data(as_text=True)


def _statement_csv(client, month: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    text = client.get(f"/office/billing.csv?month={month}").get_data(as_text=True)
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_statement_counts_billable_clients_per_tier_and_extra_users(signed_in, make,
                                                                    practice):
    jan = datetime(2026, 1, 10, tzinfo=UTC)
    make.client(practice, tiers.STANDARD, created_at=jan)
    make.client(practice, tiers.COLLABORATE, created_at=jan)
    plus = make.client(practice, tiers.COLLABORATE_PLUS, created_at=jan)
    for n in range(3):  # one included, two extra
        make.client_user(practice, plus, email=f"p{n}@plus.example")
    make.client(practice, tiers.COLLABORATE, created_at=jan, status="ended",
                ended_at=datetime(2026, 1, 20, tzinfo=UTC))
    make.client(practice, tiers.COLLABORATE, created_at=datetime(2026, 3, 1, tzinfo=UTC))
    page = signed_in.get("/office/billing?month=2026-02").get_data(as_text=True)
    assert "Statement for February 2026" in page
    # 0.80 + 1.10 + 1.65 + 2 x 1.00
    assert "€5.55" in page  # all paid by the practice here
    rows = _statement_csv(signed_in, "2026-02")
    assert rows[0][:5] == ["Month", "Client number", "Client", "Tier", "Paid by"]
    assert len(rows) == 1 + 3 + 1
    assert rows[-1][-1] == "5,55"
    plus_row = next(r for r in rows if r[3] == "Collaborate Extended")
    assert plus_row[4] == "the practice" and plus_row[7:] == ["2", "2,00", "3,65"]


def test_the_statement_file_speaks_the_users_language(signed_in, make, practice):
    make.client(practice, tiers.COLLABORATE, name="Bakkerij De Korst",
                portal_since=clock.now())  # in its first free days
    signed_in.submit("/language", {"locale": "nl", "next": "/office/billing"},
                     page="/office/billing")
    rows = _statement_csv(signed_in, clock.today().strftime("%Y-%m"))
    assert rows[0] == ["Maand", "Cliëntnummer", "Cliënt", "Cliënttype", "Betaald door",
                       "Gratis", "Prijs", "Extra contactpersonen",
                       "Bedrag extra contactpersonen", "Totaal"]
    assert rows[1][2:6] == ["Bakkerij De Korst", "Samenwerken", "het kantoor", "ja"]
    assert rows[-1][2] == "Totaal"


def test_csv_does_not_let_a_name_become_a_spreadsheet_formula(signed_in, make, practice):
    make.client(practice, name="=HYPERLINK(\"http://evil.example\")")
    rows = _statement_csv(signed_in, clock.today().strftime("%Y-%m"))
    assert rows[1][2].startswith("'=")


@pytest.mark.parametrize("frozen_clock", [(1, 31, 23, 50)], indirect=True,
                         ids=["31 January, 23:50 in Amsterdam"])
def test_a_month_ends_at_midnight_in_amsterdam_not_in_utc(frozen_clock, signed_in, make,
                                                          practice):
    make.client(practice, tiers.COLLABORATE, name="Laatste Avond",
                portal_since=frozen_clock.now)
    frozen_clock.advance(minutes=20)  # 00:10 on 1 February here, 23:10 on 31 January in UTC
    make.client(practice, tiers.COLLABORATE, name="Eerste Nacht", portal_since=frozen_clock.now)
    year = frozen_clock.now.astimezone(clock.AMSTERDAM).year
    billed = {month: {row[2]: row[5] for row in _statement_csv(signed_in, f"{year}-{month}")[1:-1]}
              for month in ("01", "02")}
    # online for the last minutes of January: free in January and, its 30 days running on,
    # in February; the client of the first night is a February client only
    assert billed == {"01": {"Laatste Avond": "yes"},
                      "02": {"Laatste Avond": "yes", "Eerste Nacht": "yes"}}
    page = signed_in.get("/office/billing").get_data(as_text=True)
    assert f"Statement for February {year}" in page


def test_staff_who_are_not_admins_see_no_billing(client, make, practice):
    joost = make.staff(practice, "joost@demo.example", role="staff")
    client.login_staff(joost.email)
    assert client.get("/office/billing").status_code == 403
    assert "Billing" not in client.get("/office/").get_data(as_text=True)
