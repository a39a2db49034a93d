"""`portal bench-seed`: the reference data set `make bench` measures. It loads the sizes the
README promises, its rows read back like rows the app wrote itself (SQLite gets a faster
insert path that writes the values by hand), and its two logins work."""

from __future__ import annotations

from datetime import timedelta

from markupsafe import escape
from sqlalchemy import func, select

from bench.seed import ADMIN_EMAIL, BIG, BIG_SLUG, CLIENT_EMAIL, FULL_FOLDER, PASSWORD, seed
from portal import clock
from portal.accounts.models import ClientUser, StaffUser
from portal.clients import tiers
from portal.clients.models import Client
from portal.documents.models import Document, DocumentShare
from portal.engagements.models import Engagement
from tests.conftest import BASE_DOMAIN


def test_the_reference_data_set_loads_its_sizes_and_its_logins_work(app, db, client):
    with db() as session:
        report = seed(session, practices=2, seed_value=7)
        big = report.big_practice_id

        def count(model):  # type: ignore[no-untyped-def]
            return session.scalar(select(func.count()).select_from(model)
                                  .where(model.practice_id == big))

        assert count(Client) == BIG.clients
        assert count(Engagement) == BIG.engagements
        assert count(StaffUser) == BIG.staff
        assert count(ClientUser) == BIG.client_users
        assert count(Document) == BIG.documents
        assert count(DocumentShare) > 0  # what the practice sent went through a share

        # Written through sqlite3 directly on SQLite: the ORM must read the same values.
        newest = session.scalars(select(Document).where(Document.practice_id == big)
                                 .order_by(Document.created_at.desc()).limit(1)).one()
        assert newest.created_at.tzinfo is not None
        assert clock.now() - timedelta(days=4 * 365) < newest.created_at <= clock.now()
        assert newest.name.rpartition(".")[2] in {"pdf", "csv", "zip", "xlsx", "xls", "ods",
                                                   "jpg", "jpeg", "heic", "png", "docx",
                                                   "odt", "txt", "pptx"}
        deleted = session.scalar(select(func.count()).select_from(Document).where(
            Document.practice_id == big, Document.deleted_at.is_not(None)))
        assert 0 < deleted < BIG.documents // 10
        companies = report.logins["client"]["companies"]
        portal = [c for c in companies if tiers.has(c["tier"], "portal")]
        assert len(portal) >= 2  # the chooser is what this login is for
        for company in portal:  # a full folder to page through
            assert session.scalar(select(func.count()).select_from(Document).where(
                Document.client_id == company["id"])) >= FULL_FOLDER
        file = session.scalar(select(Document).where(Document.client_id == portal[0]["id"])
                              .order_by(Document.id).limit(1))
        owner = session.get(Client, file.client_id)
        number, name, download = owner.client_number, owner.name, (
            f"/office/clients/{file.client_id}/documents/{file.id}/download")
        session.rollback()

    client.on(f"{BIG_SLUG}.{BASE_DOMAIN}")
    assert client.login_staff(ADMIN_EMAIL, PASSWORD).status_code == 302
    found = client.get("/office/clients", query_string={"q": number})
    assert str(escape(name)) in found.get_data(as_text=True)
    # No files are written: a bench document's download is a plain "not found".
    missing = client.get(download)
    assert missing.status_code == 404
    client.post("/logout", data={"csrf_token": client.csrf_token("/office/")})

    assert client.login_client(CLIENT_EMAIL, PASSWORD).status_code == 302
    chooser = client.get("/").get_data(as_text=True)
    for company in companies:
        shown = str(escape(company["name"])) in chooser
        assert shown == (company in portal)
