"""Document exchange in Chromium, with JavaScript on and off: staff ask for documents, the
client answers from the open action with several files, staff see them arrive and share one
back. With JavaScript the upload goes through htmx with a progress bar (XMLHttpRequest);
without it, it is a plain multipart form. Both end the same."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import clock
from portal.clients import tiers
from tests.browser.conftest import fetch
from tests.factories import PASSWORD, PDF, Factory

pytestmark = pytest.mark.browser
CSV = b"datum;omschrijving;bedrag\n2025-01-02;Huur;-1250,00\n"


def _world(app):  # type: ignore[no-untyped-def]
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser", brand_color="#1d4f7a")
    make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    make.client_user(practice, company, email="sanne@korst.example", name="Sanne de Boer")
    make.engagement(company, year=2025)
    return company


def _sign_in(page, live, path: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url(path))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _uploads(page) -> list[str]:  # type: ignore[no-untyped-def]
    """How each POST of a form left the browser: 'xhr' through htmx, 'document' without."""
    kinds: list[str] = []
    page.on("request", lambda r: kinds.append(r.resource_type) if r.method == "POST" and
            "/documents" in r.url else None)
    return kinds


def test_client_answers_a_request_with_several_files(app, live, page, tab, tmp_path,
                                                     accessible):
    company = _world(app)
    office = tab()
    _sign_in(office, live, "/office/login", "anna@demo.example")
    office.goto(live.url(f"/office/clients/{company.id}/documents"))
    office.get_by_label("What do you need?").fill("Bank statements 2025")
    office.get_by_label("Deadline").fill((clock.today() + timedelta(days=14)).isoformat())
    office.get_by_role("button", name="Ask", exact=True).click()
    office.get_by_text("The request is on its way to Bakkerij De Korst.").wait_for()

    sent = _uploads(page)
    _sign_in(page, live, "/login", "sanne@korst.example")
    page.get_by_role("link", name="Send documents: Bank statements 2025").click()
    assert page.get_by_label("Requested document").input_value() != "0"
    accessible(page)
    (tmp_path / "ING januari.pdf").write_bytes(PDF)
    (tmp_path / "Bank 2025.csv").write_bytes(CSV)
    page.get_by_label("Files").set_input_files([str(tmp_path / "ING januari.pdf"),
                                                str(tmp_path / "Bank 2025.csv")])
    page.get_by_label("Note for your accountant").fill("Alle rekeningen")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("2 files received.").wait_for()
    assert sent == ["xhr" if page.javascript else "document"]
    assert page.get_by_role("link", name="ING januari.pdf").is_visible()
    assert page.get_by_text("Your accountant asks for").count() == 0  # the request is done
    accessible(page)
    href = page.get_by_role("link", name="Bank 2025.csv").get_attribute("href")
    assert fetch(page, live.url(href)) == (200, CSV)

    office.goto(live.url(f"/office/clients/{company.id}/documents"))
    assert office.get_by_text("received", exact=True).is_visible()
    assert office.get_by_role("link", name="ING januari.pdf", exact=True).is_visible()
    accessible(office)


def test_staff_share_a_document_and_the_client_finds_it(app, live, page, tab, tmp_path,
                                                        accessible):
    company = _world(app)
    _sign_in(page, live, "/office/login", "anna@demo.example")
    page.goto(live.url(f"/office/clients/{company.id}/documents"))
    (tmp_path / "Jaarrekening 2025.pdf").write_bytes(PDF)
    page.get_by_label("Files").set_input_files(str(tmp_path / "Jaarrekening 2025.pdf"))
    page.get_by_label("Message in the mail").fill("Voor uw administratie")
    page.get_by_role("button", name="Share", exact=True).click()
    page.get_by_text("1 file received.").wait_for()
    accessible(page)

    client = tab()
    _sign_in(client, live, "/login", "sanne@korst.example")
    client.get_by_role("link", name="History").click()
    link = client.get_by_role("link", name="Jaarrekening 2025.pdf")
    assert fetch(client, live.url(link.get_attribute("href"))) == (200, PDF)


def test_a_refused_file_is_named_with_the_reason(app, live, page, tmp_path, accessible):
    company = _world(app)
    app.config["UPLOAD_MAX_MB"] = 1
    _sign_in(page, live, "/login", "sanne@korst.example")
    page.goto(live.url(f"/c/{company.id}/documents"))
    sent = _uploads(page)
    (tmp_path / "groot.pdf").write_bytes(PDF + b"0" * (1024 * 1024))
    page.get_by_label("Files").set_input_files(str(tmp_path / "groot.pdf"))
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("“groot.pdf” is larger than 1 MB.").wait_for()
    # With JavaScript the browser refuses before sending a byte; without, the server does.
    assert sent == ([] if page.javascript else ["document"])
    accessible(page)

    (tmp_path / "setup.exe").write_bytes(b"MZ" + b"\0" * 100)
    page.get_by_label("Files").set_input_files(str(tmp_path / "setup.exe"))
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("“setup.exe”: files of type .exe are not accepted").wait_for()
    accessible(page)
