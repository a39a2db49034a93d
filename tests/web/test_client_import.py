"""Importing clients and contact persons from another package's export: upload, columns
matched, every row previewed, applied exactly as previewed; bad files get a clear message."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal import db as portal_db
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.audit.models import AuditEvent
from portal.clients import imports, tiers
from portal.clients.models import Client, ClientImport
from portal.notifications.models import OutboxMessage

# As Exact Online writes its "Relaties" export: semicolons, Windows-1252, Dutch headers.
EXACT = (
    "Code;Naam;KvK-nummer;Btw-nummer;Contactpersoon;E-mail;Cliënttype\r\n"
    "1001;Bakkerij De Gouden Korst B.V.;55667788;NL004495445B01;Sanne de Vries;"
    "sanne@korst.example;Samenwerken\r\n"
    "1002;Café 't Hoekje;12345678;;Piet Jansen;piet@hoekje.example;Samenwerken Uitgebreid\r\n"
    "1003;Garage Snel;1234;;;;Standaard\r\n"
).encode("cp1252")


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


@pytest.fixture
def office(client, make, practice):  # type: ignore[no-untyped-def]
    client.login_staff(make.staff(practice, "anna@demo.example", role="admin").email)
    return client


def _upload(office, data: bytes, name: str = "relaties.csv"):  # type: ignore[no-untyped-def]
    return office.submit("/office/clients/import", {"file": (io.BytesIO(data), name)},
                         page="/office/clients/import", content_type="multipart/form-data")


def _mapping_page(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def _columns(page: str) -> dict[str, str]:
    """The mapping as the page proposes it: select name -> chosen field."""
    chosen = {}
    for name, body in re.findall(r'<select[^>]*name="(col_\d+)">(.*?)</select>', page, re.S):
        picked = re.search(r'<option value="([^"]*)" selected>', body)
        chosen[name] = picked.group(1) if picked else ""
    return chosen


def _map(office, mapping_url: str, **options):  # type: ignore[no-untyped-def]
    page = office.get(mapping_url).get_data(as_text=True)
    form = _columns(page) | {k: "y" for k, v in options.items() if v}
    return office.submit(mapping_url, form, page=mapping_url)


def _stamp(page: str) -> str:
    return re.search(r'name="stamp"[^>]*value="([0-9a-f]+)"', page).group(1)


def _preview(office, data: bytes, name: str = "relaties.csv", **options):  # type: ignore[no-untyped-def]
    mapping_url = _mapping_page(_upload(office, data, name))
    mapped = _map(office, mapping_url, **options)
    assert mapped.status_code == 303, mapped.get_data(as_text=True)[:2000]
    preview_url = mapped.headers["Location"]
    return preview_url, office.get(preview_url).get_data(as_text=True)


def _apply(office, preview_url: str, page: str, mode: str = "all"):  # type: ignore[no-untyped-def]
    apply_url = preview_url.replace("/preview", "/apply")
    return office.submit(apply_url, {"stamp": _stamp(page), "mode": mode}, page=preview_url)


def _clients(db) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    with db() as s:
        return {c.client_number: c for c in s.scalars(select(Client))}


def test_columns_of_an_exact_export_are_recognised(office):
    page = office.get(_mapping_page(_upload(office, EXACT))).get_data(as_text=True)
    assert _columns(page) == {"col_0": "client_number", "col_1": "name", "col_2": "kvk_number",
                              "col_3": "vat_number", "col_4": "contact_name",
                              "col_5": "contact_email", "col_6": "tier"}
    assert "Bakkerij De Gouden Korst B.V." in page  # examples of each column
    assert "Café &#39;t Hoekje" in page  # Windows-1252 read as such


def test_preview_then_apply_with_the_valid_rows_only(office, db):
    preview_url, page = _preview(office, EXACT)
    assert "KvK number “1234” does not have 8 digits." in page
    assert re.search(r"<dt>New clients</dt><dd>2</dd>", page)
    assert re.search(r"<dt>Refused</dt><dd>1</dd>", page)
    # 1.10 + 1.65: two new clients a month
    assert "+€2.75" in page
    assert _clients(db) == {}  # nothing yet

    refused = _apply(office, preview_url, page, mode="all")
    assert refused.status_code == 422 and "Nothing was imported: 1 rows are refused" in \
        refused.get_data(as_text=True)
    assert _clients(db) == {}

    done = _apply(office, preview_url, page, mode="valid")
    assert done.status_code == 303
    clients = _clients(db)
    assert sorted(clients) == ["1001", "1002"]
    korst = clients["1001"]
    assert (korst.kvk_number, korst.vat_number, korst.tier, korst.contact_email) == (
        "55667788", "NL004495445B01", tiers.COLLABORATE, "sanne@korst.example")
    with db() as s:
        users = {u.email: u for u in s.scalars(select(ClientUser))}
        roles = s.execute(select(Membership.client_id, Membership.role)).all()
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "client.imported")).all()
        stored = s.scalar(select(ClientImport))
    assert sorted(users) == ["piet@hoekje.example", "sanne@korst.example"]
    assert sorted(r for _c, r in roles) == ["owner", "owner"]
    assert len(events) == 2 and stored.data == b""  # the file is not kept once applied
    summary = office.get(done.headers["Location"]).get_data(as_text=True)
    assert "Import done" in summary and re.search(r"<dt>Refused, not imported</dt><dd>1</dd>",
                                                  summary)
    refused_csv = office.get(f"{preview_url.rsplit('/', 1)[0]}/refused.csv").get_data(
        as_text=True)
    rows = list(csv.reader(io.StringIO(refused_csv.lstrip("\ufeff")), delimiter=";"))
    assert rows[1][:3] == ["4", "1003", "Garage Snel"] and "8 digits" in rows[1][3]


def test_the_same_file_again_changes_nothing_and_an_empty_cell_erases_nothing(office, db):
    good = EXACT.replace(b";1234;", b";;")
    preview_url, page = _preview(office, good)
    _apply(office, preview_url, page)
    before = {n: (c.name, c.kvk_number, c.vat_number, c.tier) for n, c in _clients(db).items()}
    _url, again = _preview(office, good)
    assert re.search(r"<dt>Unchanged</dt><dd>3</dd>", again)
    assert "Nothing to import" in again
    # An export without the KvK and VAT numbers keeps the stored ones...
    blanked = good.replace(b"55667788;NL004495445B01", b";")
    url, kept = _preview(office, blanked)
    assert re.search(r"<dt>Unchanged</dt><dd>3</dd>", kept)
    # ...unless the import is told that empty cells erase.
    url, erasing = _preview(office, blanked, erase_empty=True)
    assert re.search(r"<dt>Updated</dt><dd>1</dd>", erasing) and "(erased)" in erasing
    _apply(office, url, erasing)
    korst = _clients(db)["1001"]
    assert (korst.kvk_number, korst.vat_number) == (None, None)
    assert before["1002"] == (lambda c: (c.name, c.kvk_number, c.vat_number, c.tier))(
        _clients(db)["1002"])


def test_updates_are_matched_by_client_number_and_audited_with_old_and_new(office, make,
                                                                            practice, db):
    make.client(practice, tiers.STANDARD, name="Garage Snel (oud)", client_number="1003")
    sheet = EXACT.replace(b";1234;", b";87654321;")
    url, page = _preview(office, sheet)
    assert re.search(r"<dt>Updated</dt><dd>1</dd>", page)
    assert "<del>Garage Snel (oud)</del> → Garage Snel" in page
    _apply(office, url, page)
    with db() as s:
        garage = s.scalar(select(Client).where(Client.client_number == "1003"))
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "client.imported",
                                                  AuditEvent.client_id == garage.id))
    assert garage.name == "Garage Snel" and garage.kvk_number == "87654321"
    assert event.data["changes"]["name"] == ["Garage Snel (oud)", "Garage Snel"]
    assert len(_clients(db)) == 3


def test_rows_are_refused_with_their_line_and_reason(office):
    sheet = (
        "Klantnummer;Bedrijfsnaam;BTW-nummer;E-mail;Cliënttype\n"
        "2001;Een;NL123456789B01;een@example.org;Samenwerken\n"
        "2002;Twee;;geen-adres;Samenwerken\n"
        "2003;Drie;;;Goud\n"
        "2004;Vier;;;Standaard\n"
        "2004;Vier bis;;;Standaard\n"
        ";Zonder nummer;;;Standaard\n"
    ).encode()
    _url, page = _preview(office, sheet)
    assert "“NL123456789B01” is not a valid Dutch VAT number" in page
    assert "“geen-adres” is not an e-mail address." in page
    assert "Tier “Goud” is unknown" in page
    assert "Client number 2004 is in the file more than once (lines 5, 6)." in page
    assert "The client number is empty." in page
    assert re.search(r"<dt>Refused</dt><dd>6</dd>", page)


def test_a_tier_with_one_contact_person_refuses_a_second(office, make, practice, db):
    company = make.client(practice, tiers.COLLABORATE, client_number="3001", name="Drukkerij")
    make.client_user(practice, company, email="eerste@drukkerij.example")
    sheet = b"Code;Naam;E-mail\n3001;Drukkerij;tweede@drukkerij.example\n"
    _url, page = _preview(office, sheet)
    assert "Collaborate includes one contact person; this client would have 2." in page
    plus = b"Code;Naam;E-mail;Type\n3001;Drukkerij;tweede@drukkerij.example;Uitgebreid\n"
    _url, page = _preview(office, plus)
    assert re.search(r"<dt>Updated</dt><dd>1</dd>", page)
    assert "of which 1 extra contact person" in page
    assert "+€1.55" in page  # 1.10 -> 1.65, and 1.00 for the second person


def test_contacts_are_invited_only_when_asked_and_where_the_tier_has_the_portal(office, db):
    url, page = _preview(office, EXACT, invite=True)
    _apply(office, url, page, mode="valid")
    with db() as s:
        invited = [m.recipient for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "client_invite"))]
    assert invited == ["piet@hoekje.example"]  # 't Hoekje is Uitgebreid; De Korst is not


def test_a_member_of_staff_cannot_apply_an_import_that_changes_the_fee(client, make,
                                                                        practice, db):
    client.login_staff(make.staff(practice, "joost@demo.example", role="staff").email)
    url, page = _preview(client, EXACT.replace(b";1234;", b";;"))
    refused = _apply(client, url, page)
    assert refused.status_code == 422
    assert "an admin of the practice applies it" in refused.get_data(as_text=True)
    assert _clients(db) == {}


def test_a_preview_that_no_longer_holds_applies_nothing(office, make, practice, db):
    url, page = _preview(office, EXACT.replace(b";1234;", b";;"))
    make.client(practice, tiers.STANDARD, client_number="1003", name="Meanwhile")
    response = _apply(office, url, page)
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "nothing was imported" in body
    assert sorted(_clients(db)) == ["1003"]
    assert _apply(office, url, body).status_code == 303
    assert sorted(_clients(db)) == ["1001", "1002", "1003"]


def test_an_xlsx_workbook_with_a_title_row_imports_the_same(office, db):
    book = Workbook()
    sheet = book.active
    sheet.append(["Relaties per 1 december"])
    sheet.append(["Relatienummer", "Naam", "KvK", "E-mailadres"])
    sheet.append([4001, "Bloemist Roos", 11223344, "roos@bloemist.example"])
    out = io.BytesIO()
    book.save(out)
    url, page = _preview(office, out.getvalue(), "relaties.xlsx")
    assert re.search(r"<dt>New clients</dt><dd>1</dd>", page)
    _apply(office, url, page)
    roos = _clients(db)["4001"]
    assert (roos.name, roos.kvk_number, roos.tier) == ("Bloemist Roos", "11223344", "standard")


def test_the_columns_chosen_are_remembered_for_the_next_file(office):
    sheet = b"Nr;Omschrijving;Postadres\n5001;Kapper Knip;Dorpsstraat 1\n"
    mapping_url = _mapping_page(_upload(office, sheet))
    page = office.get(mapping_url).get_data(as_text=True)
    assert _columns(page)["col_1"] == ""  # "Omschrijving" means nothing to us yet
    office.submit(mapping_url, {"col_0": "client_number", "col_1": "name"}, page=mapping_url)
    again = office.get(_mapping_page(_upload(office, sheet))).get_data(as_text=True)
    assert _columns(again) == {"col_0": "client_number", "col_1": "name", "col_2": ""}


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (300 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(("data", "name", "says"), [
    (b"", "leeg.csv", "The file is empty."),
    (b"Code;Naam\r\n", "kop.csv", "The file has a header but no rows of clients."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "foto.csv",
     "This file is not a CSV or Excel file."),
    (b"PK\x03\x04 not really a zip", "kapot.xlsx", "cannot be opened as an Excel workbook"),
    (None, "bom.xlsx", "unpacks to far more than its size"),
    (b"Code;Naam\n" + b"1;x\n" * 20_001, "groot.csv", "more than 20000 rows"),
    (b"Code;Naam\n1;" + b"x" * (11 * 1024 * 1024), "zwaar.csv", "larger than 10 MB"),
])
def test_a_bad_file_gets_a_clear_message_and_leaves_nothing(office, db, data, name, says):
    response = _upload(office, _zip_bomb() if data is None else data, name)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and says in body
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ClientImport)) == 0


def test_an_import_of_another_practice_is_not_found(office, make, app):
    other = make.practice("other")
    boss = make.staff(other, "boss@other.example", role="admin")
    theirs = app.test_client().on("other.localhost")
    theirs.login_staff(boss.email)
    mapping_url = _mapping_page(_upload(theirs, EXACT))
    assert office.get(mapping_url).status_code == 404
    assert office.get(mapping_url + "/preview").status_code == 404


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_clients_export_reads_back_in_unchanged(office, make, practice, kind):
    korst = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst",
                        client_number="1001", kvk_number="55667788")
    make.client_user(practice, korst, email="sanne@korst.example", name="Sanne")
    make.client_user(practice, korst, email="piet@korst.example", name="Piet")
    make.client(practice, tiers.STANDARD, name="Garage Snel", client_number="1003",
                contact_email="info@snel.example", contact_name="Info")
    make.client(practice, tiers.STANDARD, name="Slager", client_number="1004", status="ended")
    response = office.get(f"/office/clients/export.{kind}?q=e&status=active")
    assert response.status_code == 200
    _url, page = _preview(office, response.data, f"clients.{kind}")
    assert re.search(r"<dt>Unchanged</dt><dd>2</dd>", page)  # the filter left Slager out
    for kind_of_row in ("New clients", "Updated", "Refused"):
        assert re.search(rf"<dt>{kind_of_row}</dt><dd>0</dd>", page)


def test_the_csv_export_is_for_dutch_excel_with_formulas_neutralised(office, make, practice):
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="=HYPERLINK(\"x\")",
                          client_number="1001")
    make.client_user(practice, company, email="sanne@korst.example", name="Sanne")
    office.submit("/language", {"locale": "nl", "next": "/office/clients"},
                  page="/office/clients")
    text = office.get("/office/clients/export.csv").data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:8] == ["Cliëntnummer", "Bedrijfsnaam", "KvK-nummer", "Btw-nummer",
                           "Cliënttype", "Betaald door", "Contactpersoon", "E-mailadres"]
    assert rows[1][:8] == ["1001", "'=HYPERLINK(\"x\")", "", "", "Samenwerken Uitgebreid",
                           "het kantoor", "Sanne", "sanne@korst.example"]


def _export_of(count: int, start: int = 0) -> bytes:
    lines = ["Code;Naam;E-mail"] + [f"{n};Bedrijf {n};info{n}@bedrijf.example"
                                     for n in range(start, start + count)]
    return "\n".join(lines).encode()


def test_the_preview_and_apply_take_the_same_statements_for_3_rows_or_200(
        app, office, make, practice, count_queries):
    def statements(count: int, start: int) -> tuple[int, int]:
        for n in range(start, start + count, 10):  # a tenth of them are here already
            make.client(practice, tiers.COLLABORATE_PLUS, client_number=str(n), name="Oud")
        url = _mapping_page(_upload(office, _export_of(count, start)))
        office.submit(url, {"col_0": "client_number", "col_1": "name",
                            "col_2": "contact_email"}, page=url)
        page, previewing = count_queries(lambda: office.get(f"{url}/preview"))
        body = page.get_data(as_text=True)
        token = office.csrf_token(f"{url}/preview")
        done, applying = count_queries(lambda: office.post(
            f"{url}/apply", data={"csrf_token": token, "stamp": _stamp(body), "mode": "all"}))
        assert done.status_code == 303
        return previewing, applying

    small = statements(3, 0)
    # PostgreSQL takes two more on apply: an advisory lock per audit append (the chain).
    expected = (5, 20) if app.config["DATABASE_URL"].startswith("postgresql") else (5, 18)
    assert small == expected
    assert statements(imports.INLINE_LIMIT, 1000) == small  # the most done at once


# --- the responsible member of staff ---------------------------------------------------

RESPONSIBLE = (
    b"Code;Naam;Verantwoordelijke\n"
    b"6001;Eerste B.V.;ANNA@demo.example\n"
    b"6002;Tweede B.V.;  piet   jansen \n"
    b"6003;Derde B.V.;onbekend@demo.example\n"
    b"6004;Vierde B.V.;\n"
)


@pytest.fixture
def piet(make, practice):  # type: ignore[no-untyped-def]
    return make.staff(practice, "piet@demo.example", name="Piet Jansen")


def test_a_responsible_column_sets_the_staff_member_by_address_or_name(office, make, practice,
                                                                        piet, db):
    anna = make.staff(practice, "anna.b@demo.example", name="Anna Bakker")
    make.client(practice, tiers.STANDARD, client_number="6004", name="Vierde B.V.",
                responsible_id=anna.id)
    page = office.get(_mapping_page(_upload(office, RESPONSIBLE))).get_data(as_text=True)
    assert _columns(page)["col_2"] == "responsible_id"
    url, page = _preview(office, RESPONSIBLE)
    assert "“onbekend@demo.example” is not a member of staff of this practice" in page
    assert re.search(r"<dt>New clients</dt><dd>2</dd>", page)
    assert re.search(r"<dt>Unchanged</dt><dd>1</dd>", page)  # an empty cell keeps Anna
    assert "Responsible:</span> Piet Jansen" in page
    _apply(office, url, page, mode="valid")
    clients = _clients(db)
    with db() as s:
        admin = s.scalar(select(StaffUser.id).where(StaffUser.email == "anna@demo.example"))
    assert clients["6001"].responsible_id == admin  # the admin who signed in
    assert clients["6002"].responsible_id == piet.id
    assert clients["6004"].responsible_id == anna.id
    assert "6003" not in clients


def test_an_ambiguous_or_switched_off_responsible_refuses_the_row(office, make, practice, db):
    make.staff(practice, "jan1@demo.example", name="Jan de Boer")
    make.staff(practice, "jan2@demo.example", name="Jan de Boer")
    gone = make.staff(practice, "oud@demo.example", name="Oud Collega", active=False)
    make.client(practice, tiers.STANDARD, client_number="7002", name="Blijft B.V.",
                responsible_id=gone.id)
    sheet = (b"Code;Naam;Behandelaar\n7001;Nieuw B.V.;Jan de Boer\n"
             b"7002;Blijft B.V.;oud@demo.example\n7003;Ander B.V.;Oud Collega\n")
    _url, page = _preview(office, sheet)
    assert "More than one member of staff is called “Jan de Boer”: use the e-mail" in page
    assert "Oud Collega can no longer sign in, so cannot be responsible." in page
    # Who is responsible already stays so, even with their account switched off.
    assert re.search(r"<dt>Unchanged</dt><dd>1</dd>", page)
    assert re.search(r"<dt>Refused</dt><dd>2</dd>", page)


def test_the_export_writes_the_responsible_back(office, make, practice, piet):
    make.client(practice, tiers.STANDARD, name="Garage Snel", client_number="1003",
                responsible_id=piet.id)
    office.submit("/language", {"locale": "nl", "next": "/office/clients"},
                  page="/office/clients")
    text = office.get("/office/clients/export.csv").data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][-2:] == ["Verantwoordelijke", "Status"]
    assert rows[1][-2] == "piet@demo.example"
    _url, page = _preview(office, text.encode("utf-8"))
    assert re.search(r"<dt>Ongewijzigd</dt><dd>1</dd>", page)


def test_the_client_card_shows_and_changes_the_responsible(office, make, practice, piet, db):
    company = make.client(practice, tiers.STANDARD, name="Garage Snel")
    card = f"/office/clients/{company.id}"
    details = {"name": "Garage Snel", "client_number": company.client_number,
               "responsible_id": str(piet.id)}
    assert office.submit(f"{card}/details", details, page=card).status_code == 303
    page = office.get(card).get_data(as_text=True)
    assert "Responsible: Piet Jansen" in page
    assert f'<option selected value="{piet.id}">' in page or \
        f'<option value="{piet.id}" selected>' in page
    assert _clients(db)[company.client_number].responsible_id == piet.id
    other = make.staff(make.practice("other"), "olga@other.example")
    refused = office.submit(f"{card}/details", details | {"responsible_id": str(other.id)},
                            page=card)
    assert refused.status_code == 422 and "Not a valid choice." in refused.get_data(
        as_text=True)


# --- large imports in the worker ---------------------------------------------------------

def _big(count: int, start: int = 0, refused: int = 0) -> bytes:
    lines = ["Code;Naam;KvK;E-mail"]
    lines += [f"{n};Bedrijf {n};{'' if n - start >= refused else '123'};info{n}@bedrijf.example"
              for n in range(start, start + count)]
    return "\n".join(lines).encode()


def _queue(office, data: bytes, mode: str = "all"):  # type: ignore[no-untyped-def]
    url, page = _preview(office, data)
    assert "imported in the background" in page
    done = _apply(office, url, page, mode=mode)
    assert done.status_code == 303
    return url.rsplit("/", 1)[0], page


def test_a_large_import_is_applied_by_the_worker_with_progress(app, office, db):
    from portal.notifications.worker import Worker

    count = imports.INLINE_LIMIT + 50
    page_url, _page = _queue(office, _big(count + 3, refused=3), mode="valid")
    waiting = office.get(page_url).get_data(as_text=True)
    assert "Waiting for the worker to start" in waiting and "reload it" in waiting
    assert _clients(db) == {}
    again = office.get(f"{page_url}/preview")  # confirmed: no second confirmation
    assert again.status_code == 302 and again.headers["Location"] == page_url

    Worker(app).run_pass()
    fragment = office.get(page_url, headers={"HX-Request": "true",
                                             "HX-Target": "div#bulk_progress"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="bulk_progress">')
    assert f"Done: {count} new clients, 0 updated." in body
    summary = office.get(page_url).get_data(as_text=True)
    assert "Import done" in summary
    assert re.search(rf"<dt>New clients</dt><dd>{count}</dd>", summary)
    assert re.search(r"<dt>Refused, not imported</dt><dd>3</dd>", summary)
    refused_csv = office.get(f"{page_url}/refused.csv").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(refused_csv.lstrip("\ufeff")), delimiter=";"))) == 4
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == count
        assert s.scalar(select(func.count()).select_from(Membership)) == count
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "client.imported")) == count
        assert s.scalar(select(ClientImport.state)) == "applied"


def test_the_worker_checks_the_preview_again_and_applies_nothing_if_it_changed(
        app, office, make, practice, db):
    from portal.notifications.worker import Worker

    page_url, _page = _queue(office, _big(imports.INLINE_LIMIT + 1))
    make.client(practice, tiers.STANDARD, client_number="5", name="Meanwhile")
    Worker(app).run_pass()
    page = office.get(page_url).get_data(as_text=True)
    assert "The import stopped" in page and "nothing was imported" in page
    assert sorted(_clients(db)) == ["5"]
    url = f"{page_url}/preview"
    checked = office.get(url).get_data(as_text=True)
    assert re.search(r"<dt>Updated</dt><dd>1</dd>", checked)  # "Meanwhile" is renamed
    assert _apply(office, url, checked).status_code == 303
    Worker(app).run_pass()
    assert len(_clients(db)) == imports.INLINE_LIMIT + 1


class _WorkerDied(BaseException):
    """As a worker killed midway: nothing catches it, its transaction is rolled back."""


def test_an_import_whose_worker_died_is_taken_over_and_done_once(
        app, office, db, frozen_clock, monkeypatch):
    from portal.clients import billing
    from portal.notifications.worker import Worker

    monkeypatch.setattr(imports, "CHUNK", 100)
    count = imports.INLINE_LIMIT + 50
    page_url, _page = _queue(office, _big(count))
    real, calls = imports._apply_rows, []

    def dies_in_the_second_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise _WorkerDied()
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_apply_rows", dies_in_the_second_chunk)
    with app.app_context(), pytest.raises(_WorkerDied):
        imports.run_queued(portal_db.session, *billing.prices_from(app.config))
    monkeypatch.setattr(imports, "_apply_rows", real)
    running = office.get(page_url).get_data(as_text=True)
    assert f"Importing: 100 of {count} rows." in running
    assert len(_clients(db)) == 100

    Worker(app).run_pass()  # its claim is fresh: the worker may still be alive
    assert len(_clients(db)) == 100
    frozen_clock.advance(minutes=11)
    Worker(app).run_pass()
    assert len(_clients(db)) == count
    with db() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "client.imported")) == count
        assert s.scalar(select(func.count()).select_from(Membership)) == count
        stored = s.scalar(select(ClientImport))
    assert stored.state == "applied" and stored.result["created"] == count


def test_queueing_and_the_progress_page_take_the_same_statements_for_any_size(
        office, count_queries):
    def statements(count: int, start: int) -> tuple[int, int]:
        url, page = _preview(office, _big(count, start))
        apply_url = url.replace("/preview", "/apply")
        token = office.csrf_token(url)
        done, queueing = count_queries(lambda: office.post(
            apply_url, data={"csrf_token": token, "stamp": _stamp(page), "mode": "all"}))
        assert done.status_code == 303
        progress, showing = count_queries(lambda: office.get(done.headers["Location"]))
        assert "Waiting for the worker" in progress.get_data(as_text=True)
        return queueing, showing

    small = statements(imports.INLINE_LIMIT + 1, 0)
    # queueing: the practice, the user, the import, the clients and the contact persons
    # (the preview made again), then one UPDATE; the progress page: practice, user, import
    assert small == (6, 3)
    assert statements(1_000, 10_000) == small
