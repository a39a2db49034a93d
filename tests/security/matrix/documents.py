import io
from datetime import timedelta

from tests.factories import PDF
from tests.security.matrix import Route, client_only, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    """A document the company sent, one to delete, one deleted, and an open request."""
    from portal import db
    from portal.clock import now
    from portal.db import transaction
    from portal.documents.models import Document, DocumentRequest

    company, member = world["company"], world["users"]["client"][1]
    with make.app.app_context():
        store = make.app.extensions["portal.storage"]
        rows = []
        for name, deleted in (("kept.pdf", None), ("doomed.pdf", None),
                              ("deleted.pdf", now())):
            stored = store.put(io.BytesIO(PDF))
            rows.append(Document(
                practice_id=company.practice_id, client_id=company.id, year=2025,
                direction="from_client", name=name, storage_key=stored.key,
                size=stored.size, sha256=stored.sha256, mime="application/pdf",
                batch="b" * 32, uploaded_by_client_user_id=member.id,
                uploaded_by_label=member.email, deleted_at=deleted))
        request = DocumentRequest(practice_id=company.practice_id, client_id=company.id,
                                  title="Bank statements 2025",
                                  deadline=now() + timedelta(days=10))
        session = db.session
        with transaction(session):
            session.add_all([*rows, request])
        world["document"], world["doomed"], world["deleted_document"] = (r.id for r in rows)
        world["document_request"] = request.id


def _portal(w):  # type: ignore[no-untyped-def]
    return f"/c/{w['company'].id}/documents"


def _office(w):  # type: ignore[no-untyped-def]
    return f"/office/clients/{w['company'].id}/documents"


ROUTES = [
    Route("documents.portal_index", "GET", _portal, client_only()),
    Route("documents.portal_upload", "POST", _portal, client_only()),
    Route("documents.portal_download", "GET",
          lambda w: f"{_portal(w)}/{w['document']}/download", client_only()),
    Route("documents.office_index", "GET", _office, staff_only()),
    Route("documents.office_upload", "POST", _office, staff_only()),
    Route("documents.office_request", "POST", lambda w: f"{_office(w)}/requests",
          staff_only()),
    Route("documents.office_cancel_request", "POST",
          lambda w: f"{_office(w)}/requests/{w['document_request']}/cancel", staff_only()),
    Route("documents.office_document", "GET", lambda w: f"{_office(w)}/{w['document']}",
          staff_only()),
    Route("documents.office_update", "POST", lambda w: f"{_office(w)}/{w['document']}",
          staff_only()),
    Route("documents.office_download", "GET",
          lambda w: f"{_office(w)}/{w['document']}/download", staff_only()),
    Route("documents.office_delete", "POST", lambda w: f"{_office(w)}/{w['doomed']}/delete",
          staff_only()),
    Route("documents.office_restore", "POST",
          lambda w: f"{_office(w)}/{w['deleted_document']}/restore", staff_only()),
]
