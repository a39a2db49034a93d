"""Approval evidence: every director and supervisory director signs (BW 2:210; a missing
signature is stated with its reason), the worker seals the PDF (PAdES, timestamped by a
server on loopback), any validator accepts it, and /verify tells who approved what."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from datetime import timedelta

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from portal import clock
from portal.accounts.models import Membership
from portal.audit import anchors
from portal.cli import cli
from portal.clients import tiers
from portal.demo_work import report_pdf
from portal.engagements import sealing
from portal.engagements.models import Engagement, SealCertificate, SealedReport, Share, Signer
from portal.notifications.worker import Worker
from tests.web.test_approvals import _link_for, _open, _share, _upload

REPORT = report_pdf("Jaarrekening 2025 - Bakkerij De Korst", ["Balans per 31 december 2025"])


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    return {"practice": practice,
            "anna": make.staff(practice, "anna@demo.example", role="admin", name="Anna")}


@pytest.fixture
def office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def _approved_by_two(office, make, world, app, db):  # type: ignore[no-untyped-def]
    """Annual accounts shared with two directors by link; both approve."""
    company = make.client(world["practice"], tiers.COLLABORATE, name="Bakkerij De Korst",
                          kvk_number="12345678")
    users = [make.client_user(world["practice"], company, email=f"director{n}@korst.example",
                              name=f"Director {n}", role="owner" if n == 0 else "member")
             for n in range(2)]
    engagement = make.engagement(company, responsible_id=world["anna"].id)
    _upload(office, engagement, data=REPORT)
    assert _share(office, engagement, users).status_code == 303
    for person in users:
        browser, task = _open(app, _link_for(db, person.email))
        done = browser.submit(task + "/decide", {"decision": "approved", "comment": ""},
                              page=task)
        assert done.status_code == 303
    return engagement


def _sealed(app, db):  # type: ignore[no-untyped-def]
    Worker(app).run_pass()
    with db() as s:
        row = s.scalar(select(SealedReport))
        data = None
        if row.storage_key:
            with app.app_context(), app.extensions["portal.storage"].open(
                    row.storage_key) as handle:
                data = handle.read()
        return row, data


def _root(db):  # type: ignore[no-untyped-def]
    with db() as s:
        return sealing._chain(s.scalar(select(SealCertificate)))


def _check(data: bytes, roots):  # type: ignore[no-untyped-def]
    """pyHanko's validator on the file's seal (run as the portal runs it: Playwright's
    event loop may be running in this thread already)."""
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[-1]
    return anchors.run(async_validate_pdf_signature(
        signature, ValidationContext(trust_roots=roots, allow_fetching=False)))


def _verify(app, data: bytes, host: str = "demo.localhost") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    browser = app.test_client().on(host)
    answer = browser.submit("/verify", {"document": (io.BytesIO(data), "jaarrekening.pdf")},
                            page="/verify", content_type="multipart/form-data")
    return answer.status_code, answer.get_data(as_text=True)


def test_two_directors_approve_and_the_sealed_pdf_holds_up_anywhere(
        office, make, world, app, db, tsa):
    _approved_by_two(office, make, world, app, db)
    row, data = _sealed(app, db)
    assert row.state == "sealed" and row.last_error is None
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert data.startswith(REPORT)  # the approved bytes, and so its pages, unchanged
    assert row.stamped_at is not None  # the server's time

    status = _check(data, _root(db))
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    assert not _check(data, []).trusted  # trusted because of the practice's root only

    reader = PdfFileReader(io.BytesIO(data))
    assert int(reader.root["/Pages"]["/Count"]) >= 2
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert names[0] == sealing.EVIDENCE_NAME
    facts = json.loads(names[1]["/EF"]["/F"].data)
    assert facts["approved_file_sha256"] == hashlib.sha256(REPORT).hexdigest()
    assert [(p["email"], p["decision"], p["signed_in"]) for p in facts["signers"]] == [
        ("director0@korst.example", "approved", "link"),
        ("director1@korst.example", "approved", "link")]
    assert all(p["ip"] and p["decided_at"] for p in facts["signers"])


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils (pdfsig) is not "
                    "installed; .ci/run installs it")
def test_poppler_accepts_the_seal_and_sees_a_changed_byte(office, make, world, app, db, tsa,
                                                          tmp_path):
    _approved_by_two(office, make, world, app, db)
    _row, data = _sealed(app, db)
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(data)
    told = subprocess.run(["pdfsig", str(sealed)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in told and "Total document signed" in told

    changed = bytearray(data)
    changed[len(REPORT) // 2] ^= 0x01  # one byte of the approved report
    sealed.write_bytes(bytes(changed))
    told = subprocess.run(["pdfsig", str(sealed)], capture_output=True, text=True).stdout
    assert "Signature is Valid." not in told


def test_the_verify_page_tells_intact_changed_and_unknown_files_apart(
        office, make, world, app, db, tsa):
    engagement = _approved_by_two(office, make, world, app, db)
    _row, data = _sealed(app, db)

    status, page = _verify(app, data)
    assert status == 200
    assert "sealed by Bakker &amp; Visser and is unchanged since" in page
    assert "Director 0" in page and "Director 1" in page
    assert "No later version of this report exists." in page

    changed = bytearray(data)
    changed[len(REPORT) // 2] ^= 0x01
    status, page = _verify(app, bytes(changed))
    assert "is not the file that was sealed" in page and "Director 0" not in page

    # A later save that adds a page keeps the seal over what it covered, and is told.
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.insert_page(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Page"),
        pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(n)
                                                    for n in (0, 0, 595, 842)])}))
    saved = io.BytesIO()
    writer.write(saved)
    status, page = _verify(app, saved.getvalue())
    assert "saved again after sealing" in page and "Director 0" in page

    status, page = _verify(app, REPORT)  # the approved file itself was never sealed
    assert "did not seal this file" in page and "Director" not in page
    status, page = _verify(app, b"not a pdf at all")
    assert status == 200 and "did not seal this file" in page

    # A new version after the approval: the record says a later one exists.
    _upload(office, engagement, data=report_pdf("Jaarrekening 2025 (herzien)", ["Balans"]))
    _status, page = _verify(app, data)
    assert "A later version of this report exists: version 2" in page


def test_another_practice_sees_nothing_of_the_seal(office, make, world, app, db, tsa):
    _approved_by_two(office, make, world, app, db)
    row, data = _sealed(app, db)
    make.practice("other", name="Ander Kantoor")
    _status, page = _verify(app, data, host="other.localhost")
    assert "did not seal this file" in page and "Director" not in page
    browser = app.test_client().on("other.localhost")
    assert browser.get(f"/verify/{row.verify_token}").status_code == 404


def test_the_qr_code_opens_the_record_and_a_guess_finds_nothing(office, make, world, app,
                                                                 db, tsa):
    _approved_by_two(office, make, world, app, db)
    _row, data = _sealed(app, db)
    facts = json.loads(PdfFileReader(io.BytesIO(data)).root["/Names"]["/EmbeddedFiles"][
        "/Names"][1]["/EF"]["/F"].data)
    record = app.test_client().get(f"/verify/{facts['verify']}")
    assert record.status_code == 200
    assert "Director 1" in record.get_data(as_text=True)
    guess = app.test_client().get("/verify/" + "A" * 24)
    assert guess.status_code == 404 and "Director" not in guess.get_data(as_text=True)


def test_a_failing_timestamp_server_makes_the_seal_wait_not_use_our_clock(
        office, make, world, app, db, tsa, frozen_clock):
    _approved_by_two(office, make, world, app, db)
    tsa.failing = True
    row, data = _sealed(app, db)
    assert row.state == "pending" and data is None
    assert "timestamp server" in row.last_error and row.attempts == 1
    tsa.failing = False
    row, data = _sealed(app, db)
    assert row.state == "pending" and row.attempts == 1  # its wait is not over
    frozen_clock.advance(minutes=6)
    row, data = _sealed(app, db)
    assert row.state == "sealed" and row.attempts == 2 and data is not None


def test_a_file_that_is_no_readable_pdf_is_not_sealed_and_says_why(office, make, world, app,
                                                                  db, tsa):
    company = make.client(world["practice"], tiers.COLLABORATE, name="Bakkerij De Korst")
    user = make.client_user(world["practice"], company, email="director0@korst.example",
                            role="owner")
    engagement = make.engagement(company, responsible_id=world["anna"].id)
    _upload(office, engagement)  # the suite's smallest "PDF": no page tree to add to
    _share(office, engagement, [user])
    browser, task = _open(app, _link_for(db, user.email))
    browser.submit(task + "/decide", {"decision": "approved", "comment": ""}, page=task)
    row, data = _sealed(app, db)
    assert row.state == "failed" and data is None
    assert "not a readable PDF" in row.last_error


def test_the_command_line_verifies_a_file(office, make, world, app, db, tsa, tmp_path):
    _approved_by_two(office, make, world, app, db)
    _row, data = _sealed(app, db)
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(data)
    told = app.test_cli_runner().invoke(cli, ["verify", str(sealed)])
    assert told.exit_code == 0, told.output
    assert "unchanged" in told.output and "director0@korst.example" in told.output
    sealed.write_bytes(data[:-40] + b"%" * 40)
    told = app.test_cli_runner().invoke(cli, ["verify", str(sealed)])
    assert told.exit_code == 1
    with db() as s:
        assert s.scalar(select(Signer.decision).limit(1)) == "approved"
    assert re.search(r"not", told.output)


def test_the_sealed_pdf_is_what_client_and_staff_download_and_the_export_carries(
        office, make, world, app, db, tsa):
    company = make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    user = make.client_user(world["practice"], company, email="director0@korst.example",
                            name="Director 0", role="owner")
    engagement = make.engagement(company, responsible_id=world["anna"].id)
    _upload(office, engagement, data=REPORT)
    _share(office, engagement, [user])
    with db() as s:
        share_id = s.scalar(select(Signer.share_id))
    task = f"/c/{company.id}/approvals/{share_id}"
    portal = app.test_client()
    portal.login_client(user.email)
    portal.submit(task + "/decide", {"decision": "approved", "comment": ""}, page=task)
    assert portal.get(task + "/report.pdf").data == REPORT  # not sealed yet: the approved file
    row, data = _sealed(app, db)
    facts = json.loads(PdfFileReader(io.BytesIO(data)).root["/Names"]["/EmbeddedFiles"][
        "/Names"][1]["/EF"]["/F"].data)
    assert facts["signers"][0]["signed_in"] == "password"

    kept = portal.get(task + "/report.pdf?download=1")
    assert kept.data == data and "(sealed).pdf" in kept.headers["Content-Disposition"]
    page = office.get(f"/office/engagements/{engagement.id}").get_data(as_text=True)
    assert "Sealed PDF" in page and row.sha256 in page
    staff = office.get(f"/office/engagements/{engagement.id}/shares/{share_id}/sealed.pdf")
    assert staff.data == data

    from portal import db as portal_db
    from portal.collaboration import exports
    from portal.collaboration.models import ClientExport

    office.submit(f"/office/clients/{company.id}/export",
                  page=f"/office/clients/{company.id}/collaboration")
    with app.app_context():
        exports.build_queued(portal_db.session, app.extensions["portal.storage"])
    with db() as s:
        export_id = s.scalar(select(ClientExport.id))
    archive = zipfile.ZipFile(io.BytesIO(office.get(f"/office/exports/{export_id}/download").data))
    manifest = {e["path"]: e["sha256"] for e in json.loads(archive.read("manifest.json"))["files"]}
    reports = {path: digest for path, digest in manifest.items() if path.startswith("reports/")}
    assert sorted(reports.values()) == sorted([hashlib.sha256(REPORT).hexdigest(), row.sha256])
    sealed_path = next(p for p in reports if "-sealed-" in p)
    assert archive.read(sealed_path) == data


def _pkcs12(password: bytes, *, valid_days: int = 365) -> bytes:
    """An organisation certificate under a CA of its own, with its key, as a .p12 file."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    def name(common):  # type: ignore[no-untyped-def]
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    start = datetime.now(UTC) - timedelta(days=1)
    ca_key, key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    ca = (x509.CertificateBuilder().subject_name(name("Kantoor CA")).issuer_name(
        name("Kantoor CA")).public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(start).not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256()))
    mine = (x509.CertificateBuilder().subject_name(name("Bakker & Visser seal")).issuer_name(
        ca.subject).public_key(key.public_key()).serial_number(2)
        .not_valid_before(start - timedelta(days=10))
        .not_valid_after(start + timedelta(days=valid_days))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                     False), critical=True)
        .sign(ca_key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(
        b"seal", key, mine, [ca],
        serialization.BestAvailableEncryption(password))


def _upload_certificate(office, data: bytes, password: str):  # type: ignore[no-untyped-def]
    return office.submit("/office/settings/seal", {
        "certificate": (io.BytesIO(data), "seal.p12"), "password": password},
        page="/office/settings/seal", content_type="multipart/form-data")


def test_the_practice_seals_with_its_own_certificate_once_uploaded(office, make, world, app,
                                                                    db, tsa):
    page = office.get("/office/settings/seal").get_data(as_text=True)
    assert "No seal certificate yet" in page

    wrong = _upload_certificate(office, _pkcs12(b"geheim"), "fout")
    assert wrong.status_code == 422 and "password does not open it" in wrong.get_data(
        as_text=True)
    not_one = _upload_certificate(office, REPORT, "")
    assert "not a PKCS#12 file" in not_one.get_data(as_text=True)
    expired = _upload_certificate(office, _pkcs12(b"geheim", valid_days=-1), "geheim")
    assert "not valid now" in expired.get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(SealCertificate)) is None  # nothing half-stored

    assert _upload_certificate(office, _pkcs12(b"geheim"), "geheim").status_code == 303
    page = office.get("/office/settings/seal").get_data(as_text=True)
    assert "Bakker &amp; Visser seal" in page and "uploaded by your practice" in page
    with db() as s:
        uploaded = s.scalar(select(SealCertificate))
        assert "geheim" not in uploaded.private_key and uploaded.source == "uploaded"
    chain = office.get("/office/settings/seal/chain.pem")
    assert b"BEGIN CERTIFICATE" in chain.data

    _approved_by_two(office, make, world, app, db)
    _row, data = _sealed(app, db)
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[-1]
    assert hashlib.sha256(signature.signer_cert.dump()).hexdigest() == uploaded.fingerprint
    status = _check(data, _root(db))
    assert status.intact and status.valid and status.trusted
    _status, page = _verify(app, data)
    assert "unchanged since" in page


# --- who signs (BW 2:210) ---------------------------------------------------------------------

def _deadline() -> str:
    return (clock.today() + timedelta(days=10)).isoformat()


def _company(make, world):  # type: ignore[no-untyped-def]
    company = make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    people = {}
    for n, key in enumerate(["jan", "els", "piet", "kees"]):
        people[key] = make.client_user(world["practice"], company, email=f"{key}@korst.example",
                                       name=key.title(), role="owner" if n == 0 else "member")
    return company, people


def _memberships(db):  # type: ignore[no-untyped-def]
    with db() as s:
        return {m.client_user_id: m.id for m in s.scalars(select(Membership))}


def test_staff_set_positions_and_sharing_annual_accounts_proposes_every_signer(
        office, make, world, app, db):
    company, people = _company(make, world)
    card, memberships = f"/office/clients/{company.id}", _memberships(db)
    for key, position in [("jan", "director"), ("els", "director"), ("piet", "supervisor")]:
        answer = office.submit(f"{card}/contacts/{memberships[people[key].id]}/position",
                               {"position": position}, page=card)
        assert answer.status_code == 303
    page = office.get(card).get_data(as_text=True)
    assert page.count('value="director" selected') == 2
    assert 'value="supervisor" selected' in page

    engagement = make.engagement(company, responsible_id=world["anna"].id)
    _upload(office, engagement, data=REPORT)
    page = office.get(f"/office/engagements/{engagement.id}").get_data(as_text=True)
    ticked = set(re.findall(r'name="signers" type="checkbox" value="(\d+)" checked', page) +
                 re.findall(r'checked[^>]*name="signers"[^>]*value="(\d+)"', page))
    assert ticked == {str(people[k].id) for k in ("jan", "els", "piet")}
    assert "Supervisory director (commissaris)" in page

    other = make.engagement(company, kind="tax_return")  # not signed by the board
    _upload(office, other, data=REPORT)
    page = office.get(f"/office/engagements/{other.id}").get_data(as_text=True)
    ticked = set(re.findall(r'name="signers" type="checkbox" value="(\d+)" checked', page) +
                 re.findall(r'checked[^>]*name="signers"[^>]*value="(\d+)"', page))
    assert ticked == {str(people["jan"].id)}


def test_a_missing_signature_is_stated_with_its_reason_and_completes_the_approval(
        office, make, world, app, db, tsa):
    company, people = _company(make, world)
    with db() as s:
        for m in s.scalars(select(Membership)):
            m.position = {people["jan"].id: "director", people["els"].id: "director",
                          people["piet"].id: "supervisor"}.get(m.client_user_id)
        s.commit()
    engagement = make.engagement(company, responsible_id=world["anna"].id)
    page = f"/office/engagements/{engagement.id}"
    _upload(office, engagement, data=REPORT)
    office.submit(f"{page}/shares", {
        "mode": "approval", "deadline": _deadline(),
        "signers": [people[k].id for k in ("jan", "els", "piet")], "extra_emails": "",
        "message": ""}, page=page)
    with db() as s:
        share = s.scalar(select(Share))
        signers = {x.email: x for x in s.scalars(select(Signer))}
    assert signers["piet@korst.example"].position == "supervisor"

    for key in ("jan", "els"):
        portal = app.test_client()
        portal.login_client(people[key].email)
        task = f"/c/{company.id}/approvals/{share.id}"
        portal.submit(task + "/decide", {"decision": "approved", "comment": ""}, page=task)
    with db() as s:
        assert s.get(Share, share.id).state == "open"  # the supervisory director too

    missing = f"{page}/shares/{share.id}/signers/{signers['piet@korst.example'].id}/missing"
    office.submit(missing, {"reason": "  "}, page=page)
    with db() as s:
        assert s.get(Signer, signers["piet@korst.example"].id).decision is None
    office.submit(missing, {"reason": "Afgetreden per 1 maart 2026."}, page=page)
    with db() as s:
        piet = s.get(Signer, signers["piet@korst.example"].id)
        assert (piet.decision, piet.comment, piet.decided_by) == (
            "missing", "Afgetreden per 1 maart 2026.", "anna@demo.example")
        assert s.get(Share, share.id).state == "approved"
        assert s.get(Engagement, engagement.id).status == "approved"

    record = office.get(f"{page}/shares/{share.id}/record").get_data(as_text=True)
    assert "signature missing" in record and "Afgetreden per 1 maart 2026." in record

    # The general meeting adopts the accounts afterwards: not before the approval, nor later
    # than today.
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    refused = office.submit(f"{page}/adoption", {"adopted_on": tomorrow}, page=page)
    assert refused.status_code == 422 and "between the approval" in refused.get_data(
        as_text=True)
    before = (clock.today() - timedelta(days=1)).isoformat()
    assert office.submit(f"{page}/adoption", {"adopted_on": before},
                         page=page).status_code == 422
    assert office.submit(f"{page}/adoption", {"adopted_on": clock.today().isoformat()},
                         page=page).status_code == 303
    with db() as s:
        adopted = s.get(Engagement, engagement.id)
        assert (adopted.adopted_on, adopted.adopted_recorded_by) == (
            clock.today(), "anna@demo.example")
    record = office.get(f"{page}/shares/{share.id}/record").get_data(as_text=True)
    assert "Adoption by the general meeting" in record

    _row, data = _sealed(app, db)
    facts = json.loads(PdfFileReader(io.BytesIO(data)).root["/Names"]["/EmbeddedFiles"][
        "/Names"][1]["/EF"]["/F"].data)
    assert [(p["email"], p["position"], p["decision"]) for p in facts["signers"]] == [
        ("jan@korst.example", "director", "approved"),
        ("els@korst.example", "director", "approved"),
        ("piet@korst.example", "supervisor", "missing")]
    assert facts["signers"][2]["comment"] == "Afgetreden per 1 maart 2026."
    _status, verified = _verify(app, data)
    assert "signature missing" in verified and "Afgetreden per 1 maart 2026." in verified


def test_a_signature_cannot_be_recorded_missing_for_someone_who_decided(
        office, make, world, app, db):
    company, people = _company(make, world)
    engagement = make.engagement(company, responsible_id=world["anna"].id)
    page = f"/office/engagements/{engagement.id}"
    _upload(office, engagement, data=REPORT)
    office.submit(f"{page}/shares", {
        "mode": "approval", "deadline": _deadline(), "signers": [people["kees"].id],
        "extra_emails": "extern@korst.example", "message": ""}, page=page)
    browser, task = _open(app, _link_for(db, "extern@korst.example"))
    browser.submit(task + "/decide", {"decision": "rejected", "comment": "Nee"}, page=task)
    with db() as s:
        share = s.scalar(select(Share))
        extern = s.scalar(select(Signer).where(Signer.email == "extern@korst.example"))
    answer = office.submit(f"{page}/shares/{share.id}/signers/{extern.id}/missing",
                           {"reason": "weg"}, page=page)
    assert answer.status_code == 303
    with db() as s:
        assert s.get(Signer, extern.id).decision == "rejected"
