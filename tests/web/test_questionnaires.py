"""Questionnaires: a template with parts, sent to many clients, filled in (with and without
JavaScript, by several people), reviewed and exported; and loose questions."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import clock
from portal import db as portal_db
from portal.audit import Actor
from portal.clients import tiers
from portal.clients.models import Client
from portal.notifications.models import ClientTask, OutboxMessage
from portal.questionnaires import service
from portal.questionnaires.models import Answer, Assignment, QuestionList, TemplateVersion

CONTENT = {"sections": [
    {"key": "auto", "title": "Auto", "intro": "", "questions": [
        {"key": "bought", "type": "yes_no", "label": "Heeft u een auto gekocht?",
         "required": True},
        {"key": "price", "type": "amount", "label": "Wat was de aankoopprijs?",
         "required": True, "show_if": {"question": "bought", "equals": "yes"}},
    ]},
    {"key": "prive", "title": "Privé", "intro": "", "questions": [
        {"key": "children", "type": "number", "label": "Aantal kinderen", "allow_na": True},
        {"key": "note", "type": "long_text", "label": "Opmerkingen"},
    ]},
]}


@pytest.fixture
def world(app, make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo")
    anna = make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    sanne = make.client_user(practice, company, email="sanne@korst.example", name="Sanne")
    piet = make.client_user(practice, company, email="piet@korst.example", name="Piet",
                            role="member")
    actor = Actor(practice.id, "staff", anna.id, anna.email)
    with app.app_context():
        template = service.create_template(portal_db.session, actor, "Jaarrekening 2025",
                                           None, content=CONTENT)
    return {"practice": practice, "anna": anna, "company": company, "sanne": sanne,
            "piet": piet, "actor": actor, "template": template}


def _send(app, world, client_ids):  # type: ignore[no-untyped-def]
    with app.app_context():
        from portal.tenancy.models import Practice

        practice = portal_db.session.get(Practice, world["practice"].id)
        template = portal_db.session.get(type(world["template"]), world["template"].id)
        batch = service.send(portal_db.session, world["actor"], practice, template,
                             client_ids, deadline=clock.now() + timedelta(days=14),
                             message="Graag voor de deadline.")
        service.deliver_queued(portal_db.session)
        return batch.id


def _assignment(db, client_id):  # type: ignore[no-untyped-def]
    with db() as s:
        return s.scalar(select(Assignment).where(Assignment.client_id == client_id))


@pytest.fixture
def sent(app, world, db):  # type: ignore[no-untyped-def]
    _send(app, world, [world["company"].id])
    return _assignment(db, world["company"].id)


def _portal(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.login_client(user.email)
    return client


def _url(world, assignment, tail=""):  # type: ignore[no-untyped-def]
    return f"/c/{world['company'].id}/questionnaires/{assignment.id}{tail}"


def test_sending_creates_the_assignment_its_open_action_and_a_mail_per_contact(
        world, sent, db):
    with db() as s:
        mails = s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "questionnaire_sent")).all()
        task = s.scalar(select(ClientTask).where(ClientTask.kind == "questionnaire"))
    assert sorted(m.recipient for m in mails) == ["piet@korst.example", "sanne@korst.example"]
    assert "Graag voor de deadline." in mails[0].text_body
    assert (task.subject_id, task.state) == (sent.id, "open")


def test_editing_a_sent_template_makes_a_new_version_and_changes_nothing_sent(
        app, world, sent, db):
    with app.app_context():
        template = portal_db.session.get(type(world["template"]), world["template"].id)
        version = service.edit(portal_db.session, world["actor"], template, "update_section",
                               key="auto", title="Vervoer")
    assert version.number == 2
    with db() as s:
        first = s.get(TemplateVersion, sent.version_id)
    assert first.number == 1 and first.content["sections"][0]["title"] == "Auto"


def test_send_leaves_out_clients_whose_tier_has_no_questionnaires(client, make, world):
    make.client(world["practice"], tiers.COLLABORATE, name="Alleen Samenwerken")
    make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Geblokkeerd",
                status="blocked")
    client.login_staff(world["anna"].email)
    page = client.get(f"/office/questionnaires/{world['template'].id}/send").get_data(
        as_text=True)
    assert "1 client will receive this questionnaire." in page
    assert "1 client is left out: their tier has no questionnaires" in page
    assert "1 client is left out: blocked or ended." in page


def test_bulk_send_to_500_clients_happens_in_one_transaction(app, make, world, db):
    ids = [make.client(world["practice"], tiers.COLLABORATE_PLUS).id for _ in range(500)]
    batch_id = _send(app, world, ids)
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Assignment)) == 500
        assert s.scalar(select(func.count()).select_from(ClientTask)) == 500
        from portal.questionnaires.models import QuestionnaireBatch

        batch = s.get(QuestionnaireBatch, batch_id)
        assert batch.state == "done"
        created = {a.created_at for a in s.scalars(select(Assignment))}
    assert len(created) == 1  # one transaction, one moment


def test_large_sends_show_a_progress_page_until_the_worker_has_sent(client, app, make,
                                                                    world):
    ids = [make.client(world["practice"], tiers.COLLABORATE_PLUS).id
           for _ in range(service.INLINE_SEND_LIMIT + 1)]
    with app.app_context():
        from portal.tenancy.models import Practice

        batch = service.send(portal_db.session, world["actor"],
                             portal_db.session.get(Practice, world["practice"].id),
                             portal_db.session.get(type(world["template"]),
                                                   world["template"].id), ids,
                             deadline=None, message=None)
    client.login_staff(world["anna"].email)
    page = client.get(f"/office/questionnaires/batches/{batch.id}").get_data(as_text=True)
    assert "is being sent to 201 clients" in page and 'hx-trigger="every 2s"' in page
    with app.app_context():
        assert service.deliver_queued(portal_db.session) == 1
    done = client.get(f"/office/questionnaires/batches/{batch.id}").get_data(as_text=True)
    assert "being sent" not in done and "201" in done


def test_filling_in_without_javascript_part_by_part(app, world, sent, db):
    browser = _portal(app, world["sanne"])
    first = browser.get(_url(world, sent))
    assert first.headers["Location"].endswith("/s/auto")
    page = browser.get(_url(world, sent, "/s/auto")).get_data(as_text=True)
    assert "Heeft u een auto gekocht?" in page and "Wat was de aankoopprijs?" not in page
    # "yes" makes the price question appear; the part is not complete until it is answered
    response = browser.submit(_url(world, sent, "/s/auto"), {"bought": "yes", "go": "next"})
    assert response.headers["Location"].endswith("/s/auto")
    assert "Wat was de aankoopprijs?" in browser.get(_url(world, sent, "/s/auto")).get_data(
        as_text=True)
    wrong = browser.submit(_url(world, sent, "/s/auto"), {"bought": "yes", "price": "veel"})
    assert wrong.status_code == 422
    body = wrong.get_data(as_text=True)
    assert 'value="veel"' in body and "Type an amount in euros" in body
    done = browser.submit(_url(world, sent, "/s/auto"), {"bought": "yes",
                                                         "price": "24.950,00"})
    assert done.headers["Location"].endswith("/s/prive")
    with db() as s:
        price = s.scalar(select(Answer).where(Answer.question_key == "price"))
    assert (price.value, price.answered_by) == ("24950.00", "Sanne")


def test_autosave_saves_one_answer_and_shows_the_question_that_depends_on_it(
        app, world, sent, db):
    browser = _portal(app, world["sanne"])
    page = _url(world, sent, "/s/auto")
    response = browser.submit(_url(world, sent, "/q/bought"), {"bought": "yes"}, page=page,
                              headers={"HX-Request": "true",
                                       "HX-Target": "p#status-bought"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Saved" in body
    assert 'id="q-price"' in body and 'hx-swap-oob="true"' in body and "aankoopprijs" in body
    assert 'id="section_index"' in body
    bad = browser.submit(_url(world, sent, "/q/price"), {"price": "veel"}, page=page,
                         headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "Type an amount" in bad.get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(Assignment)).state == "in_progress"


def test_a_changed_answer_shows_or_hides_its_follow_up_at_once(app, world, sent):
    browser = _portal(app, world["sanne"])
    page = _url(world, sent, "/s/auto")
    shown = []
    for answer in ("yes", "no", "yes", "no"):
        body = browser.submit(_url(world, sent, "/q/bought"), {"bought": answer}, page=page,
                              headers={"HX-Request": "true"}).get_data(as_text=True)
        follow_up = re.search(r'<div[^>]*id="q-price"[^>]*>', body).group(0)
        shown.append("hidden" not in follow_up)
    assert shown == [True, False, True, False]


def test_two_people_answer_at_once_and_the_last_answer_per_question_wins(app, world, sent,
                                                                         db):
    sanne, piet = _portal(app, world["sanne"]), _portal(app, world["piet"])
    page = _url(world, sent, "/s/prive")
    sanne.submit(_url(world, sent, "/q/children"), {"children": "2"}, page=page)
    piet.submit(_url(world, sent, "/q/note"), {"note": "Nieuwe bus gekocht"}, page=page)
    piet.submit(_url(world, sent, "/q/children"), {"children": "3"}, page=page)
    with db() as s:
        answers = {a.question_key: a for a in s.scalars(select(Answer))}
    assert (answers["children"].value, answers["children"].answered_by) == ("3", "Piet")
    assert answers["note"].value == "Nieuwe bus gekocht"
    shown = sanne.get(page).get_data(as_text=True)
    assert "Answered by Piet" in shown


def test_submit_needs_every_required_answer_then_closes_the_action(app, world, sent, db):
    browser = _portal(app, world["sanne"])
    early = browser.submit(_url(world, sent, "/submit"), page=_url(world, sent, "/s/auto"),
                           follow_redirects=True)
    assert "Some required questions are not answered yet" in early.get_data(as_text=True)
    browser.submit(_url(world, sent, "/s/auto"), {"bought": "no"})
    browser.submit(_url(world, sent, "/s/prive"), {"na-children": "1", "note": ""})
    done = browser.submit(_url(world, sent, "/submit"), page=_url(world, sent, "/s/prive"))
    assert done.status_code == 303
    with db() as s:
        assignment = s.get(Assignment, sent.id)
        assert (assignment.state, assignment.submitted_by) == ("submitted", "Sanne")
        assert s.scalar(select(ClientTask)).state == "done"
        assert s.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "questionnaire_submitted")).recipient == "anna@demo.example"
    locked = browser.submit(_url(world, sent, "/q/note"), {"note": "te laat"},
                            page=_url(world, sent, "/s/prive"))
    assert locked.status_code == 422 and "can no longer be changed" in locked.get_data(
        as_text=True)


def test_staff_review_reopen_a_part_and_export(client, app, world, sent, db):
    browser = _portal(app, world["sanne"])
    browser.submit(_url(world, sent, "/s/auto"), {"bought": "yes", "price": "1.000,00"})
    browser.submit(_url(world, sent, "/s/prive"), {"children": "2", "note": "Niets"})
    browser.submit(_url(world, sent, "/submit"), page=_url(world, sent, "/s/prive"))
    client.login_staff(world["anna"].email)
    review = f"/office/questionnaires/assignments/{sent.id}"
    page = client.get(review).get_data(as_text=True)
    assert "€ 1,000.00" in page and "Sanne" in page
    client.submit(f"{review}/reopen", {"section": "prive",
                                       "comment": "Hoe oud zijn de kinderen?"}, page=review)
    with db() as s:
        assert s.get(Assignment, sent.id).state == "in_progress"
        assert s.scalar(select(ClientTask)).state == "open"
    again = browser.get(_url(world, sent, "/s/prive")).get_data(as_text=True)
    assert "Hoe oud zijn de kinderen?" in again
    closed = browser.submit(_url(world, sent, "/q/price"), {"price": "5"},
                            page=_url(world, sent, "/s/auto"))
    assert closed.status_code == 422  # only the reopened part may change
    text = client.get(f"{review}/answers.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][4:6] == ["question", "answer"]
    assert rows[2][3:6] == ["Auto", "Wat was de aankoopprijs?", "1000,00"]
    book = load_workbook(io.BytesIO(client.get(f"{review}/answers.xlsx").data))
    assert book.active.max_row == len(rows)


@pytest.mark.parametrize("frozen_clock", [(7, 1, 23, 30)], indirect=True,
                         ids=["1 July, 23:30 in Amsterdam (21:30 UTC)"])
def test_exports_write_numbers_dates_and_amsterdam_time(frozen_clock, client, app, world,
                                                         sent):
    browser = _portal(app, world["sanne"])
    browser.submit(_url(world, sent, "/s/auto"), {"bought": "yes", "price": "45.000,50"})
    browser.submit(_url(world, sent, "/s/prive"), {"children": "3", "note": "=1+1"})
    client.login_staff(world["anna"].email)
    review = f"/office/questionnaires/assignments/{sent.id}"
    local = frozen_clock.now.astimezone(clock.AMSTERDAM)

    rows = list(csv.reader(io.StringIO(client.get(f"{review}/answers.csv").get_data(
        as_text=True)), delimiter=";"))
    by_question = {row[4]: row for row in rows[1:]}
    assert by_question["Wat was de aankoopprijs?"][5] == "45000,50"
    assert by_question["Aantal kinderen"][5] == "3"
    assert by_question["Opmerkingen"][5] == "'=1+1"  # a formula stays text
    answered = by_question["Aantal kinderen"][8]
    assert answered == local.isoformat(timespec="seconds") and answered.endswith("+02:00")

    sheet = load_workbook(io.BytesIO(client.get(f"{review}/answers.xlsx").data)).active
    header = [c.value for c in sheet[1]]
    assert header[8] == "answered_at (Europe/Amsterdam)"
    cells = {row[4].value: row for row in sheet.iter_rows(min_row=2)}
    price = cells["Wat was de aankoopprijs?"][5]
    assert price.value == 45000.5 and "€" in price.number_format
    assert cells["Aantal kinderen"][5].value == 3
    moment = cells["Aantal kinderen"][8]
    assert moment.is_date and moment.value == local.replace(tzinfo=None, microsecond=0)


def test_a_questionnaire_of_150_questions_renders_with_a_fixed_number_of_queries(
        app, make, world, count_queries):
    many = {"sections": [{"key": f"s{n}", "title": f"Deel {n}", "intro": "", "questions": [
        {"key": f"q{n}_{m}", "type": "short_text", "label": f"Vraag {n}.{m}"}
        for m in range(30)]} for n in range(5)]}
    with app.app_context():
        template = service.create_template(portal_db.session, world["actor"], "Groot", None,
                                           content=many)
    world["template"] = template
    small = make.client(world["practice"], tiers.COLLABORATE_PLUS)
    user = make.client_user(world["practice"], small, email="x@small.example")
    _send(app, world, [small.id])
    browser = _portal(app, user)
    with app.app_context():
        assignment = portal_db.session.scalar(select(Assignment).where(
            Assignment.client_id == small.id))
    url = f"/c/{small.id}/questionnaires/{assignment.id}/s/s0"
    _response, before = count_queries(lambda: browser.get(url))
    for m in range(30):
        browser.submit(f"/c/{small.id}/questionnaires/{assignment.id}/q/q0_{m}",
                       {f"q0_{m}": "antwoord"}, page=url)
    response, after = count_queries(lambda: browser.get(url))
    assert response.status_code == 200 and "Vraag 4.29" not in response.get_data(as_text=True)
    assert before == after and after <= 12


@pytest.mark.parametrize("day", ["2020-01-01", "today"])
def test_a_deadline_that_is_not_after_today_is_refused_by_its_field(client, world, db, day):
    client.login_staff(world["anna"].email)
    page = f"/office/questionnaires/{world['template'].id}/send"
    deadline = clock.today().isoformat() if day == "today" else day
    response = client.submit(page, {"deadline": deadline, "message": "Graag snel."})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose a deadline after today." in body
    assert "Graag snel." in body  # what was typed stays
    with db() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(ClientTask)) == 0
    questions = f"/office/clients/{world['company'].id}/questions"
    client.submit(questions, {"text": "Is de auto privé?", "engagement_id": "0"})
    refused = client.submit(f"{questions}/send", {"deadline": deadline, "message": ""},
                            page=questions)
    assert "Choose a deadline after today." in refused.get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_loose_questions_go_out_together_and_come_back_answered(client, app, world, db):
    client.login_staff(world["anna"].email)
    page = f"/office/clients/{world['company'].id}/questions"
    client.submit(page, {"text": "Is de auto privé of zakelijk?", "engagement_id": "0"})
    client.submit(page, {"text": "Wat is het kenteken?", "engagement_id": "0"})
    client.submit(f"{page}/send", {"deadline": "", "message": "Twee vragen"}, page=page)
    with db() as s:
        mails = s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "questions_sent")).all()
        question_list = s.scalar(select(QuestionList))
        ids = [q.id for q in s.scalars(select(service.Question).order_by(service.Question.id))]
    assert len(mails) == 2  # one mail per contact person, for both questions
    portal = _portal(app, world["sanne"])
    answer = f"/c/{world['company'].id}/questions/{question_list.id}"
    for question_id, text in zip(ids, ("Zakelijk", "AB-123-C"), strict=True):
        portal.submit(f"{answer}/{question_id}", {f"answer-{question_id}": text}, page=answer)
    with db() as s:
        assert s.scalar(select(QuestionList)).state == "answered"
        assert s.scalar(select(ClientTask).where(ClientTask.kind == "question_list")).state \
            == "done"
        assert s.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "questions_answered"))
    shown = client.get(page).get_data(as_text=True)
    assert "AB-123-C" in shown and "Sanne" in shown


def test_reminders_go_to_every_contact_until_submitted(app, world, sent, db):
    from portal.notifications import reminders

    clock.freeze(clock.now() + timedelta(days=14 - 2, hours=1))
    with app.app_context():
        queued = reminders.sweep(portal_db.session,
                                 app.extensions["portal.reminder_composers"],
                                 tiers=app.config["REMINDER_TIERS"])
    assert queued == 2


def test_a_condition_is_chosen_from_the_earlier_questions_answers_in_the_users_language(
        client, world, db):
    client.login_staff(world["anna"].email)
    editor = f"/office/questionnaires/{world['template'].id}"
    client.submit("/language", {"locale": "nl", "next": editor}, page=editor)
    page = client.get(editor).get_data(as_text=True)
    # Adding to "Privé": the yes/no question of "Auto" before it, its answers in Dutch.
    add_form = page[page.index('id="add-prive-if"'):]
    add_form = add_form[:add_form.index("</select>")]
    assert '<optgroup label="Heeft u een auto gekocht?">' in add_form
    assert '<option value="bought:yes">Heeft u een auto gekocht? — Ja</option>' in add_form
    assert 'value="bought:no"' in add_form
    # The first question has nothing before it to depend on.
    first = page[page.index('id="q-bought-if"'):]
    assert "<optgroup" not in first[:first.index("</select>")]
    # The follow-up shows its condition chosen, and the list says it in words.
    assert re.search(r'<option selected value="bought:yes">|<option value="bought:yes" selected',
                     page[page.index('id="q-price-if"'):])
    assert "alleen als “Heeft u een auto gekocht?” is beantwoord met Ja" in page

    response = client.submit(f"{editor}/sections/prive/questions", {
        "type": "amount", "label": "Wat kostte de auto?", "show_if": "bought:no"}, page=editor)
    assert response.status_code == 303
    with db() as s:
        template = s.get(type(world["template"]), world["template"].id)
        content = service.latest_version(s, template).content
    added = content["sections"][1]["questions"][-1]
    assert (added["label"], added["show_if"]) == (
        "Wat kostte de auto?", {"question": "bought", "equals": "no"})


def _stamp_of(page: str) -> str:
    found = re.search(r'name="stamp" value="([0-9a-f]+)"', page)
    assert found, "the send form carries no stamp"
    return found.group(1)


def test_the_send_page_names_the_clients_and_warns_of_those_that_have_it_open(
        client, make, world, sent, db):
    make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Aannemer Jansen")
    client.login_staff(world["anna"].email)
    send = f"/office/questionnaires/{world['template'].id}/send"
    deadline = (clock.today() + timedelta(days=30)).isoformat()
    page = client.get(send).get_data(as_text=True)
    assert "1 client will receive this questionnaire." in page
    assert "<li>Aannemer Jansen</li>" in page
    warning = page[page.index("already has this questionnaire open"):]
    assert "<li>Bakkerij De Korst</li>" in warning[:warning.index("</div>")]
    assert "They are left out, so that nobody gets it twice." in page

    again = client.get(f"{send}?send_again=1").get_data(as_text=True)
    assert "2 clients will receive this questionnaire." in again
    assert "They receive it again" in again

    client.submit(send, {"deadline": deadline, "message": "", "stamp": _stamp_of(page)},
                  page=send)
    with db() as s:
        assigned = s.execute(select(Client.name, func.count()).select_from(Assignment).join(
            Client, Client.id == Assignment.client_id).group_by(Client.name)).all()
    assert sorted(assigned) == [("Aannemer Jansen", 1), ("Bakkerij De Korst", 1)]


def test_a_send_to_clients_that_changed_meanwhile_sends_nothing_and_says_so(
        client, make, world, db):
    client.login_staff(world["anna"].email)
    send = f"/office/questionnaires/{world['template'].id}/send"
    stamp = _stamp_of(client.get(send).get_data(as_text=True))  # one client
    make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Nieuw Erbij")
    deadline = (clock.today() + timedelta(days=30)).isoformat()
    response = client.submit(send, {"deadline": deadline, "message": "Graag.",
                                    "stamp": stamp}, page=send)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The clients it goes to have changed since the page was shown" in body
    assert "2 clients will receive this questionnaire." in body and "Graag." in body
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Assignment)) == 0
    client.submit(send, {"deadline": deadline, "message": "Graag.",
                         "stamp": _stamp_of(body)}, page=send)
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Assignment)) == 2
