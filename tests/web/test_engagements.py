"""Engagements: created on the client card, followed on the morning overview."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.clients import tiers
from portal.engagements.models import Engagement


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


@pytest.fixture
def anna(make, practice):  # type: ignore[no-untyped-def]
    return make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")


@pytest.fixture
def signed_in(client, anna):  # type: ignore[no-untyped-def]
    client.login_staff(anna.email)
    return client


def test_engagement_is_created_from_the_client_card(signed_in, make, practice, anna, db):
    company = make.client(practice, name="Korst")
    card = f"/office/clients/{company.id}"
    deadline = clock.today() + timedelta(days=180)
    response = signed_in.submit(f"{card}/engagements", {
        "kind": "annual_accounts", "year": "2025", "deadline": deadline.isoformat(),
        "responsible_id": str(anna.id)}, page=card)
    assert response.status_code == 303
    page = signed_in.get(card).get_data(as_text=True)
    assert "Annual accounts 2025" in page
    with db() as s:
        engagement = s.scalar(select(Engagement))
        assert (engagement.deadline, engagement.responsible_id, engagement.status) == (
            deadline, anna.id, "draft")


@pytest.mark.parametrize("day", ["yesterday", "today"])
def test_a_new_engagement_needs_a_deadline_still_to_come(signed_in, make, practice, db, day):
    company = make.client(practice, name="Korst")
    card = f"/office/clients/{company.id}"
    deadline = clock.today() - timedelta(days=1 if day == "yesterday" else 0)
    response = signed_in.submit(f"{card}/engagements", {
        "kind": "other", "year": "2025", "title": "Btw-aangifte Q3",
        "deadline": deadline.isoformat(), "responsible_id": "0"}, page=card)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose a deadline after today." in body
    assert 'value="Btw-aangifte Q3"' in body
    with db() as s:
        assert s.scalar(select(Engagement)) is None


def test_an_overdue_engagement_keeps_its_deadline_but_cannot_be_moved_into_the_past(
        signed_in, make, practice, db):
    company = make.client(practice)
    overdue = clock.today() - timedelta(days=3)
    engagement = make.engagement(company, deadline=overdue)
    page = f"/office/engagements/{engagement.id}"
    kept = signed_in.submit(page, {"status": "in_preparation", "deadline": overdue.isoformat(),
                                   "responsible_id": "0"})
    assert kept.status_code == 303
    moved = signed_in.submit(page, {"status": "in_preparation",
                                    "deadline": (overdue - timedelta(days=1)).isoformat(),
                                    "responsible_id": "0"})
    assert moved.status_code == 422
    assert "Choose a deadline after today." in moved.get_data(as_text=True)
    later = clock.today() + timedelta(days=7)
    signed_in.submit(page, {"status": "in_preparation", "deadline": later.isoformat(),
                            "responsible_id": "0"})
    with db() as s:
        assert s.get(Engagement, engagement.id).deadline == later


def test_other_work_needs_a_title_and_bad_input_is_kept(signed_in, make, practice):
    company = make.client(practice)
    card = f"/office/clients/{company.id}"
    response = signed_in.submit(f"{card}/engagements", {
        "kind": "other", "year": "20x5", "deadline": "2026-13-01", "responsible_id": "0"},
        page=card)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give other work a title." in body
    assert 'value="20x5"' in body


def test_overview_filters_counts_per_status_and_overdue(signed_in, make, practice):
    today = clock.today()
    a = make.client(practice, tiers.COLLABORATE, name="Alfa")
    b = make.client(practice, tiers.STANDARD, name="Beta")
    make.engagement(a, status="in_preparation", deadline=today - timedelta(days=3))
    make.engagement(a, kind="tax_return", status="approved", deadline=today - timedelta(days=9))
    make.engagement(b, status="draft", deadline=today + timedelta(days=20))
    overdue = signed_in.get("/office/engagements?overdue=1").get_data(as_text=True)
    assert "Alfa" in overdue and "Beta" not in overdue and "Tax return 2025" not in overdue
    everything = signed_in.get("/office/engagements").get_data(as_text=True)
    assert "In preparation <strong>1</strong>" in everything
    assert "Approved <strong>1</strong>" in everything
    standard = signed_in.get("/office/engagements?tier=standard").get_data(as_text=True)
    assert "Beta" in standard and "Alfa" not in standard


def test_overview_runs_a_fixed_number_of_queries(signed_in, make, practice, anna,
                                                 count_queries):
    def queries() -> int:
        response, count = count_queries(lambda: signed_in.get("/office/engagements"))
        assert response.status_code == 200
        return count

    company = make.client(practice)
    make.engagement(company, responsible_id=anna.id)
    small = queries()
    for n in range(40):
        other = make.client(practice)
        make.engagement(other, responsible_id=anna.id if n % 2 else None, year=2020 + n % 5)
    assert queries() == small and small <= 12


def test_staff_sets_status_by_hand_but_not_approval(signed_in, make, practice, db):
    company = make.client(practice)
    engagement = make.engagement(company)
    page = f"/office/engagements/{engagement.id}"
    ok = signed_in.submit(page, {"status": "in_preparation", "deadline": "",
                                 "responsible_id": "0"})
    assert ok.status_code == 303
    refused = signed_in.submit(page, {"status": "approved", "deadline": "",
                                      "responsible_id": "0"})
    assert refused.status_code == 422
    with db() as s:
        assert s.get(Engagement, engagement.id).status == "in_preparation"


def test_another_practices_engagement_is_404(signed_in, make):
    other = make.practice("other")
    theirs = make.engagement(make.client(other))
    assert signed_in.get(f"/office/engagements/{theirs.id}").status_code == 404


@pytest.mark.parametrize("frozen_clock", [(12, 31, 23, 30)], indirect=True,
                         ids=["31 December, 23:30 in Amsterdam"])
def test_an_engagement_due_31_december_is_overdue_from_midnight_in_amsterdam(
        frozen_clock, signed_in, make, practice):
    make.engagement(make.client(practice, name="Oudejaars"), status="in_preparation",
                    deadline=date(clock.today().year, 12, 31))
    assert "Oudejaars" not in signed_in.get("/office/engagements?overdue=1").get_data(
        as_text=True)
    frozen_clock.advance(hours=1)  # 00:30 on 1 January here, still 31 December in UTC
    assert "Oudejaars" in signed_in.get("/office/engagements?overdue=1").get_data(as_text=True)
    assert "1 engagement is past its deadline" in signed_in.get("/office/").get_data(
        as_text=True)


def test_morning_overview_lists_the_first_deadlines(signed_in, make, practice):
    today = clock.today()
    company = make.client(practice, name="Korst")
    make.engagement(company, status="in_preparation", deadline=today - timedelta(days=1))
    page = signed_in.get("/office/").get_data(as_text=True)
    assert "1 engagement is past its deadline" in page and "Korst" in page


@pytest.mark.parametrize(("status", "says"), [
    ("draft", "Nothing to share yet: upload the report above"),
    ("closed", "This engagement was closed without a report"),
])
def test_the_sharing_panel_without_a_report_says_why_it_is_empty(signed_in, make, practice,
                                                                  status, says):
    company = make.client(practice, tiers.COLLABORATE)
    engagement = make.engagement(company, status=status)
    page = signed_in.get(f"/office/engagements/{engagement.id}").get_data(as_text=True)
    panel = page[page.index('id="engagement_sharing"'):]
    assert says in panel[:panel.index("</section>")]
