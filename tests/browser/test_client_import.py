"""Importing clients in Chromium, JavaScript on and off: a file with a refused row goes from
upload through the columns and the preview to the clients overview."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import db as portal_db
from portal.clients.models import Client
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

EXPORT = (
    "Relatienummer;Naam;KvK-nummer;E-mail;Cliënttype\r\n"
    "1001;Bakkerij De Korst;55667788;sanne@korst.example;Samenwerken\r\n"
    "1002;Garage Snel;1234;;Standaard\r\n"
    "1003;Bloemist Roos;11223344;roos@bloemist.example;Samenwerken Uitgebreid\r\n"
).encode("cp1252")


def test_an_office_manager_imports_the_valid_rows_of_an_exact_export(
        app, live, page, accessible, tmp_path):
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="admin")
    export = tmp_path / "Relaties.csv"
    export.write_bytes(EXPORT)

    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/office/clients"))
    page.get_by_role("link", name="Import clients").click()
    page.get_by_label("File with clients (CSV or XLSX)").set_input_files(str(export))
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    expect(page.get_by_label("KvK-nummer")).to_have_value("kvk_number")
    accessible(page)
    page.get_by_role("button", name="Check every row").click()

    expect(page.get_by_text("KvK number “1234” does not have 8 digits.")).to_be_visible()
    accessible(page)
    page.get_by_label("Import the valid rows and leave the refused ones out").check()
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="Import done")).to_be_visible()
    expect(page.get_by_text("Imported: 2 new clients, 0 updated, 2 contact persons added."))\
        .to_be_visible()
    with app.app_context():
        numbers = sorted(portal_db.session.scalars(select(Client.client_number)))
    assert numbers == ["1001", "1003"]
    page.get_by_role("link", name="To the clients").click()
    expect(page.get_by_role("link", name="Bloemist Roos")).to_be_visible()


def test_a_large_import_is_followed_on_the_workers_progress_page(app, live, page, accessible,
                                                                 tmp_path):
    from portal.clients import imports
    from portal.notifications.worker import Worker

    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="admin", name="Anna de Vries")
    count = imports.INLINE_LIMIT + 30
    lines = ["Relatienummer;Naam;KvK-nummer;Verantwoordelijke"]
    lines += [f"{2000 + n};Klant {n};{70000000 + n};Anna de Vries" for n in range(count)]
    lines.append("9999;Fout B.V.;12;anna@demo.example")
    export = tmp_path / "Relaties.csv"
    export.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")

    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/office/clients/import"))
    page.get_by_label("File with clients (CSV or XLSX)").set_input_files(str(export))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Verantwoordelijke")).to_have_value("responsible_id")
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_text("imported in the background")).to_be_visible()
    page.get_by_label("Import the valid rows and leave the refused ones out").check()
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="Importing")).to_be_visible()
    expect(page.get_by_text("Waiting for the worker to start…")).to_be_visible()
    expect(page.get_by_text("reload it to see how far it is")).to_be_visible()
    accessible(page)
    Worker(app).run_pass()
    if page.javascript:  # the page asks every two seconds, and says when it is done
        expect(page.get_by_text(f"Done: {count} new clients, 0 updated.")).to_be_visible()
        page.get_by_role("link", name="Show the summary").click()
    else:
        page.reload()
    expect(page.get_by_role("heading", name="Import done")).to_be_visible()
    expect(page.get_by_role("link", name="Download the refused rows with their reasons (CSV)"))\
        .to_be_visible()
    accessible(page)
    with app.app_context():
        stored = portal_db.session.scalars(select(Client.responsible_id)).all()
    assert len(stored) == count and len(set(stored)) == 1 and stored[0] is not None
