"""The permanent portal: one login for several companies, open actions, history, people."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.clients import tiers
from portal.notifications.models import OutboxMessage


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", welcome_text="Welkom bij ons kantoor.")
    a = make.client(practice, tiers.COLLABORATE_PLUS, name="Alfa B.V.")
    b = make.client(practice, tiers.COLLABORATE_PLUS, name="Beta B.V.")
    c = make.client(practice, tiers.COLLABORATE_PLUS, name="Gamma B.V.")
    sanne = make.client_user(practice, a, b, email="sanne@alfa.example", name="Sanne")
    make.client_user(practice, c, email="other@gamma.example")
    return {"practice": practice, "a": a, "b": b, "c": c, "sanne": sanne}


@pytest.fixture
def portal(client, world):  # type: ignore[no-untyped-def]
    client.login_client(world["sanne"].email)
    return client


def test_a_member_of_a_and_b_chooses_between_them_and_never_sees_c(portal, world):
    page = portal.get("/").get_data(as_text=True)
    assert "Alfa B.V." in page and "Beta B.V." in page and "Gamma B.V." not in page
    assert portal.get(f"/c/{world['c'].id}/").status_code == 404
    assert portal.get(f"/c/{world['c'].id}/history").status_code == 404
    company = portal.get(f"/c/{world['a'].id}/").get_data(as_text=True)
    assert 'class="switcher"' in company and "Gamma B.V." not in company


def test_with_one_company_the_portal_opens_it_directly(client, make, world):
    solo = make.client_user(world["practice"], world["c"], email="solo@gamma.example")
    client.login_client(solo.email)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == \
        f"/c/{world['c'].id}/"


def test_open_actions_most_urgent_first_with_overdue_marked(portal, make, world):
    now = clock.now()
    make.task(world["a"], kind="approval", title="Later", deadline=now + timedelta(days=20))
    make.task(world["a"], kind="approval", title="Te laat", deadline=now - timedelta(days=1))
    make.task(world["a"], kind="approval", title="Binnenkort", deadline=now + timedelta(days=2))
    make.task(world["a"], kind="approval", title="Klaar", state="done",
              deadline=now + timedelta(days=1))
    make.task(world["b"], kind="approval", title="Van Beta", deadline=now)
    page = portal.get(f"/c/{world['a'].id}/").get_data(as_text=True)
    order = [page.index(t) for t in ("Te laat", "Binnenkort", "Later")]
    assert order == sorted(order)
    assert "Klaar" not in page and "Van Beta" not in page
    assert "deadline passed" in page and "Welkom bij ons kantoor." in page
    chooser = portal.get("/").get_data(as_text=True)
    assert "3 things wait for you" in chooser and "1 thing waits for you" in chooser


@pytest.mark.parametrize("frozen_clock", [(12, 31, 23, 30)], indirect=True,
                         ids=["31 December, 23:30 in Amsterdam"])
def test_a_deadline_of_31_december_holds_until_midnight_in_amsterdam(frozen_clock, portal, make,
                                                                    world):
    year = clock.today().year
    make.task(world["a"], kind="approval", title="Jaarrekening",
              deadline=clock.end_of_day(date(year, 12, 31)))
    page = portal.get(f"/c/{world['a'].id}/").get_data(as_text=True)
    assert f"before December 31, {year}" in page and "deadline passed" not in page
    frozen_clock.advance(hours=1)  # 00:30 on 1 January here, still 31 December in UTC
    page = portal.get(f"/c/{world['a'].id}/").get_data(as_text=True)
    assert f"before December 31, {year}" in page and "deadline passed" in page


def test_a_downgraded_company_disappears_at_once_but_its_data_stays(portal, make, world,
                                                                    app, db):
    from portal.clients.models import Client

    with app.app_context():
        from portal import db as portal_db
        from portal.db import transaction

        with transaction(portal_db.session):
            portal_db.session.get(Client, world["b"].id).tier = tiers.COLLABORATE
    assert portal.get(f"/c/{world['b'].id}/").status_code == 404
    assert portal.get("/").status_code == 302  # only Alfa is left
    with db() as s:
        assert s.get(Client, world["b"].id) is not None


def test_history_shows_shared_versions_and_decisions_and_filters(portal, make, world):
    e2025 = make.engagement(world["a"], year=2025)
    e2024 = make.engagement(world["a"], year=2024, kind="tax_return")
    version = make.report(e2025)
    share = make.share(version, world["a"], world["sanne"], state="approved")
    with make.app.app_context():
        from portal import db as portal_db
        from portal.db import transaction
        from portal.engagements.models import Signer

        with transaction(portal_db.session):
            signer = portal_db.session.scalar(select(Signer).where(Signer.share_id == share.id))
            signer.decision, signer.decided_at = "approved", clock.now()
            signer.decided_by, signer.decided_sha256 = "sanne@alfa.example", version.sha256
    page = portal.get(f"/c/{world['a'].id}/history").get_data(as_text=True)
    assert "Annual accounts 2025" in page and "Tax return 2024" in page
    assert "Approved by sanne@alfa.example" in page and version.sha256 in page
    pdf = portal.get(f"/c/{world['a'].id}/approvals/{share.id}/report.pdf?download=1")
    assert pdf.status_code == 200 and "attachment" in pdf.headers["Content-Disposition"]
    only_2024 = portal.get(f"/c/{world['a'].id}/history?year=2024").get_data(as_text=True)
    assert "Tax return 2024" in only_2024 and "Annual accounts 2025" not in only_2024
    assert e2024


def test_a_share_of_another_company_is_404_even_by_its_id(portal, make, world):
    version = make.report(make.engagement(world["c"]))
    share = make.share(version, world["c"], "x@gamma.example")
    assert portal.get(f"/c/{world['a'].id}/approvals/{share.id}").status_code == 404
    assert portal.get(f"/c/{world['c'].id}/approvals/{share.id}").status_code == 404


def test_the_main_contact_invites_a_colleague_who_is_billed_as_extra(portal, world, db):
    people = f"/c/{world['a'].id}/people"
    response = portal.submit(people, {"name": "Piet", "email": "piet@alfa.example",
                                      "locale": "nl"})
    assert response.status_code == 303
    with db() as s:
        mail = s.scalar(select(OutboxMessage).where(OutboxMessage.recipient ==
                                                    "piet@alfa.example"))
        assert mail.kind == "client_invite"
    assert "piet@alfa.example" in portal.get(people).get_data(as_text=True)


def test_a_colleague_who_is_not_the_main_contact_cannot_invite(client, make, world):
    colleague = make.client_user(world["practice"], world["a"], email="piet@alfa.example",
                                 role="member")
    client.login_client(colleague.email)
    people = f"/c/{world['a'].id}/people"
    assert "can invite colleagues" in client.get(people).get_data(as_text=True)
    response = client.submit(people, {"name": "X", "email": "x@alfa.example", "locale": "nl"})
    assert response.status_code == 403


def test_removing_a_colleague_ends_their_session(portal, app, make, world, db):
    colleague = make.client_user(world["practice"], world["a"], email="piet@alfa.example",
                                 role="member")
    theirs = app.test_client()
    theirs.login_client(colleague.email)
    assert theirs.get(f"/c/{world['a'].id}/").status_code == 200
    with db() as s:
        from portal.accounts.models import Membership

        membership = s.scalar(select(Membership).where(
            Membership.client_user_id == colleague.id))
    people = f"/c/{world['a'].id}/people"
    portal.submit(f"{people}/{membership.id}/remove", page=people)
    assert theirs.get(f"/c/{world['a'].id}/").status_code == 302


def test_company_home_and_history_run_a_fixed_number_of_queries(portal, make, world,
                                                                count_queries):
    def queries(path: str) -> int:
        response, count = count_queries(lambda: portal.get(path))
        assert response.status_code == 200
        return count

    home, history = f"/c/{world['a'].id}/", f"/c/{world['a'].id}/history"
    make.task(world["a"], kind="approval", deadline=clock.now())
    engagement = make.engagement(world["a"])
    make.share(make.report(engagement), world["a"], world["sanne"])
    small = (queries(home), queries(history))
    for n in range(8):
        make.task(world["a"], kind="approval", deadline=clock.now() + timedelta(days=n))
        other = make.engagement(world["a"], year=2015 + n)
        make.share(make.report(other), world["a"], world["sanne"], "x@alfa.example")
    assert (queries(home), queries(history)) == small
    assert max(small) <= 12
