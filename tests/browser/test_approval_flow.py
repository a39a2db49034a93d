"""The approval flow end to end in Chromium, with JavaScript on and off: staff upload and
share, the mail arrives over SMTP, the client approves from the link (Samenwerken) or the
portal (Uitgebreid), staff see the evidence, and the link is dead afterwards."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal import clock
from portal.clients import tiers
from portal.notifications.worker import Worker
from tests.browser.conftest import fetch
from tests.conftest import make_app
from tests.factories import PASSWORD, PDF, Factory

pytestmark = pytest.mark.browser


@pytest.fixture
def app(database, tmp_path, smtp):  # type: ignore[no-untyped-def]
    from portal import db as portal_db
    from tests.conftest import HostClient

    application = make_app(database, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                           MAIL_BACKEND="smtp", MAIL_DEFAULT_SENDER="portal@portal.example")
    application.test_client_class = HostClient
    yield application
    portal_db.engine_of(application).dispose()


def _world(app, live, tier):  # type: ignore[no-untyped-def]
    app.config["PUBLIC_PORT"] = live.port  # links in mail lead to this test's server
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser", brand_color="#1d4f7a")
    anna = make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")
    company = make.client(practice, tier, name="Bakkerij De Korst")
    sanne = make.client_user(practice, company, email="sanne@korst.example",
                             name="Sanne de Boer")
    engagement = make.engagement(company, responsible_id=anna.id)
    return {"engagement": engagement, "company": company, "sanne": sanne}


def _sign_in(page, live, path: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url(path))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _staff_uploads_and_shares(page, live, engagement, tmp_path, accessible):  # type: ignore[no-untyped-def]
    _sign_in(page, live, "/office/login", "anna@demo.example")
    page.goto(live.url(f"/office/engagements/{engagement.id}"))
    pdf = tmp_path / "Jaarrekening 2025.pdf"
    pdf.write_bytes(PDF)
    page.get_by_label("Report (PDF)").set_input_files(str(pdf))
    page.get_by_role("button", name="Upload report").click()
    page.get_by_text("Version 1 of the report is in place.").wait_for()
    deadline = (clock.today() + timedelta(days=14)).isoformat()
    page.get_by_label("Approve before").fill(deadline)
    page.get_by_role("button", name="Share", exact=True).click()
    page.get_by_text("The report is on its way to 1 person.").wait_for()
    accessible(page)


def _mailed_link(app, live, smtp) -> str:  # type: ignore[no-untyped-def]
    Worker(app).run_pass()
    text = smtp.to("sanne@korst.example")[-1].get_body(("plain",)).get_content()
    return re.search(r"(http://demo\.localhost:\d+/\S+)", text).group(1)


def test_collaborate_client_approves_from_the_mailed_link(app, live, page, tab, smtp,
                                                          tmp_path, accessible):
    world = _world(app, live, tiers.COLLABORATE)
    _staff_uploads_and_shares(page, live, world["engagement"], tmp_path, accessible)
    link = _mailed_link(app, live, smtp)
    assert "/l/" in link

    phone = tab(viewport={"width": 360, "height": 740})
    phone.goto(link)
    accessible(phone)
    phone.get_by_role("button", name="Open the report").click()
    phone.get_by_role("button", name="Approve", exact=True).wait_for()
    accessible(phone)
    report = phone.get_by_role("link", name="View the report (PDF)").get_attribute("href")
    assert fetch(phone, live.url(report)) == (200, PDF)
    phone.get_by_role("button", name="Approve", exact=True).click()
    phone.get_by_text("You approved this report").wait_for()
    assert fetch(phone, live.url(report))[0] == 404  # no longer visible

    phone.goto(link)
    assert phone.get_by_role("heading", level=1).inner_text() == \
        "This has been dealt with already"

    Worker(app).run_pass()
    confirmation = smtp.to("sanne@korst.example")[-1]
    assert confirmation["Subject"].startswith("Confirmation: you approved")

    page.goto(live.url(f"/office/engagements/{world['engagement'].id}"))
    assert page.get_by_text("approved", exact=True).first.is_visible()
    page.get_by_role("link", name="Approval record").click()
    assert page.get_by_text("sanne@korst.example").first.is_visible()
    accessible(page)


def test_extended_client_approves_in_the_portal(app, live, page, tab, smtp, tmp_path,
                                                accessible):
    world = _world(app, live, tiers.COLLABORATE_PLUS)
    _staff_uploads_and_shares(page, live, world["engagement"], tmp_path, accessible)
    link = _mailed_link(app, live, smtp)
    assert f"/c/{world['company'].id}/approvals/" in link

    client = tab()
    client.goto(link)
    client.get_by_label("E-mail address").fill("sanne@korst.example")
    client.get_by_label("Password").fill(PASSWORD)
    client.get_by_role("button", name="Sign in").click()
    client.get_by_role("button", name="Approve", exact=True).click()
    client.get_by_text("You approved this report").wait_for()
    accessible(client)
    report = client.get_by_role("link", name="View the report (PDF)").get_attribute("href")
    assert fetch(client, live.url(report)) == (200, PDF)  # stays in the history
