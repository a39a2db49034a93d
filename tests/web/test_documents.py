"""Document exchange through the pages clients and staff use: uploads both ways, refusals,
requests, downloads, deleting and purging, and what a broken upload leaves behind."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.documents.models import Document, DocumentRequest, DocumentShareRecipient
from portal.notifications import reminders
from portal.notifications.models import ClientTask, OutboxMessage
from portal.notifications.worker import Worker
from tests.factories import PDF, Factory

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02" + b"\0" * 64
CSV = "datum;omschrijving;bedrag\n2025-01-02;Huur januari;-1250,00\n".encode("cp1252")
MB = 1024 * 1024


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


XLSX = _zip("[Content_Types].xml", "xl/workbook.xml")


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    bert = make.staff(practice, "bert@demo.example", role="staff", name="Bert")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    sanne = make.client_user(practice, company, email="sanne@korst.example", name="Sanne")
    piet = make.client_user(practice, company, email="piet@korst.example", name="Piet",
                            role="member")
    engagement = make.engagement(company, year=2025, responsible_id=bert.id)
    return {"practice": practice, "anna": anna, "bert": bert, "company": company,
            "sanne": sanne, "piet": piet, "engagement": engagement}


@pytest.fixture
def portal(client, world):  # type: ignore[no-untyped-def]
    client.login_client(world["sanne"].email)
    return client


@pytest.fixture
def office(app, world):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    browser.login_staff(world["anna"].email)
    return browser


def _page(world) -> str:  # type: ignore[no-untyped-def]
    return f"/c/{world['company'].id}/documents"


def _office_page(world) -> str:  # type: ignore[no-untyped-def]
    return f"/office/clients/{world['company'].id}/documents"


def _upload(portal, world, *files, **fields):  # type: ignore[no-untyped-def]
    """The client's upload form, as a browser posts it: several files under one name."""
    data = {"engagement_id": "0", "request_id": "0", "note": "",
            **{k: str(v) for k, v in fields.items()},
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return portal.submit(_page(world), data, page=_page(world),
                         content_type="multipart/form-data")


def _share(office, world, *files, audience="all", recipients=(), **fields):  # type: ignore[no-untyped-def]
    data = {"engagement_id": "0", "year": "2025", "audience": audience,
            "recipients": [str(r) for r in recipients], "message": "",
            **{k: str(v) for k, v in fields.items()},
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return office.submit(_office_page(world), data, page=_office_page(world),
                         content_type="multipart/form-data")


def _stored_files(app) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(app.config["STORAGE_URL"].removeprefix("file://"))
    return [p for p in root.rglob("*") if p.is_file()]


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db() as s:
        return s.scalar(select(func.count()).select_from(model))


def _documents(db) -> list[Document]:  # type: ignore[no-untyped-def]
    with db() as s:
        return list(s.scalars(select(Document).order_by(Document.id)))


# --- the client sends documents -------------------------------------------------------------

def test_client_sends_several_files_with_a_note_into_the_engagement_folder(portal, world, db):
    response = _upload(portal, world, ("Jaarrekening concept.pdf", PDF), ("bon.png", PNG),
                       ("Bank 2025.csv", CSV), engagement_id=world["engagement"].id,
                       note="Alles van januari")
    assert response.status_code == 303
    page = portal.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 files received." in page
    assert "Annual accounts 2025" in page and "Bank 2025.csv" in page
    assert "Alles van januari" in page
    documents = _documents(db)
    assert [d.name for d in documents] == ["Jaarrekening concept.pdf", "bon.png", "Bank 2025.csv"]
    assert {d.mime for d in documents} == {"application/pdf", "image/png", "text/csv"}
    assert len({d.batch for d in documents}) == 1
    assert all(d.year == 2025 and d.engagement_id == world["engagement"].id and
               d.direction == "from_client" and d.uploaded_by_label == "sanne@korst.example"
               for d in documents)
    assert documents[0].sha256 == hashlib.sha256(PDF).hexdigest()


def test_one_summary_mail_per_batch_goes_to_the_responsible_person(mail_app, smtp):  # type: ignore[no-untyped-def]
    make = Factory(mail_app)
    practice = make.practice("demo")
    make.staff(practice, "anna@demo.example", role="admin")
    bert = make.staff(practice, "bert@demo.example", name="Bert")
    company = make.client(practice, name="Bakkerij De Korst")
    sanne = make.client_user(practice, company, email="sanne@korst.example")
    engagement = make.engagement(company, responsible_id=bert.id)
    portal = mail_app.test_client()
    portal.login_client(sanne.email)
    world = {"company": company}
    _upload(portal, world, ("a.pdf", PDF), ("b.png", PNG), ("c.csv", CSV),
            engagement_id=engagement.id, note="Graag bevestigen")
    _upload(portal, world, ("d.pdf", PDF))  # no engagement: the admins hear of it
    Worker(mail_app).run_pass()
    to_bert = smtp.to("bert@demo.example")
    assert len(to_bert) == 1
    text = to_bert[0].get_body(("plain",)).get_content()
    assert "sent 3 documents" in text and "a.pdf" in text and "c.csv" in text
    assert "Graag bevestigen" in text and "/office/clients/" in text
    to_anna = smtp.to("anna@demo.example")
    assert len(to_anna) == 1 and "d.pdf" in to_anna[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize(("name", "content", "says"), [
    ("leeg.pdf", b"", "“leeg.pdf” is empty."),
    ("setup.exe", b"MZ\x90\x00" + b"\0" * 100, "“setup.exe”: files of type .exe are not accepted"),
    ("scan", PDF, "“scan” has no extension"),
    ("foto.png", PDF, "“foto.png” is not a .png file inside"),
    ("rapport.pdf", PNG, "“rapport.pdf” is not a .pdf file inside"),
    ("begroting.docx", XLSX, "“begroting.docx” is not a .docx file inside"),
    ("export.csv", b"\x00\x01binary\xff\xfe", "“export.csv” is not a text file"),
    ("notes.txt", b"abc\x81\x8d\x90 \xc3", "“notes.txt” is not a text file"),
    ("oud.doc", b"not an OLE file at all" * 20, "“oud.doc” is not a .doc file inside"),
    ("archief.zip", b"Rar!\x1a\x07\x00" + b"\0" * 50, "“archief.zip” is not a .zip file inside"),
])
def test_every_refusal_names_the_file_says_why_and_leaves_nothing(portal, world, db, app,
                                                                   name, content, says):
    response = _upload(portal, world, (name, content))
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert _count(db, Document) == 0 and _stored_files(app) == []


def test_a_too_large_file_is_refused_by_name(app_with):  # type: ignore[no-untyped-def]
    app = app_with(UPLOAD_MAX_MB=1)
    make = Factory(app)
    practice = make.practice("demo")
    company = make.client(practice)
    sanne = make.client_user(practice, company)
    portal = app.test_client()
    portal.login_client(sanne.email)
    response = _upload(portal, {"company": company}, ("groot.pdf", PDF + b"0" * MB),
                       ("klein.pdf", PDF))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“groot.pdf” is larger than 1 MB." in page and "1 file received." in page
    assert [p.stat().st_size for p in _stored_files(app)] == [len(PDF)]


def test_a_request_over_the_limit_gets_a_clear_413_and_nothing_is_stored(app_with):  # type: ignore[no-untyped-def]
    app = app_with(MAX_CONTENT_LENGTH=1 * MB)
    make = Factory(app)
    practice = make.practice("demo")
    company = make.client(practice)
    sanne = make.client_user(practice, company)
    portal = app.test_client()
    portal.login_client(sanne.email)
    response = _upload(portal, {"company": company}, ("groot.pdf", PDF + b"0" * (2 * MB)))
    assert response.status_code == 413
    assert "larger than the 1 MB this portal accepts at once" in response.get_data(as_text=True)
    assert _stored_files(app) == []


def test_good_files_of_a_batch_stay_when_one_is_refused(portal, world, db):
    response = _upload(portal, world, ("goed.pdf", PDF), ("fout.exe", b"MZ"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1 file received." in page and "“fout.exe”" in page
    assert [d.name for d in _documents(db)] == ["goed.pdf"]


def test_names_lose_paths_and_control_characters_and_long_ones_keep_the_extension(
        portal, world, db):
    long_name = "Bankafschrift " + "x" * 300 + ".pdf"
    _upload(portal, world, ("..\\..\\etc/evil\x07\u202egpj.pdf", PDF), (long_name, PDF))
    names = [d.name for d in _documents(db)]
    assert names[0] == "evil gpj.pdf"
    assert names[1].endswith("….pdf") and len(names[1]) == 150


def test_the_portal_needs_the_documents_tier(client, make, world):
    company = make.client(world["practice"], tiers.COLLABORATE_PLUS)
    standard = make.client(world["practice"], tiers.COLLABORATE)
    user = make.client_user(world["practice"], company, standard)
    client.login_client(user.email)
    assert client.get(f"/c/{company.id}/documents").status_code == 200
    assert client.get(f"/c/{standard.id}/documents").status_code == 404
    assert "Documents" in client.get(f"/c/{company.id}/").get_data(as_text=True)


# --- requests -------------------------------------------------------------------------------

def test_a_request_is_an_open_action_until_an_upload_fulfils_it(office, portal, world, db):
    deadline = (clock.today() + timedelta(days=10)).isoformat()
    response = office.submit(f"{_office_page(world)}/requests", {
        "title": "Bankafschriften 2025", "deadline": deadline, "engagement_id": "0",
        "message": "Alle rekeningen graag"}, page=_office_page(world))
    assert response.status_code == 303
    with db() as s:
        request = s.scalar(select(DocumentRequest))
        task = s.scalar(select(ClientTask))
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "document_request"))
        assert {m.recipient for m in mails} == {"sanne@korst.example", "piet@korst.example"}
    assert (task.kind, task.subject_id, task.state) == ("document_request", request.id, "open")
    home = portal.get(f"/c/{world['company'].id}/").get_data(as_text=True)
    action = f"/c/{world['company'].id}/documents?request={request.id}"
    assert "Send documents: Bankafschriften 2025" in home and action in home
    page = portal.get(action).get_data(as_text=True)
    assert "Bankafschriften 2025" in page and f'selected value="{request.id}"' in page

    assert _upload(portal, world, ("ING 2025.pdf", PDF),
                   request_id=request.id).status_code == 303
    with db() as s:
        assert s.get(DocumentRequest, request.id).state == "fulfilled"
        assert s.get(ClientTask, task.id).state == "done"
        assert s.scalar(select(Document)).request_id == request.id
        actions = [e.action for e in s.scalars(select(AuditEvent))]
    assert "document_request.fulfilled" in actions
    assert "Bankafschriften" not in portal.get(f"/c/{world['company'].id}/").get_data(
        as_text=True)
    office_page = office.get(_office_page(world)).get_data(as_text=True)
    assert "received" in office_page and "ING 2025.pdf" in office_page


def test_staff_cancel_a_request_and_it_leaves_the_open_actions(office, portal, world, db):
    deadline = (clock.today() + timedelta(days=10)).isoformat()
    office.submit(f"{_office_page(world)}/requests", {"title": "Loonstroken", "deadline": deadline,
                                                      "engagement_id": "0"},
                  page=_office_page(world))
    with db() as s:
        request = s.scalar(select(DocumentRequest))
    response = office.submit(f"{_office_page(world)}/requests/{request.id}/cancel",
                             page=_office_page(world))
    assert response.status_code == 303
    with db() as s:
        assert s.get(DocumentRequest, request.id).state == "cancelled"
        assert s.scalar(select(ClientTask.state)) == "cancelled"
    assert "Loonstroken" not in portal.get(f"/c/{world['company'].id}/").get_data(as_text=True)


def test_a_request_needs_a_deadline_after_today(office, world, db):
    response = office.submit(f"{_office_page(world)}/requests", {
        "title": "Loonstroken", "deadline": clock.today().isoformat(),
        "engagement_id": "0"}, page=_office_page(world))
    assert response.status_code == 422
    assert "Choose a deadline after today." in response.get_data(as_text=True)
    assert _count(db, DocumentRequest) == 0


def test_reminders_of_a_request_reach_every_contact_person(office, world, app, db):
    deadline = (clock.today() + timedelta(days=10)).isoformat()
    office.submit(f"{_office_page(world)}/requests", {"title": "Loonstroken", "deadline": deadline,
                                                      "engagement_id": "0"},
                  page=_office_page(world))
    clock.freeze(clock.now() + timedelta(days=8, hours=1))
    with app.app_context():
        from portal import db as portal_db

        queued = reminders.sweep(portal_db.session,
                                 app.extensions["portal.reminder_composers"],
                                 tiers=app.config["REMINDER_TIERS"])
    assert queued == 2
    with db() as s:
        mails = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")))
    assert {m.recipient for m in mails} == {"sanne@korst.example", "piet@korst.example"}
    assert "Reminder: Loonstroken" in mails[0].subject
    assert "/documents?request=" in mails[0].text_body


# --- the practice shares documents ------------------------------------------------------------

def test_staff_share_with_chosen_contact_persons_only_they_see_and_get_mail(
        office, world, app, db):
    response = _share(office, world, ("Aangifte 2025.pdf", PDF), audience="chosen",
                      recipients=[world["piet"].id], message="Ter info",
                      engagement_id=world["engagement"].id)
    assert response.status_code == 303
    with db() as s:
        recipients = [r.email for r in s.scalars(select(DocumentShareRecipient))]
        mails = list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "documents_shared")))
        document = s.scalar(select(Document))
    assert recipients == ["piet@korst.example"]
    assert [m.recipient for m in mails] == ["piet@korst.example"]
    assert "Aangifte 2025.pdf" in mails[0].text_body and "Ter info" in mails[0].text_body
    assert document.direction == "from_practice"

    piet, sanne = app.test_client(), app.test_client()
    piet.login_client("piet@korst.example")
    sanne.login_client("sanne@korst.example")
    url = f"{_page(world)}/{document.id}/download"
    assert piet.get(url).data == PDF
    assert sanne.get(url).status_code == 404
    history = f"/c/{world['company'].id}/history"
    assert "Aangifte 2025.pdf" in piet.get(history).get_data(as_text=True)
    assert "Aangifte 2025.pdf" not in sanne.get(history).get_data(as_text=True)


def test_sharing_with_all_reaches_everyone_once_also_a_later_contact(office, world, make,
                                                                     app, db):
    _share(office, world, ("Jaarrekening.pdf", PDF), ("Toelichting.pdf", PDF))
    with db() as s:
        mails = list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "documents_shared")))
        documents = list(s.scalars(select(Document)))
    assert sorted(m.recipient for m in mails) == ["piet@korst.example", "sanne@korst.example"]
    assert "2 documents" in mails[0].subject
    later = make.client_user(world["practice"], world["company"], email="nieuw@korst.example")
    browser = app.test_client()
    browser.login_client(later.email)
    assert browser.get(f"{_page(world)}/{documents[0].id}/download").status_code == 200


def test_choosing_nobody_is_refused(office, world, db):
    response = _share(office, world, ("a.pdf", PDF), audience="chosen")
    assert response.status_code == 422
    assert "Choose at least one contact person." in response.get_data(as_text=True)
    assert _count(db, Document) == 0


def test_a_client_without_the_documents_tier_gets_nothing_new(office, make, world, app, db):
    company = make.client(world["practice"], tiers.COLLABORATE, name="Standaard B.V.")
    page = office.get(f"/office/clients/{company.id}/documents").get_data(as_text=True)
    assert "does not include exchanging documents" in page
    response = _share(office, {"company": company}, ("a.pdf", PDF))
    assert response.status_code == 422 and _count(db, Document) == 0
    assert _stored_files(app) == []


def test_a_blocked_client_keeps_its_documents_but_gets_nothing_new(office, make, world, db):
    company = make.client(world["practice"], tiers.COLLABORATE_PLUS, status="blocked")
    page = office.get(f"/office/clients/{company.id}/documents").get_data(as_text=True)
    assert "nothing new can be shared or asked for" in page
    response = _share(office, {"company": company}, ("a.pdf", PDF))
    assert response.status_code == 422 and _count(db, Document) == 0


# --- downloads --------------------------------------------------------------------------------

def test_unicode_names_come_back_in_content_disposition(portal, world, db):
    name = "Jaarrekening \u2013 café ÷ 2025 €.pdf"  # en dash, accents, symbols
    _upload(portal, world, (name, PDF))
    document = _documents(db)[0]
    response = portal.get(f"{_page(world)}/{document.id}/download")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    assert 'filename="Jaarrekening' in disposition  # an ASCII fallback for old clients
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf" and response.data == PDF


def test_range_and_conditional_downloads(portal, world, db):
    _upload(portal, world, ("a.pdf", PDF))
    url = f"{_page(world)}/{_documents(db)[0].id}/download"
    ranged = portal.get(url, headers={"Range": "bytes=0-4"})
    assert ranged.status_code == 206 and ranged.data == b"%PDF-"
    assert ranged.headers["Content-Range"] == f"bytes 0-4/{len(PDF)}"
    etag = portal.get(url).headers["ETag"]
    assert portal.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_other_clients_other_practices_and_deleted_documents_answer_404(
        office, portal, make, world, app, db):
    neighbour = make.client(world["practice"], name="Buurman B.V.")
    other_user = make.client_user(world["practice"], neighbour)
    _upload(portal, world, ("a.pdf", PDF))
    document = _documents(db)[0]
    own = f"{_page(world)}/{document.id}/download"
    other = app.test_client()
    other.login_client(other_user.email)
    assert other.get(own).status_code == 404
    assert other.get(f"/c/{neighbour.id}/documents/{document.id}/download").status_code == 404
    elsewhere = make.practice("other")
    stranger = make.staff(elsewhere, role="admin")
    foreign = app.test_client().on("other.localhost")
    foreign.login_staff(stranger.email)
    assert foreign.get(f"/office/clients/{world['company'].id}/documents/{document.id}"
                       "/download").status_code == 404
    office_url = f"{_office_page(world)}/{document.id}/download"
    assert office.get(office_url).data == PDF
    office.submit(f"{_office_page(world)}/{document.id}/delete",
                  page=f"{_office_page(world)}/{document.id}")
    assert portal.get(own).status_code == 404
    assert office.get(office_url).status_code == 404


# --- staff keep the folders -------------------------------------------------------------------

def test_rename_keeps_the_extension_and_move_is_audited(office, portal, world, make, db):
    _upload(portal, world, ("scan01.pdf", PDF))
    document = _documents(db)[0]
    newer = make.engagement(world["company"], year=2026, kind="tax_return")
    page = f"{_office_page(world)}/{document.id}"
    response = office.submit(page, {"name": "Bankafschrift januari", "engagement_id": newer.id,
                                     "year": "2025"}, page=page)
    assert response.status_code == 303
    with db() as s:
        moved = s.get(Document, document.id)
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert (moved.name, moved.engagement_id, moved.year) == ("Bankafschrift januari.pdf",
                                                             newer.id, 2026)
    assert actions[-2:] == ["document.renamed", "document.moved"]
    listing = portal.get(f"{_page(world)}?year=2026").get_data(as_text=True)
    assert "Tax return 2026" in listing and "Bankafschrift januari.pdf" in listing


def test_deleted_documents_are_restorable_for_30_days_then_purged_with_their_file(
        office, portal, world, app, db):
    _upload(portal, world, ("weg.pdf", PDF), ("blijft.pdf", PDF))
    gone, kept = _documents(db)
    detail = f"{_office_page(world)}/{gone.id}"
    office.submit(f"{detail}/delete", page=detail)
    assert "weg.pdf" not in portal.get(_page(world)).get_data(as_text=True)
    assert "Deleted" in office.get(_office_page(world)).get_data(as_text=True)
    office.submit(f"{detail}/restore", page=detail)
    assert "weg.pdf" in portal.get(_page(world)).get_data(as_text=True)
    office.submit(f"{detail}/delete", page=detail)

    Worker(app).run_pass()
    assert len(_stored_files(app)) == 2  # within 30 days the file stays
    clock.freeze(clock.now() + timedelta(days=31))
    result = Worker(app).run_pass()
    assert result.swept["documents"] == 1
    assert [d.name for d in _documents(db)] == ["blijft.pdf"]
    assert [p.name for p in _stored_files(app)] == [kept.storage_key]
    with db() as s:
        purged = s.scalar(select(AuditEvent).where(AuditEvent.action == "document.purged"))
    assert purged.actor_type == "system" and purged.data["name"] == "weg.pdf"
    office.login_staff(world["anna"].email)  # a month on, the old session has ended
    assert office.get(detail).status_code == 404


def test_the_storage_sweep_keeps_every_referenced_file_reports_too(app, make, world, db):
    make.report(world["engagement"])
    store = app.extensions["portal.storage"]
    with app.app_context():
        orphan = store.put(io.BytesIO(b"nobody points here"))
    assert len(_stored_files(app)) == 2
    runner = app.test_cli_runner()
    from portal.cli import storage_gc

    result = runner.invoke(storage_gc, ["--grace-hours", "0"])
    assert result.exit_code == 0, result.output
    assert "1 unreferenced file(s) removed" in result.output
    assert len(_stored_files(app)) == 1 and not store.exists(orphan.key)


# --- big and broken uploads -----------------------------------------------------------------

class MultipartBody(io.RawIOBase):
    """A multipart/form-data body produced as it is read, so a large file never sits in
    memory; `fail_after` bytes simulates a client that goes away mid-upload."""

    BOUNDARY = "----portal-test-boundary"

    def __init__(self, fields: dict[str, str], filename: str, head: bytes, size: int,
                 fail_after: int | None = None) -> None:
        self.parts = []
        for name, value in fields.items():
            self.parts.append(f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; '
                              f'name="{name}"\r\n\r\n{value}\r\n'.encode())
        self.parts.append(f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; '
                          f'name="files"; filename="{filename}"\r\n'
                          'Content-Type: application/pdf\r\n\r\n'.encode())
        self.tail = f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self.head, self.size, self.fail_after = head, size, fail_after
        self.length = sum(map(len, self.parts)) + size + len(self.tail)
        self.chunks = self._chunks()
        self.sent = 0
        self.pending = b""

    def _chunks(self):  # type: ignore[no-untyped-def]
        yield from self.parts
        yield self.head
        block = b"0" * (256 * 1024)
        left = self.size - len(self.head)
        while left > 0:
            yield block[:left]
            left -= len(block)
        yield self.tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise OSError("client went away")
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        self.sent += count
        return count

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.BOUNDARY}"


def _post_body(portal, world, body, length=None):  # type: ignore[no-untyped-def]
    """POST a streamed body as a server hands it over (the test client would read it all to
    learn its length)."""
    return portal.post(_page(world), environ_overrides={
        "wsgi.input": body, "CONTENT_LENGTH": str(length or body.length),
        "CONTENT_TYPE": body.content_type})


def test_a_50_mb_round_trip_keeps_memory_flat(app_with):  # type: ignore[no-untyped-def]
    app = app_with(UPLOAD_MAX_MB=64, MAX_CONTENT_LENGTH=64 * MB)
    make = Factory(app)
    practice = make.practice("demo")
    company = make.client(practice)
    sanne = make.client_user(practice, company)
    portal = app.test_client()
    portal.login_client(sanne.email)
    world = {"company": company}
    size = 50 * MB
    body = MultipartBody({"csrf_token": portal.csrf_token(_page(world)), "engagement_id": "0",
                          "request_id": "0"}, "groot.pdf", PDF, size)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        response = _post_body(portal, world, body)
        upload_peak = tracemalloc.get_traced_memory()[1] - baseline
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        with app.app_context():
            from portal import db as portal_db

            document = portal_db.session.scalar(select(Document))
        tracemalloc.reset_peak()
        download = portal.get(f"{_page(world)}/{document.id}/download", buffered=False)
        digest, received = hashlib.sha256(), 0
        for chunk in download.response:
            digest.update(chunk)
            received += len(chunk)
        download.close()
        download_peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    expected = hashlib.sha256(PDF + b"0" * (size - len(PDF))).hexdigest()
    assert (received, digest.hexdigest()) == (size, expected) == (document.size,
                                                                 document.sha256)
    assert upload_peak < 5 * MB, f"upload peak {upload_peak / MB:.1f} MB"
    assert download_peak < 5 * MB, f"download peak {download_peak / MB:.1f} MB"


@pytest.mark.parametrize("how", ["raises", "truncated"])
def test_a_disconnect_mid_upload_leaves_no_row_and_after_the_sweep_no_file(portal, world, app,
                                                                           db, how):
    fields = {"csrf_token": portal.csrf_token(_page(world)), "engagement_id": "0",
              "request_id": "0"}
    if how == "raises":  # the connection breaks: reading the socket fails
        body = MultipartBody(fields, "a.pdf", PDF, 3 * MB, fail_after=2 * MB)
        response = _post_body(portal, world, body)
    else:  # the body ends before its Content-Length
        body = MultipartBody(fields, "a.pdf", PDF, 3 * MB)
        response = _post_body(portal, world, body, length=body.length + MB)
    assert response.status_code == 400  # werkzeug: the client disconnected
    assert body.sent > 2 * MB
    assert _count(db, Document) == 0
    with app.app_context():
        from portal import db as portal_db
        from portal.documents import service

        service.collect_garbage(portal_db.session, app.extensions["portal.storage"],
                                timedelta(0))
    assert _stored_files(app) == []


def test_a_disconnect_while_storing_leaves_nothing(app, world, db):
    """The stream breaks while storage reads it: the temporary file goes, no row is made."""
    from portal import db as portal_db
    from portal.audit import Actor
    from portal.documents import service
    from portal.tenancy.models import Practice

    class Breaking(io.RawIOBase):
        def __init__(self) -> None:
            self.sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            if self.sent > MB:
                raise OSError("client went away")
            data = (PDF + b"0" * len(buffer))[: len(buffer)] if not self.sent else \
                b"0" * len(buffer)
            buffer[: len(data)] = data
            self.sent += len(data)
            return len(data)

    with app.test_request_context(), pytest.raises(OSError):
        practice = portal_db.session.get(Practice, world["practice"].id)
        company = portal_db.session.get(type(world["company"]), world["company"].id)
        service.upload_from_client(
            portal_db.session, Actor(practice.id, "client", world["sanne"].id, "s@x"),
            app.extensions["portal.storage"], practice, company,
            [service.Incoming(io.BufferedReader(Breaking()), "a.pdf"),
             service.Incoming(io.BytesIO(PDF), "b.pdf")], max_bytes=10 * MB)
    assert _count(db, Document) == 0 and _stored_files(app) == []


# --- fixed numbers of queries -----------------------------------------------------------------

def test_documents_pages_card_and_history_run_a_fixed_number_of_queries(
        office, portal, world, make, count_queries):
    def queries(browser, path: str) -> int:
        response, count = count_queries(lambda: browser.get(path))
        assert response.status_code == 200
        return count

    pages = [(portal, _page(world)), (portal, f"/c/{world['company'].id}/history"),
             (office, _office_page(world)), (office, f"/office/clients/{world['company'].id}")]
    _upload(portal, world, ("a.pdf", PDF), engagement_id=world["engagement"].id)
    _share(office, world, ("b.pdf", PDF))
    small = [queries(b, p) for b, p in pages]
    for n in range(6):
        engagement = make.engagement(world["company"], year=2025, kind="other", title=f"W{n}")
        _upload(portal, world, (f"c{n}.pdf", PDF), engagement_id=engagement.id)
        _share(office, world, (f"d{n}.pdf", PDF), engagement_id=engagement.id)
    assert [queries(b, p) for b, p in pages] == small
