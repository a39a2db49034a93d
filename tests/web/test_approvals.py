"""Reports, sharing and digital approval, through the pages staff and clients use."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.accounts.models import OneTimeLink
from portal.clients import tiers
from portal.engagements.models import Engagement, ReportVersion, Share, Signer
from portal.notifications.models import ClientTask, OutboxMessage

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    return {"practice": practice,
            "anna": make.staff(practice, "anna@demo.example", role="admin", name="Anna")}


@pytest.fixture
def office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def _engagement(make, world, tier=tiers.COLLABORATE, contacts=1):  # type: ignore[no-untyped-def]
    company = make.client(world["practice"], tier, name="Bakkerij De Korst")
    users = [make.client_user(world["practice"], company, email=f"signer{n}@korst.example",
                              name=f"Signer {n}", role="owner" if n == 0 else "member")
             for n in range(contacts)]
    engagement = make.engagement(company, responsible_id=world["anna"].id)
    return engagement, users


def _upload(office, engagement, data=PDF, name="Jaarrekening 2025.pdf"):  # type: ignore[no-untyped-def]
    page = f"/office/engagements/{engagement.id}"
    return office.submit(f"{page}/reports", {"report": (io.BytesIO(data), name)}, page=page,
                         content_type="multipart/form-data")


def _share(office, engagement, users, mode="approval", days=10, extra=""):  # type: ignore[no-untyped-def]
    page = f"/office/engagements/{engagement.id}"
    deadline = (clock.today() + timedelta(days=days)).isoformat()
    return office.submit(f"{page}/shares", {
        "mode": mode, "deadline": deadline if mode == "approval" else "",
        "signers": [u.id for u in users], "extra_emails": extra, "message": ""}, page=page)


def _link_for(db, address: str) -> str:  # type: ignore[no-untyped-def]
    with db() as s:
        body = s.scalars(select(OutboxMessage.text_body).where(
            OutboxMessage.recipient == address).order_by(OutboxMessage.id.desc())).first()
    return re.search(r"http://demo\.localhost(/l/\S+)", body).group(1)


def _without_csrf(page: str) -> str:
    return re.sub(r'"X-CSRFToken": ?"[^"]+"|name="csrf_token"[^>]*value="[^"]+"', "", page)


def _open(app, link: str):  # type: ignore[no-untyped-def]
    """A browser that follows the mailed link and presses the button on its page."""
    browser = app.test_client()
    response = browser.submit(link, page=link)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return browser, response.headers["Location"]


def test_pdf_upload_becomes_a_version_and_can_be_printed(office, make, world, db):
    engagement, _users = _engagement(make, world, tiers.STANDARD)
    assert _upload(office, engagement).status_code == 303
    with db() as s:
        version = s.scalar(select(ReportVersion))
    assert (version.number, version.size, version.filename) == (1, len(PDF),
                                                                "Jaarrekening 2025.pdf")
    import hashlib

    assert version.sha256 == hashlib.sha256(PDF).hexdigest()
    url = f"/office/engagements/{engagement.id}/reports/{version.id}"
    inline = office.get(url + "?inline=1")
    assert inline.data == PDF and inline.mimetype == "application/pdf"
    assert inline.headers["Content-Disposition"].startswith("inline")
    assert "attachment" in office.get(url).headers["Content-Disposition"]
    ranged = office.get(url, headers={"Range": "bytes=0-4"})
    assert ranged.status_code == 206 and ranged.data == b"%PDF-"


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 not a pdf at all" * 10, "This file is not a PDF"),
    (b"", "The file is empty"),
])
def test_refused_uploads_say_why_and_leave_nothing_behind(office, make, world, db, app,
                                                          data, message):
    engagement, _users = _engagement(make, world)
    response = _upload(office, engagement, data, "report.pdf")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ReportVersion)) == 0
    from pathlib import Path

    stored = [p for p in Path(app.config["STORAGE_URL"][7:]).rglob("*") if p.is_file()]
    assert stored == []


def test_too_large_report_is_refused(app_with, make):  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    app = app_with(REPORT_MAX_MB=1)
    make = Factory(app)
    practice = make.practice("demo")
    anna = make.staff(practice, "anna@demo.example", role="admin")
    engagement = make.engagement(make.client(practice))
    office = app.test_client()
    office.login_staff(anna.email)
    response = _upload(office, engagement, PDF + b"0" * (1024 * 1024))
    assert response.status_code == 422 and "larger than 1 MB" in response.get_data(
        as_text=True)


def test_standard_clients_get_no_digital_sharing_but_a_download(office, make, world):
    engagement, users = _engagement(make, world, tiers.STANDARD)
    _upload(office, engagement)
    page = office.get(f"/office/engagements/{engagement.id}").get_data(as_text=True)
    assert "reports are not shared digitally" in page and "Download" in page
    response = _share(office, engagement, users)
    assert response.status_code == 422
    assert "has no digital sharing" in response.get_data(as_text=True)


def test_collaborate_flow_link_confirm_view_approve_and_the_link_is_dead(
        office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    assert _share(office, engagement, users).status_code == 303
    link = _link_for(db, "signer0@korst.example")

    # A mail scanner opening the link changes nothing.
    scanner = app.test_client().get(link)
    assert scanner.status_code == 200 and "Open the report" in scanner.get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(OneTimeLink)).used_at is None

    browser, task = _open(app, link)
    page = browser.get(task).get_data(as_text=True)
    assert "Annual accounts 2025" in page and "Approve" in page and "Do not approve" in page
    signer_id = int(task.rsplit("/", 1)[1])
    pdf = browser.get(f"/task/{signer_id}/report.pdf")
    assert pdf.data == PDF and pdf.headers["Content-Disposition"].startswith("inline")

    done = browser.submit(f"/task/{signer_id}/decide", {"decision": "approved",
                                                        "comment": ""}, page=task)
    assert done.status_code == 303
    assert "Your approval is recorded" in browser.get(task).get_data(as_text=True)
    with db() as s:
        signer = s.get(Signer, signer_id)
        version = s.scalar(select(ReportVersion))
        assert signer.decision == "approved" and signer.decided_sha256 == version.sha256
        assert signer.decided_by == "signer0@korst.example" and signer.ip
        assert signer.decided_through == "link" and signer.link_id
        assert s.get(Engagement, engagement.id).status == "approved"
        assert s.scalar(select(Share)).state == "approved"
        assert s.scalar(select(ClientTask)).state == "done"
        kinds = {m.kind for m in s.scalars(select(OutboxMessage))}
        assert {"decision_confirmation", "approval_outcome"} <= kinds

    # After approval a Samenwerken client can no longer see the report.
    assert browser.get(f"/task/{signer_id}/report.pdf").status_code == 404
    again = app.test_client().get(link)
    assert again.status_code == 410 and "dealt with already" in again.get_data(as_text=True)


def test_rejection_needs_a_comment_and_ends_the_task(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    _share(office, engagement, users)
    browser, task = _open(app, _link_for(db, "signer0@korst.example"))
    signer_id = int(task.rsplit("/", 1)[1])
    empty = browser.submit(f"/task/{signer_id}/decide", {"decision": "rejected",
                                                         "comment": ""}, page=task)
    assert empty.status_code == 422 and "Say what should change" in empty.get_data(
        as_text=True)
    browser.submit(f"/task/{signer_id}/decide", {"decision": "rejected",
                                                 "comment": "Afschrijving auto klopt niet"},
                   page=task)
    with db() as s:
        assert s.scalar(select(Share)).state == "rejected"
        assert s.get(Engagement, engagement.id).status == "rejected"
    page = office.get(f"/office/engagements/{engagement.id}").get_data(as_text=True)
    assert "Afschrijving auto klopt niet" in page


def test_every_signer_must_approve_and_one_rejection_ends_it(office, make, world, app, db):
    engagement, users = _engagement(make, world, contacts=2)
    _upload(office, engagement)
    _share(office, engagement, users, extra="tweede.directeur@korst.example")
    first, task1 = _open(app, _link_for(db, "signer0@korst.example"))
    first.submit(task1.replace("/task/", "/task/") + "/decide",
                 {"decision": "approved", "comment": ""}, page=task1)
    with db() as s:
        assert s.scalar(select(Share)).state == "open"
    page = office.get(f"/office/engagements/{engagement.id}").get_data(as_text=True)
    assert page.count("waiting") >= 2  # who has not decided yet is shown
    second, task2 = _open(app, _link_for(db, "tweede.directeur@korst.example"))
    second.submit(task2 + "/decide", {"decision": "approved", "comment": ""}, page=task2)
    with db() as s:
        assert s.scalar(select(Share)).state == "open"
    third, task3 = _open(app, _link_for(db, "signer1@korst.example"))
    third.submit(task3 + "/decide", {"decision": "approved", "comment": ""}, page=task3)
    with db() as s:
        assert s.scalar(select(Share)).state == "approved"


def test_a_new_version_ends_the_open_task_and_old_decisions_say_their_version(
        office, make, world, app, db):
    engagement, users = _engagement(make, world, contacts=2)
    _upload(office, engagement)
    _share(office, engagement, users)
    browser, task = _open(app, _link_for(db, "signer0@korst.example"))
    browser.submit(task + "/decide", {"decision": "approved", "comment": ""}, page=task)
    old_link = _link_for(db, "signer1@korst.example")
    _upload(office, engagement, PDF + b"% v2\n")
    with db() as s:
        first = s.scalar(select(Share).order_by(Share.id))
        assert first.state == "superseded"
        assert s.scalar(select(ClientTask)).state == "cancelled"
        decided = s.scalar(select(Signer).where(Signer.decision.is_not(None)))
        assert decided.decided_version_id == first.report_version_id
    assert app.test_client().get(old_link).status_code == 410


def test_withdrawing_kills_the_links_at_once(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    _share(office, engagement, users)
    link = _link_for(db, "signer0@korst.example")
    with db() as s:
        share_id = s.scalar(select(Share.id))
    page = f"/office/engagements/{engagement.id}"
    office.submit(f"{page}/shares/{share_id}/withdraw", page=page)
    response = app.test_client().get(link)
    assert response.status_code == 410 and "withdrawn" in response.get_data(as_text=True)
    assert "Send me a new link" not in response.get_data(as_text=True)


def test_used_link_offers_a_new_one_while_the_task_is_open(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    _share(office, engagement, users)
    link = _link_for(db, "signer0@korst.example")
    _open(app, link)
    stranger = app.test_client()
    page = stranger.get(link)
    assert page.status_code == 410 and "Send me a new link" in page.get_data(as_text=True)
    token = link.rsplit("/", 1)[1]
    answer = stranger.submit("/l/new-link", {"token": token}, page=link)
    assert "a new link is on its way" in answer.get_data(as_text=True)
    assert _link_for(db, "signer0@korst.example") != link
    forged = stranger.submit("/l/new-link", {"token": token[:-4] + "AAAA"}, page=link)
    # The same page, but for the CSRF token, which carries the second it was signed in.
    assert _without_csrf(forged.get_data(as_text=True)) == \
        _without_csrf(answer.get_data(as_text=True))


def test_expired_link_by_the_clock(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    _share(office, engagement, users, days=2)
    link = _link_for(db, "signer0@korst.example")
    clock.freeze(clock.now() + timedelta(days=30))
    response = app.test_client().get(link)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


def test_link_on_another_practices_host_names_nobody(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    make.practice("other")
    _upload(office, engagement)
    _share(office, engagement, users)
    link = _link_for(db, "signer0@korst.example")
    response = app.test_client().on("other.localhost").get(link)
    body = response.get_data(as_text=True)
    assert response.status_code == 404 and "Korst" not in body and "Bakker" not in body


def test_the_grant_is_short_and_for_this_one_task(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    _share(office, engagement, users)
    browser, task = _open(app, _link_for(db, "signer0@korst.example"))
    signer_id = int(task.rsplit("/", 1)[1])
    assert browser.get(f"/task/{signer_id + 1}").status_code == 403
    clock.freeze(clock.now() + timedelta(minutes=app.config["LINK_GRANT_MINUTES"] + 1))
    late = browser.get(task)
    assert late.status_code == 403 and "open the link in your e-mail again" in \
        late.get_data(as_text=True)


def test_two_decisions_at_once_leave_exactly_one_outcome(office, make, world, app, db):
    engagement, users = _engagement(make, world, contacts=2)
    _upload(office, engagement)
    _share(office, engagement, users)
    sessions = [_open(app, _link_for(db, f"signer{n}@korst.example")) for n in range(2)]
    start = threading.Barrier(2)
    results = []

    def decide(browser, task, decision):  # type: ignore[no-untyped-def]
        token = browser.csrf_token(task)
        start.wait()
        results.append(browser.post(task + "/decide", data={
            "csrf_token": token, "decision": decision, "comment": "nee"}).status_code)

    threads = [threading.Thread(target=decide, args=(*sessions[0], "approved")),
               threading.Thread(target=decide, args=(*sessions[1], "rejected"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [303, 303]
    with db() as s:
        share = s.scalar(select(Share))
        assert share.state == "rejected"
        assert s.get(Engagement, engagement.id).status == "rejected"


def test_a_decision_racing_a_withdrawal_has_one_winner(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    _share(office, engagement, users)
    browser, task = _open(app, _link_for(db, "signer0@korst.example"))
    with db() as s:
        share_id = s.scalar(select(Share.id))
    page = f"/office/engagements/{engagement.id}"
    office.submit(f"{page}/shares/{share_id}/withdraw", page=page)
    late = browser.submit(task + "/decide", {"decision": "approved", "comment": ""},
                          page=task, follow_redirects=True)
    assert "just before you, or it was withdrawn" in late.get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(Share)).state == "withdrawn"
        assert s.scalar(select(Signer)).decision is None


def test_extended_client_approves_in_the_portal_and_keeps_the_report(office, make, world,
                                                                      app, db):
    engagement, users = _engagement(make, world, tiers.COLLABORATE_PLUS)
    _upload(office, engagement)
    _share(office, engagement, users)
    with db() as s:
        mail = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "report_shared"))
        share_id = s.scalar(select(Share.id))
    task = f"/c/{engagement.client_id}/approvals/{share_id}"
    assert f"http://demo.localhost{task}" in mail.text_body and "/l/" not in mail.text_body
    portal = app.test_client()
    portal.login_client(users[0].email)
    assert "Approve" in portal.get(task).get_data(as_text=True)
    portal.submit(task + "/decide", {"decision": "approved", "comment": ""}, page=task)
    with db() as s:
        signer = s.scalar(select(Signer))
        assert (signer.decision, signer.decided_through) == ("approved", "portal")
    assert portal.get(task + "/report.pdf").data == PDF  # stays in the history


def test_approval_record_shows_the_evidence(office, make, world, app, db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    _share(office, engagement, users)
    browser, task = _open(app, _link_for(db, "signer0@korst.example"))
    browser.submit(task + "/decide", {"decision": "approved", "comment": ""}, page=task,
                   environ_base={"REMOTE_ADDR": "203.0.113.5"},
                   headers={"User-Agent": "Telefoonbrowser/1.0"})
    with db() as s:
        share_id = s.scalar(select(Share.id))
        sha = s.scalar(select(ReportVersion.sha256))
    record = office.get(f"/office/engagements/{engagement.id}/shares/{share_id}/record")
    body = record.get_data(as_text=True)
    for fact in (sha, "203.0.113.5", "Telefoonbrowser/1.0", "signer0@korst.example",
                 "I approve"):
        assert fact in body


def test_reminders_bring_each_undecided_signer_a_fresh_link(office, make, world, app, db):
    from portal import db as portal_db
    from portal.notifications import reminders

    engagement, users = _engagement(make, world, contacts=2)
    _upload(office, engagement)
    _share(office, engagement, users, days=2)
    first = _link_for(db, "signer1@korst.example")
    browser, task = _open(app, _link_for(db, "signer0@korst.example"))
    browser.submit(task + "/decide", {"decision": "approved", "comment": ""}, page=task)
    clock.freeze(clock.now() + timedelta(days=4))  # past the "1 day after" morning
    with app.app_context():
        queued = reminders.sweep(portal_db.session,
                                 app.extensions["portal.reminder_composers"],
                                 tiers=app.config["REMINDER_TIERS"])
    assert queued == 1
    fresh = _link_for(db, "signer1@korst.example")
    assert fresh != first
    assert app.test_client().get(first).status_code == 410  # the older link is replaced
    assert app.test_client().get(fresh).status_code == 200


@pytest.mark.parametrize(("deadline", "said"), [
    ("", "An approval needs a deadline."), ("past", "Choose a deadline after today.")])
def test_an_approval_without_a_deadline_to_come_is_refused_at_the_date_field(
        office, make, world, db, deadline, said):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    page = f"/office/engagements/{engagement.id}"
    typed = "" if deadline == "" else (clock.today() - timedelta(days=1)).isoformat()
    response = office.submit(f"{page}/shares", {
        "mode": "approval", "deadline": typed, "signers": [users[0].id],
        "extra_emails": "", "message": "Graag voor vrijdag"}, page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="share_deadline-error">{re.escape(said)}</p>', html)
    assert "Graag voor vrijdag" in html
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Share)) == 0
