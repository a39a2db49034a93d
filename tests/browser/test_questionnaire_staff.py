"""Questionnaires from the office's side in Chromium, with JavaScript on and off: staff build
a template of two parts with a question that shows only after a given choice, send it to
two clients (the mail arrives over SMTP), a client fills it in (saved as they answer, or with
the buttons), staff give a part back with a comment, and the answers leave as CSV and Excel
files whose cells a spreadsheet can count with."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from portal import clock
from portal import db as portal_db
from portal.accounts.models import ClientUser
from portal.audit import Actor
from portal.clients import tiers
from portal.notifications.worker import Worker
from portal.questionnaires import content as qc
from portal.questionnaires import service
from portal.questionnaires.models import Assignment, QuestionnaireBatch, TemplateVersion
from portal.tenancy.models import Practice
from tests.conftest import HostClient, make_app
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

USE, PRICE, CHILDREN, MOVED = ("Hoe gebruikt u de auto?", "Wat was de aankoopprijs?",
                               "Hoeveel kinderen wonen thuis?", "Wanneer bent u verhuisd?")
# What staff build in the first test, arranged directly for the others (keys fixed).
CONTENT = {"sections": [
    {"key": "auto", "title": "Auto", "intro": "", "questions": [
        {"key": "use", "type": "single_choice", "label": USE, "required": True,
         "options": ["Zakelijk", "Privé"]},
        {"key": "price", "type": "amount", "label": PRICE, "required": True,
         "show_if": {"question": "use", "equals": "Zakelijk"}}]},
    {"key": "gezin", "title": "Gezin", "intro": "", "questions": [
        {"key": "children", "type": "number", "label": CHILDREN, "required": True},
        {"key": "moved", "type": "date", "label": MOVED, "required": True}]},
]}


@pytest.fixture
def app(database, tmp_path, smtp):  # type: ignore[no-untyped-def]
    """The app whose worker delivers to the loopback SMTP sink."""
    application = make_app(database, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                           MAIL_BACKEND="smtp", MAIL_DEFAULT_SENDER="portal@portal.example")
    application.test_client_class = HostClient
    yield application
    portal_db.engine_of(application).dispose()


def _world(app, live):  # type: ignore[no-untyped-def]
    app.config["PUBLIC_PORT"] = live.port  # links in mail lead to this test's server
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst",
                        client_number="1001")
    make.client_user(practice, korst, email="sanne@korst.example", name="Sanne de Boer")
    molen = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Molen",
                        client_number="1002")
    make.client_user(practice, molen, email="piet@molen.example", name="Piet Molen")
    make.client(practice, tiers.COLLABORATE_PLUS, name="Slagerij Vers", client_number="2001")
    return {"practice": practice, "anna": anna, "korst": korst, "molen": molen}


def _sent(app, world, answers: dict[str, object] | None = None, submit: bool = False):  # type: ignore[no-untyped-def]
    """The questionnaire sent to both bakeries; De Korst's answers given, and sent in."""
    anna, practice = world["anna"], world["practice"]
    actor = Actor(practice.id, "staff", anna.id, anna.email)
    with app.app_context():
        session = portal_db.session
        template = service.create_template(session, actor, "Aangifte IB 2025", None,
                                           content=CONTENT)
        batch = service.send(session, actor, session.get(Practice, practice.id), template,
                             [world["korst"].id, world["molen"].id],
                             deadline=clock.end_of_day(clock.today() + timedelta(days=14)),
                             message=None)
        assignment = session.scalar(select(Assignment).where(
            Assignment.client_id == world["korst"].id))
        if answers:
            sanne = session.scalar(select(ClientUser).where(
                ClientUser.email == "sanne@korst.example"))
            content = session.get(TemplateVersion, assignment.version_id).content
            by_key = {q.key: q for q in qc.questions(content)}
            for key, raw in answers.items():
                service.save_answer(session, sanne, assignment, by_key[key], raw)
            if submit:
                service.submit(session, sanne, session.get(Practice, practice.id), assignment)
        return batch.id, assignment.id


def _sign_in(page, live, path: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url(path))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _mailed_link(app, smtp, address: str) -> str:  # type: ignore[no-untyped-def]
    Worker(app).run_pass()
    mails = smtp.to(address)
    assert mails, f"no mail reached {address}"
    text = mails[-1].get_body(("plain",)).get_content()
    return re.search(r"(http://demo\.localhost:\d+/\S+)", text).group(1)


def _read(app, model, row_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        return portal_db.session.get(model, row_id)


# --- building ---------------------------------------------------------------------------

def _part(page, title: str):  # type: ignore[no-untyped-def]
    page.get_by_label("Title of the part").fill(title)
    page.get_by_role("button", name="Add part").click()
    expect(page.get_by_role("heading", name=re.compile(rf"^\d+\. {title}$"))).to_be_visible()


def _question(page, part: str, kind: str, label: str, *, options: str = "",  # type: ignore[no-untyped-def]
              show_if: str | None = None) -> None:
    adder = page.locator("details").filter(
        has=page.locator("summary", has_text=f"Add a question to {part}"))
    adder.locator("summary").click()
    adder.get_by_label("Type").select_option(label=kind)
    adder.get_by_label("Question", exact=True).fill(label)
    adder.get_by_label("An answer is required").check()
    if options:
        adder.get_by_label("Options").fill(options)
    if show_if:
        adder.get_by_label("Show only when").select_option(label=show_if)
    adder.get_by_role("button", name="Add question").click()
    expect(page.locator(".question-list strong", has_text=label)).to_be_visible()


def test_staff_build_two_parts_with_a_question_that_depends_on_a_choice(app, live, page,
                                                                       accessible):
    world = _world(app, live)
    _sign_in(page, live, "/office/login", "anna@demo.example")
    page.get_by_role("link", name="Questionnaires").first.click()
    page.get_by_text("New template").click()
    page.get_by_label("Name").fill("Aangifte IB 2025")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Aangifte IB 2025", level=1)).to_be_visible()
    editor = page.url

    _part(page, "Auto")
    _question(page, "Auto", "One choice", USE, options="Zakelijk\nPrivé")
    # A choice that needs a second option is refused there, and what was typed stays.
    adder = page.locator("details").filter(
        has=page.locator("summary", has_text="Add a question to Auto"))
    adder.locator("summary").click()
    adder.get_by_label("Type").select_option(label="One choice")
    adder.get_by_label("Question", exact=True).fill("Welke brandstof?")
    adder.get_by_label("Options").fill("Benzine")
    adder.get_by_role("button", name="Add question").click()
    expect(page.get_by_text("A choice needs at least two options, one per line.")).to_be_visible()
    expect(adder.get_by_label("Question", exact=True)).to_have_value("Welke brandstof?")
    accessible(page)
    page.goto(editor)  # leave the refused form

    _question(page, "Auto", "Amount in euros", PRICE,
              show_if=f"{USE} — Zakelijk")
    _part(page, "Gezin")
    _question(page, "Gezin", "Number (figure)", CHILDREN)
    _question(page, "Gezin", "Date", MOVED)
    expect(page.get_by_text(f"only when “{USE}” is answered Zakelijk")).to_be_visible()
    accessible(page)

    with app.app_context():
        from portal.questionnaires.models import QuestionnaireTemplate

        template = portal_db.session.scalar(select(QuestionnaireTemplate))
        content = service.latest_version(portal_db.session, template).content
    sections = qc.sections(content)
    assert [(s.title, [(q.type, q.label, q.required) for q in s.questions])
            for s in sections] == [
        ("Auto", [("single_choice", USE, True), ("amount", PRICE, True)]),
        ("Gezin", [("number", CHILDREN, True), ("date", MOVED, True)])]
    use, price = sections[0].questions
    assert use.options == ("Zakelijk", "Privé")
    assert price.show_if == {"question": use.key, "equals": "Zakelijk"}
    assert template.practice_id == world["practice"].id


# --- sending and filling in -----------------------------------------------------------

def test_two_clients_receive_it_and_the_chosen_answer_brings_its_question(
        app, live, page, tab, smtp, accessible):
    world = _world(app, live)
    actor = Actor(world["practice"].id, "staff", world["anna"].id, world["anna"].email)
    with app.app_context():
        service.create_template(portal_db.session, actor, "Aangifte IB 2025", None,
                                content=CONTENT)

    _sign_in(page, live, "/office/login", "anna@demo.example")
    page.get_by_role("link", name="Questionnaires").first.click()
    page.get_by_role("link", name="Aangifte IB 2025").click()
    page.get_by_role("link", name="Send to clients").click()
    page.get_by_label("Search").fill("Bakkerij")
    page.get_by_role("button", name="Show who receives it").click()
    expect(page.get_by_text("2 clients will receive this questionnaire.")).to_be_visible()
    names = page.locator("ul.names li")
    expect(names).to_have_text(["Bakkerij De Korst", "Bakkerij De Molen"])
    deadline = clock.today() + timedelta(days=14)
    page.get_by_label("Deadline").fill(deadline.isoformat())
    page.get_by_label("Message in the mail").fill("Graag voor de zomer.")
    accessible(page)
    page.get_by_role("button", name="Send to 2 clients").click()
    expect(page.get_by_role("heading", name="Aangifte IB 2025", level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Bakkerij De Korst"))).to_contain_text(
        "Not started")
    expect(page.get_by_role("row", name=re.compile("Bakkerij De Molen"))).to_contain_text(
        "Not started")

    link = _mailed_link(app, smtp, "sanne@korst.example")
    assert smtp.to("piet@molen.example"), "the second client got no mail"
    mail = smtp.to("sanne@korst.example")[-1]
    assert mail["Subject"] == "Please fill in: Aangifte IB 2025"
    assert "Graag voor de zomer." in mail.get_body(("plain",)).get_content()

    # Sanne opens the mailed link, signs in and lands on the first part.
    sanne = tab()
    sanne.goto(link)
    sanne.get_by_label("E-mail address").fill("sanne@korst.example")
    sanne.get_by_label("Password").fill(PASSWORD)
    sanne.get_by_role("button", name="Sign in").click()
    expect(sanne.get_by_role("heading", name="Auto", level=2)).to_be_visible()
    sanne.wait_for_load_state()  # autosave listens only once htmx has run
    price = sanne.get_by_label(PRICE)
    expect(price).to_have_count(0)  # not asked before the choice
    use = sanne.get_by_role("group", name=USE)
    use.get_by_label("Privé").check()
    if sanne.javascript:  # saved at once; the follow-up stays away for "Privé"
        expect(sanne.locator("#status-use")).to_have_text("Saved")
        expect(price).to_have_count(0)
    use.get_by_label("Zakelijk").check()
    if sanne.javascript:
        expect(price).to_be_visible()  # appears in place, no page load
        price.fill("34,950.00")
        price.press("Tab")  # leaving the field saves it
        expect(sanne.locator("#status-price")).to_have_text("Saved")
        accessible(sanne)
        sanne.reload()  # what was saved is what shows
        expect(sanne.get_by_label(PRICE)).to_have_value("34,950.00")
        sanne.get_by_role("link", name="Gezin").click()
    else:
        sanne.get_by_role("button", name="Save and continue").click()
        # The choice was saved; the question it brings is asked before moving on.
        expect(sanne.get_by_text("Some questions in this part still need an answer.")
               ).to_be_visible()
        expect(use.get_by_label("Zakelijk")).to_be_checked()
        expect(price).to_be_visible()
        price.fill("34,950.00")
        accessible(sanne)
        sanne.get_by_role("button", name="Save and continue").click()
        expect(sanne.get_by_text("Your answers are saved.")).to_be_visible()
    expect(sanne.get_by_role("heading", name="Gezin", level=2)).to_be_visible()
    sanne.get_by_label(CHILDREN).fill("3")
    if sanne.javascript:
        sanne.get_by_label(CHILDREN).press("Tab")
        expect(sanne.locator("#status-children")).to_have_text("Saved")
    sanne.get_by_label(MOVED).fill("2025-03-31")
    if sanne.javascript:
        expect(sanne.locator("#status-moved")).to_have_text("Saved")
    else:
        sanne.get_by_role("button", name="Save", exact=True).click()
        expect(sanne.get_by_text("Your answers are saved.")).to_be_visible()
    sanne.get_by_role("button", name="Send in my answers").click()
    expect(sanne.get_by_text("Thank you! Your answers have been sent to Bakker & Visser.")
           ).to_be_visible()

    with app.app_context():
        assignments = {a.client_id: a for a in portal_db.session.scalars(select(Assignment))}
        korst = assignments[world["korst"].id]
        answers = {k: a.value for k, a in service.answers_of(portal_db.session, korst).items()}
    assert answers == {"use": "Zakelijk", "price": "34950.00", "children": "3",
                       "moved": "2025-03-31"}
    assert korst.state == "submitted" and korst.submitted_by == "Sanne de Boer"
    assert assignments[world["molen"].id].state == "not_started"

    page.reload()
    expect(page.get_by_role("row", name=re.compile("Bakkerij De Korst"))).to_contain_text(
        "Submitted")
    expect(page.get_by_role("row", name=re.compile("Bakkerij De Molen"))).to_contain_text(
        "Not started")
    Worker(app).run_pass()
    assert smtp.to("anna@demo.example")[-1]["Subject"]  # Anna hears it was sent in


# --- review ------------------------------------------------------------------------------

def test_staff_give_a_part_back_and_only_that_part_opens_again(app, live, page, tab, smtp,
                                                               accessible):
    world = _world(app, live)
    _batch_id, assignment_id = _sent(app, world, {
        "use": "Zakelijk", "price": "34950", "children": "3", "moved": "2025-03-31"},
        submit=True)

    _sign_in(page, live, f"/office/questionnaires/assignments/{assignment_id}",
             "anna@demo.example")
    expect(page.get_by_role("heading", name="Bakkerij De Korst", level=1)).to_be_visible()
    answers = page.locator("dl.answers")
    expect(answers.first).to_contain_text(PRICE)
    expect(answers.first).to_contain_text("€ 34,950.00")
    expect(answers.nth(1)).to_contain_text("31-03-2025")
    page.get_by_role("button", name="Open this part again").click()  # no comment yet
    expect(page.get_by_text("This field is required.")).to_be_visible()
    assert _read(app, Assignment, assignment_id).state == "submitted"
    page.get_by_label("Part", exact=True).select_option(label="Auto")
    page.get_by_label("What should be added or changed").fill(
        "Was dit de prijs inclusief btw?")
    accessible(page)
    page.get_by_role("button", name="Open this part again").click()
    expect(page.get_by_text("The part is open again for the client; they got a mail with "
                            "your comment.")).to_be_visible()
    expect(page.get_by_role("heading", name="Auto open again")).to_be_visible()
    assert _read(app, Assignment, assignment_id).state == "in_progress"

    link = _mailed_link(app, smtp, "sanne@korst.example")
    mail = smtp.to("sanne@korst.example")[-1]
    assert mail["Subject"] == "One more thing: Aangifte IB 2025"
    assert "Was dit de prijs inclusief btw?" in mail.get_body(("plain",)).get_content()

    sanne = tab()
    sanne.goto(link)
    sanne.get_by_label("E-mail address").fill("sanne@korst.example")
    sanne.get_by_label("Password").fill(PASSWORD)
    sanne.get_by_role("button", name="Sign in").click()
    expect(sanne.get_by_text("Your accountant asks: “Was dit de prijs inclusief btw?”")
           ).to_be_visible()
    # The text shows while the page still loads; autosave listens only once htmx has run.
    sanne.wait_for_load_state()
    expect(sanne.get_by_label(PRICE)).to_be_editable()
    sanne.get_by_label(PRICE).fill("42,292.00")
    if sanne.javascript:
        sanne.get_by_label(PRICE).press("Tab")
        expect(sanne.locator("#status-price")).to_have_text("Saved")
    else:
        sanne.get_by_role("button", name="Save and continue").click()
        expect(sanne.get_by_text("Your answers are saved.")).to_be_visible()
    accessible(sanne)
    sanne.get_by_role("link", name="Gezin").click()
    expect(sanne.get_by_label(CHILDREN)).to_be_disabled()  # only the part given back opens
    expect(sanne.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    sanne.get_by_role("button", name="Send in my answers").click()
    expect(sanne.get_by_text("Thank you! Your answers have been sent to Bakker & Visser.")
           ).to_be_visible()

    page.reload()
    expect(answers.first).to_contain_text("€ 42,292.00")
    expect(page.get_by_role("heading", name="Auto open again")).to_have_count(0)
    page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.get_by_text("Marked as reviewed.")).to_be_visible()
    assert _read(app, Assignment, assignment_id).state == "reviewed"


# --- export ------------------------------------------------------------------------------

def _download(page, link_name: str):  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).click()
    download = info.value
    with open(download.path(), "rb") as handle:
        return download.suggested_filename, handle.read()


def test_the_answers_leave_as_csv_and_excel_with_cells_to_count_with(app, live, page,
                                                                     accessible):
    world = _world(app, live)
    batch_id, _assignment_id = _sent(app, world, {
        "use": "Zakelijk", "price": "34950.5", "children": "3", "moved": "2025-03-31"},
        submit=True)

    _sign_in(page, live, f"/office/questionnaires/batches/{batch_id}", "anna@demo.example")
    expect(page.get_by_role("heading", name="Aangifte IB 2025", level=1)).to_be_visible()
    accessible(page)

    name, data = _download(page, "CSV")
    assert name == f"questionnaire-{batch_id}.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")), delimiter=";"))
    assert rows[0][:6] == ["client_number", "client", "questionnaire", "section", "question",
                           "answer"]
    by_question = {(r[0], r[4]): r for r in rows[1:]}
    assert by_question[("1001", USE)][5] == "Zakelijk"
    assert by_question[("1001", PRICE)][5] == "34950,50"  # decimal comma, for Dutch sheets
    assert by_question[("1001", CHILDREN)][5] == "3"
    assert by_question[("1001", MOVED)][5] == "31-03-2025"
    assert by_question[("1001", MOVED)][7] == "Sanne de Boer"
    assert datetime.fromisoformat(by_question[("1001", MOVED)][8]).utcoffset() is not None
    # De Molen answered nothing: its questions are listed empty, the one that depends on a
    # choice nobody made is not.
    assert {q for (number, q) in by_question if number == "1002"} == {USE, CHILDREN, MOVED}
    assert all(r[5] == "" for r in rows[1:] if r[0] == "1002")

    name, data = _download(page, "Answers as Excel")
    assert name == f"questionnaire-{batch_id}.xlsx"
    sheet = load_workbook(io.BytesIO(data)).active
    cells = {(row[0].value, row[4].value): row for row in sheet.iter_rows(min_row=2)}
    price = cells[("1001", PRICE)][5]
    assert price.value == pytest.approx(34950.5) and isinstance(price.value, float | int)
    assert "€" in price.number_format and "0.00" in price.number_format
    children = cells[("1001", CHILDREN)][5]
    assert children.value == 3 and isinstance(children.value, int | float)
    moved = cells[("1001", MOVED)][5]
    assert moved.is_date and moved.value.date() == date(2025, 3, 31)
    assert moved.number_format == "dd-mm-yyyy"
    answered = cells[("1001", MOVED)][8]
    assert answered.is_date and isinstance(answered.value, datetime)
    assert Decimal(str(price.value)) == Decimal("34950.5")
    with app.app_context():
        assert portal_db.session.get(QuestionnaireBatch, batch_id).client_ids == [
            world["korst"].id, world["molen"].id]
