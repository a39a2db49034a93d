"""Reports in bulk: PDFs dropped at once, matched to their engagements by the number in the
file name, previewed, then stored as each engagement's next version and shared."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.engagements.models import BulkReportFile, Engagement, ReportVersion, Share
from portal.notifications.models import OutboxMessage
from tests.factories import PDF

YEAR = 2026


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


@pytest.fixture
def office(client, make, practice):  # type: ignore[no-untyped-def]
    client.login_staff(make.staff(practice, "anna@demo.example", role="staff").email)
    return client


@pytest.fixture
def season(make, practice):  # type: ignore[no-untyped-def]
    """Three clients with this year's annual accounts, one of them on Standaard."""
    made = {}
    for number, name, tier in (("1001", "Bakkerij De Korst", tiers.COLLABORATE),
                               ("1002", "Bloemist Roos", tiers.COLLABORATE_PLUS),
                               ("1003", "Garage Snel", tiers.STANDARD)):
        company = make.client(practice, tier, client_number=number, name=name,
                              kvk_number=f"5566{number}")
        make.client_user(practice, company, email=f"info@{number}.example", name=name)
        made[number] = make.engagement(company, kind="annual_accounts", year=YEAR)
    return made


def _pdf(text: str) -> bytes:
    return PDF + f"% {text}\n".encode()


def _drop(office, files: list[tuple[bytes, str]], **fields):  # type: ignore[no-untyped-def]
    data = {"kind": "annual_accounts", "year": str(YEAR), "pattern": r"(\d+)", **fields,
            "reports": [(io.BytesIO(body), name) for body, name in files]}
    return office.submit("/office/reports/bulk", data, page="/office/reports/bulk",
                         content_type="multipart/form-data")


def _stamp(page: str) -> str:
    return re.search(r'name="stamp"[^>]*value="([0-9a-f]+)"', page).group(1)


def _count(page: str, label: str) -> int:
    return int(re.search(rf"<dt>{re.escape(label)}</dt><dd>(\d+)</dd>", page).group(1))


def test_files_are_matched_by_the_number_in_their_name(office, make, practice, season, db):
    make.report(season["1002"], data=_pdf("roos"))  # has this exact file already
    dropped = _drop(office, [
        (_pdf("korst"), "1001 Jaarrekening 2026.pdf"),
        (_pdf("roos"), "Jaarrekening_1002.pdf"),
        (_pdf("snel"), "55661003 Garage Snel.pdf"),  # by KvK number
        (_pdf("onbekend"), "9999 Onbekend.pdf"),
        (_pdf("geen"), "Jaarrekening.pdf"),
        (b"GIF89a not a pdf", "1001 bijlage.pdf"),
    ])
    assert dropped.status_code == 303
    page = office.get(dropped.headers["Location"]).get_data(as_text=True)
    assert (_count(page, "Matched"), _count(page, "Already has this exact file"),
            _count(page, "Not matched"), _count(page, "Not a PDF")) == (2, 1, 2, 1)
    assert "No client has number 9999." in page and "No number in the file name." in page
    assert "The engagement has this exact file already." in page
    assert "not shared: this client's tier has no digital sharing" in page  # Garage Snel
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ReportVersion)) == 1  # not yet


def test_confirming_stores_and_shares_each_for_approval(office, season, db):
    dropped = _drop(office, [(_pdf("korst"), "1001.pdf"), (_pdf("roos"), "1002.pdf"),
                             (_pdf("snel"), "1003.pdf"), (_pdf("x"), "9999.pdf")])
    preview_url = dropped.headers["Location"]
    page = office.get(preview_url).get_data(as_text=True)
    deadline = (clock.today() + timedelta(days=14)).isoformat()
    done = office.submit(preview_url, {"stamp": _stamp(page), "share": "approval",
                                       "deadline": deadline, "message": "Graag tekenen."},
                         page=preview_url)
    assert done.status_code == 303
    with db() as s:
        versions = {e: n for e, n in s.execute(select(ReportVersion.engagement_id,
                                                      ReportVersion.number))}
        shares = s.scalars(select(Share)).all()
        mails = sorted(s.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.kind == "report_shared")))
        statuses = {e.id: e.status for e in s.scalars(select(Engagement))}
        staged = s.scalar(select(func.count()).select_from(BulkReportFile))
        uploads = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "report.uploaded"))
    assert versions == {season[n].id: 1 for n in ("1001", "1002", "1003")}
    assert sorted(s.engagement_id for s in shares) == sorted(
        [season["1001"].id, season["1002"].id])
    assert mails == ["info@1001.example", "info@1002.example"]
    assert statuses[season["1001"].id] == "awaiting_approval"
    assert statuses[season["1003"].id] == "in_preparation"  # Standaard: stored only
    assert staged == 0 and uploads == 3
    summary = office.get(preview_url).get_data(as_text=True)
    assert _count(summary, "Shared") == 2 and _count(summary, "Stored, not shared") == 1
    assert "9999.pdf: No client has number 9999." in summary


def test_an_approval_needs_a_deadline_and_what_was_typed_stays(office, season, db):
    dropped = _drop(office, [(_pdf("korst"), "1001.pdf")])
    url = dropped.headers["Location"]
    page = office.get(url).get_data(as_text=True)
    refused = office.submit(url, {"stamp": _stamp(page), "share": "approval",
                                  "message": "Graag tekenen."}, page=url)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "An approval needs a deadline." in body
    assert "Graag tekenen." in body
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ReportVersion)) == 0


def test_a_list_that_changed_meanwhile_stores_nothing(office, make, season, db):
    dropped = _drop(office, [(_pdf("korst"), "1001.pdf"), (_pdf("roos"), "1002.pdf")])
    url = dropped.headers["Location"]
    page = office.get(url).get_data(as_text=True)
    make.report(season["1002"], data=_pdf("roos"))  # uploaded by hand meanwhile
    response = office.submit(url, {"stamp": _stamp(page), "share": "none"}, page=url)
    assert response.status_code == 409
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ReportVersion)) == 1


def test_two_files_for_one_engagement_are_both_left_out(office, season):
    dropped = _drop(office, [(_pdf("a"), "1001 versie a.pdf"), (_pdf("b"), "1001 versie b.pdf")])
    page = office.get(dropped.headers["Location"]).get_data(as_text=True)
    assert _count(page, "Ambiguous") == 2 and "Another file is for the same engagement." in page


@pytest.mark.parametrize(("fields", "files", "says"), [
    ({}, [], "Choose one or more PDF files."),
    ({"pattern": "(\\d+"}, [(PDF, "1001.pdf")], "This pattern is not a regular expression"),
    ({"year": "20x6"}, [(PDF, "1001.pdf")], "Not a valid integer value."),
])
def test_bad_input_gets_a_message_by_its_field(office, season, db, fields, files, says):
    response = _drop(office, files, **fields)
    assert response.status_code == 422 and says in response.get_data(as_text=True)
    with db() as s:
        assert s.scalar(select(func.count()).select_from(BulkReportFile)) == 0


def test_another_practices_batch_is_not_found(office, make, app, season):
    other = make.practice("other")
    theirs = app.test_client().on("other.localhost")
    theirs.login_staff(make.staff(other, "olga@other.example").email)
    dropped = _drop(theirs, [(_pdf("x"), "1001.pdf")])
    assert office.get(dropped.headers["Location"]).status_code == 404


def test_many_reports_are_stored_by_the_worker_with_progress_on_the_page(app, office, make,
                                                                        practice, db):
    from portal.engagements import bulk_reports
    from portal.notifications.worker import Worker

    count = bulk_reports.INLINE_LIMIT + 5
    for n in range(count):
        company = make.client(practice, tiers.COLLABORATE, client_number=str(2000 + n))
        make.client_user(practice, company, email=f"info{n}@klant.example")
        make.engagement(company, kind="annual_accounts", year=YEAR)
    dropped = _drop(office, [(_pdf(str(n)), f"{2000 + n}.pdf") for n in range(count)])
    url = dropped.headers["Location"]
    page = office.get(url).get_data(as_text=True)
    done = office.submit(url, {"stamp": _stamp(page), "share": "view"}, page=url)
    assert done.status_code == 303
    waiting = office.get(url).get_data(as_text=True)
    assert "Waiting for the worker to start" in waiting and "reload it" in waiting
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ReportVersion)) == 0

    Worker(app).run_pass()
    fragment = office.get(url, headers={"HX-Request": "true", "HX-Target": "div#bulk_progress"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="bulk_progress">')
    assert f"Done: {count} reports stored, {count} shared." in body
    summary = office.get(url).get_data(as_text=True)
    assert _count(summary, "Stored as the next report version") == count
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Share)) == count
        assert s.scalar(select(func.count()).select_from(BulkReportFile)) == 0
