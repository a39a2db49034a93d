"""A prepare-by-client questionnaire in Chromium with JavaScript on: each answer saves
itself, and the question that depends on it appears or hides with that answer, not the one
before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import clock
from portal import db as portal_db
from portal.audit import Actor
from portal.clients import tiers
from portal.questionnaires import service
from portal.questionnaires.models import Assignment
from portal.tenancy.models import Practice
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

CONTENT = {"sections": [{"key": "auto", "title": "Auto", "intro": "", "questions": [
    {"key": "bought", "type": "yes_no", "label": "Heeft u een auto gekocht?", "required": True},
    {"key": "price", "type": "amount", "label": "Wat was de aankoopprijs?", "required": True,
     "show_if": {"question": "bought", "equals": "yes"}},
]}]}


def _assignment(app):  # type: ignore[no-untyped-def]
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", role="admin")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    make.client_user(practice, company, email="sanne@korst.example", name="Sanne")
    actor = Actor(practice.id, "staff", anna.id, anna.email)
    with app.app_context():
        template = service.create_template(portal_db.session, actor, "Jaarrekening 2025",
                                           None, content=CONTENT)
        service.send(portal_db.session, actor, portal_db.session.get(Practice, practice.id),
                     template, [company.id], deadline=clock.now() + timedelta(days=14),
                     message=None)
        assignment = portal_db.session.scalar(select(Assignment))
        return f"/c/{company.id}/questionnaires/{assignment.id}/s/auto"


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_the_follow_up_question_follows_each_answer_at_once(app, live, page, accessible):
    section = _assignment(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill("sanne@korst.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url(section))
    follow_up = page.locator("#q-price")
    expect(follow_up).to_be_hidden()
    for answer, shown in (("Yes", True), ("No", False), ("Yes", True), ("No", False)):
        page.locator("#q-bought").get_by_label(answer, exact=True).check()
        if shown:
            expect(follow_up).to_be_visible()
        else:
            expect(follow_up).to_be_hidden()
    accessible(page)
    page.reload()  # what was saved is what was shown
    expect(follow_up).to_be_hidden()
