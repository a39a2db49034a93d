"""The same engagement for many clients: a selection, a preview with counts, and exactly the
confirmed set created in one go."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.clock import AMSTERDAM
from portal.engagements.models import Engagement
from portal.engagements.service import months_after_year_end

TODAY = datetime(2026, 3, 10, 12, 0, tzinfo=AMSTERDAM)
WORK = {"kind": "annual_accounts", "year": "2025", "title": "", "deadline_rule": "months",
        "months": "5", "deadline": "", "responsible_id": "0"}


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


@pytest.fixture
def frozen(frozen_clock):  # type: ignore[no-untyped-def]
    """Tuesday 10 March 2026 in Amsterdam, before anyone signs in."""
    return frozen_clock.at(TODAY)


@pytest.fixture
def anna(make, practice):  # type: ignore[no-untyped-def]
    return make.staff(practice, "anna@demo.example", role="staff", name="Anna de Vries")


@pytest.fixture
def signed_in(frozen, client, anna):  # type: ignore[no-untyped-def]
    client.login_staff(anna.email)
    return client


def _preview(signed_in, data):  # type: ignore[no-untyped-def]
    return signed_in.submit("/office/engagements/bulk", data, page="/office/engagements/bulk")


def _apply(signed_in, data):  # type: ignore[no-untyped-def]
    return signed_in.submit("/office/engagements/bulk/apply", data,
                            page="/office/engagements/bulk")


def _stamp(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'name="stamp" value="([0-9a-f]+)"', response.get_data(as_text=True))
    assert found, "the preview carries no stamp"
    return found.group(1)


def _engagements(db) -> list[tuple[int, str, int]]:  # type: ignore[no-untyped-def]
    with db() as s:
        return sorted(s.execute(select(Engagement.client_id, Engagement.kind,
                                       Engagement.year)).tuples())


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db() as s:
        return s.scalar(select(func.count()).select_from(Engagement))


# --- the deadline ---------------------------------------------------------------------

@pytest.mark.parametrize(("year", "months", "deadline"), [
    (2026, 5, date(2027, 5, 31)),
    (2027, 2, date(2028, 2, 29)),   # a leap year
    (2026, 2, date(2027, 2, 28)),
    (2099, 2, date(2100, 2, 28)),   # a century that is no leap year
    (2025, 6, date(2026, 6, 30)),   # a month of 30 days
    (2026, 1, date(2027, 1, 31)),
    (2026, 12, date(2027, 12, 31)),
    (2026, 24, date(2028, 12, 31)),
])
def test_months_after_the_year_end_is_the_last_day_of_that_month(year, months, deadline):
    assert months_after_year_end(year, months) == deadline


def test_the_preview_shows_the_month_end_deadline_of_a_leap_year(signed_in, make, practice,
                                                                 db):
    company = make.client(practice)
    response = _preview(signed_in, WORK | {"client_id": company.id, "year": "2027",
                                          "months": "2"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "February 29, 2028 (2 months after the year's end)" in body
    _apply(signed_in, WORK | {"client_id": company.id, "year": "2027", "months": "2",
                             "stamp": _stamp(response)})
    with db() as s:
        assert s.scalar(select(Engagement.deadline)) == date(2028, 2, 29)


# --- preview and apply ----------------------------------------------------------------

def test_the_preview_counts_what_is_created_skipped_and_left_out(signed_in, make, practice,
                                                                db):
    fresh = make.client(practice, name="Appel B.V.")
    also_fresh = make.client(practice, name="Boom B.V.")
    done_already = make.client(practice, name="Citroen B.V.")
    make.engagement(done_already, kind="annual_accounts", year=2025)
    make.engagement(fresh, kind="tax_return", year=2025)  # other work: no reason to skip
    make.engagement(also_fresh, kind="annual_accounts", year=2024)  # another year
    make.client(practice, name="Dadel B.V.", status="ended")
    response = _preview(signed_in, WORK | {"all_matching": "1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Create Annual accounts 2025 for 2 clients?" in body
    assert re.search(r"Skipped: they have this engagement already</dt><dd>1<", body)
    assert re.search(r"Left out: blocked or ended clients</dt><dd>1<", body)
    assert "May 31, 2026 (5 months after the year's end)" in body
    assert "<li>Appel B.V.</li>" in body and "<li>Boom B.V.</li>" in body
    assert "Citroen B.V." not in body and "Dadel B.V." not in body
    assert "Create 2 engagements" in body
    assert _count(db) == 3  # nothing created yet


def test_the_preview_names_the_first_fifty_clients(signed_in, make, practice):
    for n in range(60):
        make.client(practice, name=f"Bakker {n:02d}")
    body = _preview(signed_in, WORK | {"all_matching": "1", "q": "Bakker"}).get_data(
        as_text=True)
    assert "Create Annual accounts 2025 for 60 clients?" in body
    assert body.count("<li>Bakker ") == 50
    assert "<li>Bakker 49</li>" in body and "Bakker 50" not in body
    assert "and 10 more clients" in body


def test_apply_creates_exactly_the_confirmed_set(signed_in, make, practice, anna, db):
    a = make.client(practice, name="Appel B.V.")
    b = make.client(practice, name="Boom B.V.")
    has_it = make.client(practice, name="Citroen B.V.")
    make.engagement(has_it, kind="annual_accounts", year=2025)
    left_alone = make.client(practice, name="Niet Gekozen B.V.")
    data = WORK | {"client_id": [a.id, b.id, has_it.id], "responsible_id": str(anna.id)}
    preview = _preview(signed_in, data)
    done = _apply(signed_in, data | {"stamp": _stamp(preview)})
    assert done.status_code == 303
    assert done.headers["Location"] == "/office/engagements?kind=annual_accounts&year=2025"
    assert _engagements(db) == sorted([(a.id, "annual_accounts", 2025),
                                       (b.id, "annual_accounts", 2025),
                                       (has_it.id, "annual_accounts", 2025)])
    with db() as s:
        made = s.scalars(select(Engagement).where(Engagement.client_id.in_([a.id, b.id]))).all()
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "engagement.created")).all()
    assert {(e.status, e.deadline, e.responsible_id, e.title) for e in made} == {
        ("draft", date(2026, 5, 31), anna.id, None)}
    assert sorted((e.client_id, e.subject_id) for e in events) == sorted(
        (e.client_id, e.id) for e in made)
    assert all(e.data == {"kind": "annual_accounts", "year": 2025, "bulk": True}
               for e in events)
    assert left_alone.id not in {client_id for client_id, _, _ in _engagements(db)}
    overview = signed_in.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 engagements created, 1 skipped." in overview
    assert overview.count("Annual accounts 2025</a>") == 3


def test_other_work_is_the_same_only_with_the_same_title(signed_in, make, practice, db):
    q1 = make.client(practice, name="Kwartaal Een B.V.")
    make.engagement(q1, kind="other", year=2025, title="VAT return Q1")
    fresh = make.client(practice, name="Nieuw B.V.")
    data = WORK | {"all_matching": "1", "kind": "other", "deadline_rule": "none"}
    same = _preview(signed_in, data | {"title": "vat return q1"}).get_data(as_text=True)
    assert "Create vat return q1 2025 for 1 client?" in same
    other = _preview(signed_in, data | {"title": "VAT return Q2"})
    assert "Create VAT return Q2 2025 for 2 clients?" in other.get_data(as_text=True)
    _apply(signed_in, data | {"title": "VAT return Q2", "stamp": _stamp(other)})
    with db() as s:
        titles = sorted(s.execute(select(Engagement.client_id, Engagement.title,
                                         Engagement.deadline)).tuples())
    assert titles == sorted([(q1.id, "VAT return Q1", None), (q1.id, "VAT return Q2", None),
                             (fresh.id, "VAT return Q2", None)])


def test_a_deadline_on_a_date_is_used_as_it_is(signed_in, make, practice, db):
    company = make.client(practice)
    data = WORK | {"client_id": company.id, "deadline_rule": "date", "deadline": "2026-06-15",
                   "months": ""}
    preview = _preview(signed_in, data)
    assert "June 15, 2026" in preview.get_data(as_text=True)
    _apply(signed_in, data | {"stamp": _stamp(preview)})
    with db() as s:
        assert s.scalar(select(Engagement.deadline)) == date(2026, 6, 15)


def test_nothing_to_create_offers_no_button(signed_in, make, practice):
    company = make.client(practice)
    make.engagement(company, kind="annual_accounts", year=2025)
    body = _preview(signed_in, WORK | {"client_id": company.id}).get_data(as_text=True)
    assert "Create Annual accounts 2025 for 0 clients?" in body
    assert "there is nothing to create" in body
    assert "Create 0 engagements" not in body


@pytest.mark.parametrize("meanwhile", ["a client joins the filter",
                                       "a client gets the engagement",
                                       "a client ends"])
def test_a_changed_selection_is_refused_and_changes_nothing(signed_in, make, practice, db,
                                                           meanwhile):
    make.client(practice, name="Bakker Noord")
    south = make.client(practice, name="Bakker Zuid")
    data = WORK | {"all_matching": "1", "q": "Bakker"}
    preview = _preview(signed_in, data)
    assert "for 2 clients?" in preview.get_data(as_text=True)
    if meanwhile == "a client joins the filter":
        make.client(practice, name="Bakker West")
    elif meanwhile == "a client gets the engagement":
        make.engagement(south, kind="annual_accounts", year=2025)
    else:
        from portal.clients.models import Client
        with db() as s:
            s.get(Client, south.id).status = "ended"
            s.commit()
    before = _engagements(db)
    again = _apply(signed_in, data | {"stamp": _stamp(preview)})
    body = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "The selection has changed since you checked it" in body
    assert _engagements(db) == before
    now_creating = 3 if meanwhile == "a client joins the filter" else 1
    assert f"Create {now_creating} engagement" in body  # the fresh preview
    done = _apply(signed_in, data | {"stamp": _stamp(again)})
    assert done.status_code == 303
    assert _count(db) == len(before) + now_creating


def test_apply_without_a_confirmed_stamp_changes_nothing(signed_in, make, practice, db):
    company = make.client(practice)
    response = _apply(signed_in, WORK | {"client_id": company.id})
    assert response.status_code == 409
    assert _count(db) == 0


# --- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "typed", "message"), [
    ({"deadline_rule": "date", "deadline": "2026-03-09"}, 'value="2026-03-09"',
     "Choose a deadline after today."),
    ({"deadline_rule": "date", "deadline": "2026-03-10"}, 'value="2026-03-10"',
     "Choose a deadline after today."),
    ({"deadline_rule": "date", "deadline": "31-02-2026"}, 'value="31-02-2026"',
     "Not a valid date value."),
    ({"deadline_rule": "date", "deadline": ""}, 'name="deadline_rule" type="radio" value="date"',
     "Choose the deadline's date."),
    ({"year": "1999"}, 'value="1999"', "Number must be between 2000 and 2100."),
    ({"year": "99999999999999999999999"}, 'value="99999999999999999999999"',
     "Number must be between 2000 and 2100."),
    ({"year": "twintig"}, 'value="twintig"', "Not a valid integer value."),
    ({"year": "2020"}, 'value="2020"', "That is a day gone by: choose more months, or a date."),
    ({"months": "1e5"}, 'value="1e5"', "Not a valid integer value."),
    ({"months": "0"}, 'value="0"', "Choose from 1 to 24 months."),
    ({"months": "25"}, 'value="25"', "Choose from 1 to 24 months."),
    ({"months": ""}, 'name="months"', "Say how many months after the year's end."),
    ({"kind": "other", "title": " "}, 'selected value="other"', "Give other work a title."),
    ({"kind": "payroll"}, 'value="2025"', "Not a valid choice."),
    ({"responsible_id": "424242"}, 'value="2025"', "Not a valid choice."),
    ({"deadline_rule": "someday"}, 'value="2025"', "Not a valid choice."),
    ({"title": "x" * 201}, "x" * 201, "Field cannot be longer than 200 characters."),
])
def test_bad_input_keeps_what_was_typed_with_a_message(signed_in, make, practice, db, change,
                                                       typed, message):
    company = make.client(practice)
    response = _preview(signed_in, WORK | {"client_id": company.id} | change)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert typed in body
    assert f'name="client_id" value="{company.id}"' in body  # the selection is kept too
    assert _count(db) == 0


@pytest.mark.parametrize("selection", [
    {}, {"client_id": ""}, {"client_id": "abc"}, {"client_id": "9" * 30}, {"client_id": str(2**31)},
])
def test_nothing_selected_is_said_by_the_selection(signed_in, selection):
    response = _preview(signed_in, WORK | selection)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tick one or more clients on the clients overview" in body
    assert 'value="2025"' in body  # what was typed stays


def test_a_filter_that_matches_no_client_is_said_by_the_selection(signed_in, make, practice):
    make.client(practice, name="Slager")
    response = _preview(signed_in, WORK | {"all_matching": "1", "q": "Bakker"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No client matches this selection." in body
    assert 'value="Bakker"' in body


def test_an_apply_whose_date_has_passed_meanwhile_asks_again(frozen_clock, make, practice,
                                                             anna, client, db):
    frozen_clock.at(datetime(2026, 3, 10, 23, 50, tzinfo=AMSTERDAM))
    signed_in = client
    signed_in.login_staff(anna.email)
    company = make.client(practice)
    data = WORK | {"client_id": company.id, "deadline_rule": "date", "deadline": "2026-03-11"}
    preview = _preview(signed_in, data)
    frozen_clock.advance(minutes=20)  # past midnight: the 11th is today now
    response = _apply(signed_in, data | {"stamp": _stamp(preview)})
    assert response.status_code == 422
    assert "Choose a deadline after today." in response.get_data(as_text=True)
    assert _count(db) == 0


# --- other practices -------------------------------------------------------------------

def test_another_practices_clients_are_never_reached(signed_in, make, practice, db):
    other = make.practice("other")
    theirs = make.client(other, name="Van De Buren B.V.")
    ours = make.client(practice, name="Eigen B.V.")
    ticked = _preview(signed_in, WORK | {"client_id": theirs.id})
    assert ticked.status_code == 422
    assert "No client matches this selection." in ticked.get_data(as_text=True)
    everyone = _preview(signed_in, WORK | {"all_matching": "1"}).get_data(as_text=True)
    assert "for 1 client?" in everyone and "Van De Buren" not in everyone
    mixed = WORK | {"client_id": [theirs.id, ours.id]}
    _apply(signed_in, mixed | {"stamp": _stamp(_preview(signed_in, mixed))})
    assert _engagements(db) == [(ours.id, "annual_accounts", 2025)]


# --- getting there ---------------------------------------------------------------------

def test_the_clients_overview_selection_leads_to_the_form(signed_in, make, practice):
    a = make.client(practice, name="Appel B.V.")
    b = make.client(practice, name="Boom B.V.")
    overview = signed_in.get("/office/clients").get_data(as_text=True)
    assert 'formaction="/office/engagements/bulk/selection"' in overview
    moved = signed_in.submit("/office/engagements/bulk/selection",
                             {"client_id": [a.id, b.id], "new_tier": "standard"},
                             page="/office/clients")
    assert moved.status_code == 303
    assert moved.headers["Location"] == \
        f"/office/engagements/bulk?client_id={a.id}&client_id={b.id}"
    form = signed_in.get(moved.headers["Location"]).get_data(as_text=True)
    assert "The 2 clients you ticked on the clients overview." in form
    assert 'name="year" type="text" value="2025"' in form or 'value="2025"' in form


def test_all_that_match_on_the_overview_keeps_its_filter(signed_in, make, practice):
    moved = signed_in.submit("/office/engagements/bulk/selection",
                             {"all_matching": "1", "q": "Bakker", "tier": "standard"},
                             page="/office/clients")
    assert moved.status_code == 303
    form = signed_in.get(moved.headers["Location"]).get_data(as_text=True)
    assert 'name="q" value="Bakker"' in form
    assert '<option value="standard" selected>' in form


def test_nothing_ticked_on_the_overview_goes_back_with_a_message(signed_in):
    moved = signed_in.submit("/office/engagements/bulk/selection", {"q": "Bakker"},
                             page="/office/clients")
    assert moved.status_code == 303
    assert moved.headers["Location"] == "/office/clients?q=Bakker"
    assert "Tick one or more clients, or all that match." in signed_in.get(
        moved.headers["Location"]).get_data(as_text=True)


def test_the_engagements_overview_links_to_the_form(signed_in):
    overview = signed_in.get("/office/engagements").get_data(as_text=True)
    assert 'href="/office/engagements/bulk?all_matching=1"' in overview
    form = signed_in.get("/office/engagements/bulk?all_matching=1")
    assert form.status_code == 200
    assert "Every client that matches:" in form.get_data(as_text=True)


def test_change_goes_back_to_the_form_with_what_was_chosen(signed_in, make, practice):
    company = make.client(practice)
    back = _preview(signed_in, WORK | {"client_id": company.id, "months": "7",
                                      "change": "1"})
    body = back.get_data(as_text=True)
    assert back.status_code == 200
    assert 'value="7"' in body and "Review" in body


def test_htmx_gets_the_preview_as_a_fragment(signed_in, make, practice):
    company = make.client(practice)
    headers = {"HX-Request": "true", "HX-Target": "section#bulk_engagements"}
    response = signed_in.submit("/office/engagements/bulk", WORK | {"client_id": company.id},
                                page="/office/engagements/bulk", headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="panel panel--medium" id="bulk_engagements"')
    assert "<html" not in body
    invalid = signed_in.submit("/office/engagements/bulk",
                               WORK | {"client_id": company.id, "year": "1"},
                               page="/office/engagements/bulk", headers=headers)
    assert invalid.status_code == 422
    assert "<html" not in invalid.get_data(as_text=True)


# --- cost -----------------------------------------------------------------------------

@pytest.mark.parametrize("clients", [3, 40])
def test_preview_and_apply_run_the_same_statements_for_any_number_of_clients(
        signed_in, make, practice, count_queries, app, clients):
    for n in range(clients):
        company = make.client(practice, name=f"Bakker {n}")
        if n % 3 == 0:
            make.engagement(company, kind="annual_accounts", year=2025)
    data = WORK | {"all_matching": "1"}
    token = signed_in.csrf_token("/office/engagements/bulk")
    preview, preview_queries = count_queries(lambda: signed_in.post(
        "/office/engagements/bulk", data=data | {"csrf_token": token}))
    assert preview.status_code == 200
    done, apply_queries = count_queries(lambda: signed_in.post(
        "/office/engagements/bulk/apply",
        data=data | {"csrf_token": token, "stamp": _stamp(preview)}))
    assert done.status_code == 303
    # preview: the practice, the user, staff to choose from, the clients, their existing work
    assert preview_queries == 5
    # apply: the same (the clients locked), the engagements (one INSERT per 1,000), the
    # audit chain's last event (on PostgreSQL after taking the chain's lock), the new events
    chain_lock = app.config["DATABASE_URL"].startswith("postgresql")
    assert apply_queries == 8 + chain_lock


# --- who is responsible ---------------------------------------------------------------

@pytest.fixture
def piet(make, practice):  # type: ignore[no-untyped-def]
    return make.staff(practice, "piet@demo.example", name="Piet Jansen")


def test_each_clients_own_responsible_with_a_fallback_for_the_rest(signed_in, make, practice,
                                                                  anna, piet, db):
    own = make.client(practice, name="Appel B.V.", responsible_id=piet.id)
    also_own = make.client(practice, name="Boom B.V.", responsible_id=anna.id)
    without = make.client(practice, name="Citroen B.V.")
    data = WORK | {"all_matching": "1", "responsible_rule": "own",
                   "responsible_id": str(anna.id)}
    preview = _preview(signed_in, data)
    body = preview.get_data(as_text=True)
    assert re.search(r"With their own responsible</dt><dd>2<", body)
    assert re.search(r"Without one, so responsible: Anna de Vries</dt><dd>1<", body)
    assert 'name="responsible_rule" value="own"' in body
    assert _apply(signed_in, data | {"stamp": _stamp(preview)}).status_code == 303
    with db() as s:
        responsible = dict(s.execute(select(Engagement.client_id,
                                            Engagement.responsible_id)).tuples().all())
    assert responsible == {own.id: piet.id, also_own.id: anna.id, without.id: anna.id}


def test_without_a_fallback_clients_without_their_own_get_nobody(signed_in, make, practice,
                                                                 piet, db):
    own = make.client(practice, responsible_id=piet.id)
    without = make.client(practice)
    data = WORK | {"all_matching": "1", "responsible_rule": "own"}
    preview = _preview(signed_in, data)
    assert "Without one, so responsible: Nobody yet" in preview.get_data(as_text=True)
    _apply(signed_in, data | {"stamp": _stamp(preview)})
    with db() as s:
        responsible = dict(s.execute(select(Engagement.client_id,
                                            Engagement.responsible_id)).tuples().all())
    assert responsible == {own.id: piet.id, without.id: None}


def test_one_staff_member_for_all_ignores_the_clients_own(signed_in, make, practice, anna,
                                                          piet, db):
    make.client(practice, responsible_id=piet.id)
    data = WORK | {"all_matching": "1", "responsible_id": str(anna.id)}
    preview = _preview(signed_in, data)
    assert re.search(r"Responsible</dt><dd>Anna de Vries<", preview.get_data(as_text=True))
    _apply(signed_in, data | {"stamp": _stamp(preview)})
    with db() as s:
        assert s.scalar(select(Engagement.responsible_id)) == anna.id


def test_a_responsible_changed_meanwhile_asks_again(signed_in, make, practice, anna, piet,
                                                    db):
    from portal.clients.models import Client

    company = make.client(practice, responsible_id=piet.id)
    data = WORK | {"client_id": company.id, "responsible_rule": "own"}
    preview = _preview(signed_in, data)
    with db() as s:
        s.get(Client, company.id).responsible_id = anna.id
        s.commit()
    assert _apply(signed_in, data | {"stamp": _stamp(preview)}).status_code == 409
    assert _count(db) == 0


# --- many engagements in the worker ----------------------------------------------------

@pytest.fixture
def small_limit(monkeypatch):  # type: ignore[no-untyped-def]
    """The worker takes over above 5 engagements here (200 in use): the same path, fewer
    clients to make."""
    from portal.engagements import service

    monkeypatch.setattr(service, "INLINE_LIMIT", 5)
    return 5


def _queue(signed_in, data):  # type: ignore[no-untyped-def]
    preview = _preview(signed_in, data)
    assert "made in the background" in preview.get_data(as_text=True)
    done = _apply(signed_in, data | {"stamp": _stamp(preview)})
    assert done.status_code == 303
    assert re.fullmatch(r"/office/engagements/bulk/\d+", done.headers["Location"])
    return done.headers["Location"]


def test_many_engagements_are_made_by_the_worker_with_progress(app, signed_in, make,
                                                               practice, piet, small_limit,
                                                               db):
    from portal.notifications.worker import Worker

    companies = [make.client(practice, name=f"Bakker {n}", client_number=f"B{n}",
                             responsible_id=piet.id if n % 2 else None) for n in range(8)]
    make.engagement(companies[0], kind="annual_accounts", year=2025)
    make.client(practice, name="Bakker Gestopt", client_number="BX", status="ended")
    data = WORK | {"all_matching": "1", "q": "Bakker", "responsible_rule": "own"}
    url = _queue(signed_in, data)
    waiting = signed_in.get(url).get_data(as_text=True)
    assert "Waiting for the worker to start" in waiting and "reload it" in waiting
    assert _count(db) == 1
    # Meanwhile one client gets it by hand: the worker skips it, never makes a second.
    make.engagement(companies[1], kind="annual_accounts", year=2025)

    Worker(app).run_pass()
    fragment = signed_in.get(url, headers={"HX-Request": "true",
                                           "HX-Target": "div#bulk_progress"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="bulk_progress">')
    assert "Done: 6 engagements created." in body
    summary = signed_in.get(url).get_data(as_text=True)
    assert re.search(r"Engagements created</dt><dd>6<", summary)
    assert re.search(r"Left out</dt><dd>3<", summary)
    left_out = signed_in.get(f"{url}/left-out.csv").get_data(as_text=True)
    rows = sorted(tuple(r) for r in csv.reader(io.StringIO(left_out.lstrip("\ufeff")),
                                               delimiter=";"))[:-1]
    assert rows == [("B0", "Bakker 0", "Has this engagement already"),
                    ("B1", "Bakker 1", "Has this engagement already"),
                    ("BX", "Bakker Gestopt", "Blocked or ended")]
    with db() as s:
        per_client = s.execute(select(Engagement.client_id, func.count(),
                                      func.max(Engagement.responsible_id))
                               .group_by(Engagement.client_id)).all()
    assert all(n == 1 for _cid, n, _r in per_client) and len(per_client) == 8
    owners = {cid: r for cid, _n, r in per_client}
    assert owners[companies[3].id] == piet.id and owners[companies[2].id] is None


class _WorkerDied(BaseException):
    """As a worker killed midway: nothing catches it, its transaction is rolled back."""


def test_a_batch_whose_worker_died_is_taken_over_and_made_once(app, signed_in, make,
                                                              practice, small_limit, db,
                                                              frozen_clock, monkeypatch):
    from portal import db as portal_db
    from portal.engagements import service
    from portal.notifications.worker import Worker

    monkeypatch.setattr(service, "BATCH_CHUNK", 4)
    for n in range(10):
        make.client(practice, name=f"Klant {n}")
    url = _queue(signed_in, WORK | {"all_matching": "1"})
    real, calls = service._create, []

    def dies_in_the_second_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise _WorkerDied()
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "_create", dies_in_the_second_chunk)
    with app.app_context(), pytest.raises(_WorkerDied):
        service.run_queued_batches(portal_db.session)
    monkeypatch.setattr(service, "_create", real)
    assert "Creating: 4 of 10 engagements." in signed_in.get(url).get_data(as_text=True)
    assert _count(db) == 4

    Worker(app).run_pass()  # its claim is fresh: that worker may still be alive
    assert _count(db) == 4
    frozen_clock.advance(minutes=11)
    Worker(app).run_pass()
    with db() as s:
        clients = s.scalars(select(Engagement.client_id)).all()
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "engagement.created"))
    assert len(clients) == len(set(clients)) == 10 and events == 10
    assert re.search(r"Engagements created</dt><dd>10<", signed_in.get(url).get_data(
        as_text=True))


@pytest.mark.parametrize("clients", [8, 30])
def test_queueing_and_the_batch_page_run_the_same_statements_for_any_number(
        signed_in, make, practice, count_queries, app, small_limit, clients):
    for n in range(clients):
        make.client(practice, name=f"Bakker {n}")
    data = WORK | {"all_matching": "1"}
    token = signed_in.csrf_token("/office/engagements/bulk")
    preview = signed_in.post("/office/engagements/bulk", data=data | {"csrf_token": token})
    done, queueing = count_queries(lambda: signed_in.post(
        "/office/engagements/bulk/apply",
        data=data | {"csrf_token": token, "stamp": _stamp(preview)}))
    assert done.status_code == 303
    page, showing = count_queries(lambda: signed_in.get(done.headers["Location"]))
    assert page.status_code == 200
    # queueing: the practice, the user, staff to choose from, the clients (locked), their
    # existing work, the batch's INSERT; the page: the practice, the user, the batch
    assert (queueing, showing) == (6, 3)
