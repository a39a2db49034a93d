"""The same engagement for many clients, and reports in bulk (the other engagement pages
are in clients.py)."""

from portal.engagements.models import BulkEngagementBatch, BulkReportBatch
from tests.security.matrix import Route, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    world["report_batch"] = make._save(BulkReportBatch(
        practice_id=world["demo"].id, kind="annual_accounts", year=2025, pattern=r"(\d+)"))
    world["engagement_batch"] = make._save(BulkEngagementBatch(
        practice_id=world["demo"].id, kind="annual_accounts", year=2025, state="done",
        plan=[], result={"total": 0, "done": 0, "created": 0, "skipped": 1,
                         "left_out": [["1001", "Matrix B.V.", "exists"]]}))

WORK = {"kind": "annual_accounts", "year": "2025", "deadline_rule": "none",
        "responsible_id": "0"}

ROUTES = [
    Route("engagements.bulk_select", "POST", "/office/engagements/bulk/selection",
          staff_only(), lambda w: {"client_id": w["company"].id}),
    Route("engagements.bulk_new", "GET", "/office/engagements/bulk?all_matching=1",
          staff_only()),
    Route("engagements.bulk_preview", "POST", "/office/engagements/bulk", staff_only(),
          lambda w: {"client_id": w["company"].id, **WORK}),
    # Without the preview's stamp: refused (409), nothing is created.
    Route("engagements.bulk_apply", "POST", "/office/engagements/bulk/apply", staff_only(),
          lambda w: {"client_id": w["company"].id, **WORK}),
    Route("engagements.bulk_batch", "GET",
          lambda w: f"/office/engagements/bulk/{w['engagement_batch'].id}", staff_only()),
    Route("engagements.bulk_left_out", "GET",
          lambda w: f"/office/engagements/bulk/{w['engagement_batch'].id}/left-out.csv",
          staff_only()),
    Route("engagements.bulk_reports", "GET", "/office/reports/bulk", staff_only()),
    Route("engagements.bulk_reports", "POST", "/office/reports/bulk", staff_only(),
          {"year": ""}),
    Route("engagements.bulk_reports_preview", "GET",
          lambda w: f"/office/reports/bulk/{w['report_batch'].id}", staff_only()),
    # Nothing matched in an empty batch: refused with a message (422), nothing stored.
    Route("engagements.bulk_reports_apply", "POST",
          lambda w: f"/office/reports/bulk/{w['report_batch'].id}", staff_only(),
          {"stamp": "0", "share": "none"}),
]
