"""The layout holds: text from users never widens a page (a help text of 2,000 and an answer
of 5,000 characters without a space wrap on a phone and on a desktop, on the client's page and
the staff review), and the back office's header is one row on a laptop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal import db as portal_db
from portal.accounts.models import ClientUser
from portal.audit import Actor
from portal.clients import tiers
from portal.questionnaires import content as qc
from portal.questionnaires import service
from portal.questionnaires.models import Assignment
from portal.tenancy.models import Practice
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

HELP = "Toelichting" * 182          # 2,002 characters, no space
ANSWER = "Kilometerregistratie" * 250  # 5,000 characters, no space
CONTENT = {"sections": [{"key": "auto", "title": "Auto", "intro": "", "questions": [
    {"key": "note", "type": "long_text", "label": "Opmerkingen", "help": HELP},
]}]}


def _answered(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", role="admin")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    make.client_user(practice, company, email="sanne@korst.example", name="Sanne")
    actor = Actor(practice.id, "staff", anna.id, anna.email)
    with app.app_context():
        session = portal_db.session
        template = service.create_template(session, actor, "Jaarrekening 2025", None,
                                           content=CONTENT)
        service.send(session, actor, session.get(Practice, practice.id), template,
                     [company.id], deadline=clock.now() + timedelta(days=14), message=None)
        assignment = session.scalar(select(Assignment))
        sanne = session.scalar(select(ClientUser))
        question = qc.questions(CONTENT)[0]
        service.save_answer(session, sanne, assignment, question, ANSWER)
        return company.id, assignment.id


def _sign_in(page, live, path: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url(path))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"


@pytest.mark.parametrize("javascript", [True], ids=["js"])
@pytest.mark.parametrize("viewport", [(360, 740), (1280, 800)], ids=["phone", "desktop"])
def test_long_words_wrap_for_the_client_and_for_staff(app, live, tab, viewport):
    company_id, assignment_id = _answered(app)
    size = {"width": viewport[0], "height": viewport[1]}
    phone = tab(viewport=size)
    _sign_in(phone, live, "/login", "sanne@korst.example")
    phone.goto(live.url(f"/c/{company_id}/questionnaires/{assignment_id}/s/auto"))
    assert phone.get_by_text(HELP[:40]).count() == 1
    _fits(phone)

    office = tab(viewport=size)
    _sign_in(office, live, "/office/login", "anna@demo.example")
    office.goto(live.url(f"/office/questionnaires/assignments/{assignment_id}"))
    assert ANSWER[:40] in office.content()
    _fits(office)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_office_header_is_one_row_at_1366_px_and_administration_opens(app, live, tab):
    make = Factory(app)
    practice = make.practice("demo", name="Administratiekantoor Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="admin",
               name="Annemarie van den Berg-Hoogeveen")
    office = tab(viewport={"width": 1366, "height": 768})
    _sign_in(office, live, "/office/login", "anna@demo.example")
    office.goto(live.url("/office/clients"))
    tops = office.evaluate("""() => [".brand", ".site-nav", ".site-header__account"].map(
        s => Math.round(document.querySelector(s).getBoundingClientRect().top))""")
    nav_height = office.evaluate(
        "() => document.querySelector('.site-nav').getBoundingClientRect().height")
    assert nav_height < 48, f"the navigation wraps onto a second row ({nav_height} px)"
    assert max(tops) - min(tops) < 24, f"the header is more than one row: {tops}"
    office.get_by_text("Administration", exact=True).click()
    office.get_by_role("link", name="Audit log").click()
    assert office.url.endswith("/office/audit")
