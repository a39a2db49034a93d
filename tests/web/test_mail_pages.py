"""Admins see their practice's mail problems and can send a mail again; in development a
page shows every mail with working links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage
from portal.notifications.worker import Worker
from tests.factories import Factory


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    demo, other = make.practice("demo"), make.practice("other")
    return {
        "admin": make.staff(demo, "anna@demo.example", role="admin"),
        "failed": make.outbox(demo, state="failed", attempts=6, recipient="gone@client.example",
                              last_error="SMTPRecipientsRefused: 550 no such mailbox"),
        "sent": make.outbox(demo, state="sent", recipient="fine@client.example"),
        "theirs": make.outbox(other, state="failed", recipient="other@client.example"),
    }


def test_admin_sees_failed_and_waiting_mail_of_the_practice_only(client, world):
    client.login_staff(world["admin"].email)
    page = client.get("/office/mail").get_data(as_text=True)
    assert "gone@client.example" in page and "550 no such mailbox" in page
    assert "fine@client.example" not in page  # sent is not a problem
    assert "other@client.example" not in page  # another practice's


def test_send_again_puts_the_mail_back_in_line_and_is_audited(client, world, db):
    client.login_staff(world["admin"].email)
    response = client.submit(f"/office/mail/{world['failed'].id}/send-again", page="/office/mail")
    assert response.status_code == 303
    assert "goes out with the next pass" in client.get("/office/mail").get_data(as_text=True)
    with db() as s:
        message = s.get(OutboxMessage, world["failed"].id)
        assert (message.state, message.attempts, message.last_error) == ("queued", 0, None)
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "mail.send_again"))
        assert event.subject_id == message.id and event.actor_label == "anna@demo.example"


def test_send_again_with_htmx_swaps_the_table(client, world):
    client.login_staff(world["admin"].email)
    response = client.submit(f"/office/mail/{world['failed'].id}/send-again",
                             page="/office/mail", follow_redirects=True,
                             headers={"HX-Request": "true", "HX-Target": "div#mail_table"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="mail_table">')
    assert 'hx-swap-oob="true"' in body and "goes out with the next pass" in body


def test_another_practices_mail_cannot_be_sent_again(client, world):
    client.login_staff(world["admin"].email)
    response = client.submit(f"/office/mail/{world['theirs'].id}/send-again",
                             page="/office/mail")
    assert response.status_code == 404


def test_development_page_lists_the_practices_mails_with_working_links(app_with):
    app = app_with(DEBUG=True, MAIL_BACKEND="file", PUBLIC_PORT=5000)
    make = Factory(app)
    demo, other = make.practice("demo"), make.practice("other")
    make.outbox(demo, subject="Uw jaarrekening staat klaar",
                text_body="Open http://demo.localhost:5000/login om te beginnen.")
    make.outbox(other, subject="Voor een ander kantoor")
    Worker(app).run_pass()
    client = app.test_client()
    page = client.get("/dev/mail").get_data(as_text=True)
    assert "Uw jaarrekening staat klaar" in page and "Voor een ander kantoor" not in page
    assert '<a href="http://demo.localhost:5000/login"' in page
    name = page.split('/dev/mail/')[1].split('"')[0]
    html = client.get(f"/dev/mail/{name}")
    assert html.status_code == 200 and "default-src 'none'" in html.headers[
        "Content-Security-Policy"]
