"""Starting and ending online collaboration in Chromium, with JavaScript on and off: an offer
from the wizard to the contact's confirmation and the offers' status overview, an offer
cancelled, an offer that expires, blocking and ending, the client's own export with its
manifest, and what `portal retention --dry-run` says before anything is deleted."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal import db as portal_db
from portal.accounts.models import ClientUser
from portal.audit import Actor
from portal.clients import tiers
from portal.clients.models import Client
from portal.clock import AMSTERDAM
from portal.collaboration import ending, offers
from portal.collaboration.models import ClientExport, Offer
from portal.notifications.worker import Worker
from portal.tenancy.models import Practice
from tests.conftest import HostClient, make_app
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

STRONG = "zonnebloem fietsbel koffiepot"


@pytest.fixture
def app(database, tmp_path, smtp):  # type: ignore[no-untyped-def]
    """The app whose worker delivers to the loopback SMTP sink."""
    application = make_app(database, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                           MAIL_BACKEND="smtp", MAIL_DEFAULT_SENDER="portal@portal.example")
    application.test_client_class = HostClient
    yield application
    portal_db.engine_of(application).dispose()


def _world(app, live, tier: str = tiers.STANDARD):  # type: ignore[no-untyped-def]
    app.config["PUBLIC_PORT"] = live.port  # links in mail lead to this test's server
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")
    korst = make.client(practice, tier, name="Bakkerij De Korst", client_number="1001")
    return {"make": make, "practice": practice, "anna": anna, "korst": korst}


def _offer(app, world) -> Offer:  # type: ignore[no-untyped-def]
    """An offer Anna sent to Sanne of De Korst (the wizard has its own test)."""
    anna, practice = world["anna"], world["practice"]
    with app.app_context():
        session = portal_db.session
        return offers.make_offer(
            session, Actor(practice.id, "staff", anna.id, anna.email),
            session.get(Practice, practice.id), client=session.get(Client, world["korst"].id),
            new_client=None, email="sanne@korst.example", contact_name="Sanne de Boer",
            tier=tiers.COLLABORATE_PLUS, payer="client", locale="en")


def _sign_in(page, live, path: str, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url(path))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _mails(app, smtp, address: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Deliver what waits, then the plain text of every mail the address has had."""
    Worker(app).run_pass()
    return [m.get_body(("plain",)).get_content() for m in smtp.to(address)]


def _link(text: str) -> str:
    return re.search(r"(http://demo\.localhost:\d+/\S+)", text).group(1)


def _read(app, model, row_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        return portal_db.session.get(model, row_id)


def _row(page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("row", name=re.compile(re.escape(name)))


# --- offers ----------------------------------------------------------------------------

def test_an_offer_goes_from_the_wizard_to_the_contacts_confirmation(app, live, page, tab,
                                                                    smtp, accessible):
    world = _world(app, live)
    _sign_in(page, live, "/office/login", "anna@demo.example")
    page.get_by_role("link", name="Offers", exact=True).click()
    page.get_by_role("link", name="New offer").click()
    page.get_by_label("Client", exact=True).select_option(label="Bakkerij De Korst (1001)")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name of the contact").fill("Sanne de Boer")
    page.get_by_label("E-mail address of the contact").fill("Sanne@Korst.example")
    page.get_by_label("The same address again").fill("Sanne@Korst.example")
    page.get_by_label("Language of the mail").select_option(label="English")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Tier").select_option(label="Collaborate Extended")
    page.get_by_label("The client (invoiced to them)").check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("sanne@korst.example")).to_be_visible()
    page.get_by_role("button", name="Send the offer").click()
    expect(page.get_by_text("The offer is on its way to sanne@korst.example. It stays valid "
                            "for 21 days.")).to_be_visible()
    expect(_row(page, "Bakkerij De Korst")).to_contain_text("Waiting for the client")
    assert _read(app, Client, world["korst"].id).tier == tiers.STANDARD  # still wholly ours

    mail = smtp.to("sanne@korst.example")
    assert not mail  # nothing leaves inside the request
    text = _mails(app, smtp, "sanne@korst.example")[-1]
    assert smtp.to("sanne@korst.example")[-1]["Subject"] == \
        "Bakker & Visser invites Bakkerij De Korst to work together online"
    assert "Collaborate Extended" in text

    phone = tab(viewport={"width": 360, "height": 740})
    phone.goto(_link(text))
    expect(phone.get_by_role("heading", name="Work together online with Bakker & Visser")
           ).to_be_visible()
    summary = phone.locator("dl.summary")
    expect(summary).to_contain_text("Bakkerij De Korst")
    expect(summary).to_contain_text("sanne@korst.example")
    expect(summary).to_contain_text("Collaborate Extended")
    expect(summary).to_contain_text("your company (invoiced by Bakker & Visser")
    accessible(phone)
    phone.get_by_label("Choose a password").fill(STRONG)
    phone.get_by_label("Repeat the password").fill(STRONG + "!")
    phone.get_by_role("button", name="Confirm").click()
    expect(phone.get_by_text("The passwords differ.")).to_be_visible()
    assert _read(app, Client, world["korst"].id).tier == tiers.STANDARD
    phone.get_by_label("Choose a password").fill(STRONG)
    phone.get_by_label("Repeat the password").fill(STRONG)
    phone.get_by_role("button", name="Confirm").click()
    expect(phone.get_by_text("Welcome! Bakkerij De Korst now works with Bakker & Visser "
                             "online.")).to_be_visible()
    expect(phone.get_by_role("heading", name="Bakkerij De Korst", level=1)).to_be_visible()

    client = _read(app, Client, world["korst"].id)
    assert (client.tier, client.payer, client.contact_email) == (
        tiers.COLLABORATE_PLUS, "client", "sanne@korst.example")

    # The status overview: confirmed, and no longer among those waiting.
    page.reload()
    expect(_row(page, "Bakkerij De Korst")).to_contain_text("Confirmed")
    expect(_row(page, "Bakkerij De Korst").get_by_role("button", name="Send again")
           ).to_have_count(0)
    page.get_by_role("link", name="Waiting for the client").click()
    expect(_row(page, "Bakkerij De Korst")).to_have_count(0)
    page.get_by_role("link", name="Confirmed").click()
    expect(_row(page, "Bakkerij De Korst")).to_be_visible()
    accessible(page)
    assert any("sanne@korst.example confirmed the offer for Bakkerij De Korst." in m
               for m in _mails(app, smtp, "anna@demo.example"))

    # The mailed link has done its work; the new login works.
    phone.goto(_link(text))
    expect(phone.get_by_role("heading", name="This link has been used already")
           ).to_be_visible()


def test_a_cancelled_offer_withdraws_its_link(app, live, page, tab, smtp, accessible):
    world = _world(app, live)
    offer = _offer(app, world)
    link = _link(_mails(app, smtp, "sanne@korst.example")[-1])
    _sign_in(page, live, "/office/offers", "anna@demo.example")
    _row(page, "Bakkerij De Korst").get_by_role("link", name="Cancel", exact=True).click()
    page.get_by_role("button", name="Yes, cancel the offer").click()
    expect(page.get_by_text("The offer is cancelled; its link no longer works.")).to_be_visible()
    row = _row(page, "Bakkerij De Korst")
    expect(row).to_contain_text("Cancelled by the practice")
    expect(row.get_by_role("button", name="Send again")).to_have_count(0)
    expect(row.get_by_role("link", name="Cancel", exact=True)).to_have_count(0)
    accessible(page)
    assert _read(app, Offer, offer.id).state == "cancelled"

    phone = tab()
    response = phone.goto(link)
    assert response.status == 410
    expect(phone.get_by_role("heading", name="This link has been withdrawn")).to_be_visible()
    expect(phone.get_by_text("Bakkerij De Korst")).to_have_count(0)  # names nobody
    accessible(phone)
    # The client stays wholly the practice's, and can be offered the portal anew.
    page.goto(live.url(f"/office/clients/{world['korst'].id}/collaboration"))
    expect(page.get_by_role("link", name="Offer the portal")).to_be_visible()
    assert _read(app, Client, world["korst"].id).tier == tiers.STANDARD


def test_an_offer_not_confirmed_in_time_expires_and_can_go_out_again(
        frozen_clock, app, live, page, tab, smtp, accessible):
    world = _world(app, live)
    offer = _offer(app, world)
    link = _link(_mails(app, smtp, "sanne@korst.example")[0])
    frozen_clock.advance(days=21, minutes=-1)
    Worker(app).run_pass()  # the worker's sweeps: not yet
    assert _read(app, Offer, offer.id).state == "pending"
    frozen_clock.advance(minutes=2)
    Worker(app).run_pass()
    assert _read(app, Offer, offer.id).state == "expired"
    told = [m for m in smtp.to("anna@demo.example")
            if m["Subject"] == "Expired: the offer for Bakkerij De Korst"]
    assert len(told) == 1
    Worker(app).run_pass()  # a sweep again changes nothing and tells nobody twice
    assert len([m for m in smtp.to("anna@demo.example")
                if m["Subject"].startswith("Expired")]) == 1

    phone = tab()
    phone.goto(link)
    expect(phone.get_by_role("heading", name="This link has expired")).to_be_visible()

    _sign_in(page, live, "/office/offers", "anna@demo.example")
    page.get_by_role("link", name="Expired", exact=True).click()
    row = _row(page, "Bakkerij De Korst")
    expect(row).to_contain_text("Expired")
    accessible(page)
    row.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("The offer went out again, with a new link.")).to_be_visible()
    assert _read(app, Offer, offer.id).state == "pending"
    fresh = _link(_mails(app, smtp, "sanne@korst.example")[-1])
    assert fresh != link
    phone.goto(fresh)
    until = format_date((frozen_clock.now + timedelta(days=21)).astimezone(AMSTERDAM).date(),
                        "long", locale="en")
    expect(phone.locator("dl.summary")).to_contain_text(until)
    expect(phone.get_by_role("button", name="Confirm")).to_be_visible()


# --- block, end, export ----------------------------------------------------------------

def test_a_blocked_company_is_out_of_reach_until_unblocked_and_ending_is_final(
        app, live, page, tab, accessible):
    world = _world(app, live, tiers.COLLABORATE_PLUS)
    company = world["korst"]
    world["make"].client_user(world["practice"], company, email="sanne@korst.example",
                              name="Sanne de Boer")
    portal = tab()
    _sign_in(portal, live, "/login", "sanne@korst.example")
    expect(portal.get_by_role("heading", name="Bakkerij De Korst", level=1)).to_be_visible()
    home = portal.url

    _sign_in(page, live, f"/office/clients/{company.id}/collaboration", "anna@demo.example")
    page.get_by_label("I understand that its users lose access").check()
    page.get_by_role("button", name="Block access").click()
    expect(page.get_by_text("Bakkerij De Korst is blocked")).to_be_visible()
    expect(page.get_by_role("button", name="Unblock")).to_be_visible()
    assert portal.goto(home).status == 404
    portal.goto(live.url("/"))
    expect(portal.get_by_text("No company is shared with you in the portal")).to_be_visible()

    page.get_by_role("button", name="Unblock").click()
    expect(page.get_by_text("Bakkerij De Korst is active again.")).to_be_visible()
    assert portal.goto(home).status == 200
    expect(portal.get_by_role("heading", name="Bakkerij De Korst", level=1)).to_be_visible()

    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="End the collaboration").click()
    expect(page.get_by_text("The collaboration with Bakkerij De Korst has ended.")
           ).to_be_visible()
    client = _read(app, Client, company.id)
    purge = format_date(client.purge_after.astimezone(AMSTERDAM).date(), "long", locale="en")
    expect(page.get_by_text(f"All data of this client is deleted on {purge}.")).to_be_visible()
    assert (client.purge_after - client.ended_at) == timedelta(days=90)
    for gone in ("Block access", "Unblock", "End the collaboration"):
        expect(page.get_by_role("button", name=gone)).to_have_count(0)
    accessible(page)
    assert portal.goto(home).status == 404


def test_the_main_contact_downloads_an_export_whose_manifest_holds(app, live, page, smtp,
                                                                   accessible):
    world = _world(app, live, tiers.COLLABORATE_PLUS)
    make, company = world["make"], world["korst"]
    make.client_user(world["practice"], company, email="sanne@korst.example",
                     name="Sanne de Boer")
    version = make.report(make.engagement(company), data=b"%PDF-1.4 jaarrekening %%EOF",
                          filename="jaarrekening 2025.pdf")
    document = make.document(company, data=b"datum;bedrag\n2025-01-31;1.234,56\n",
                             name="bank maart.csv")

    _sign_in(page, live, "/login", "sanne@korst.example")
    page.get_by_role("link", name="Collaboration").click()
    page.get_by_role("button", name="Make an export").click()
    expect(page.get_by_text("Your export is being made; you get a mail when it is ready.")
           ).to_be_visible()
    expect(page.get_by_role("link", name="Download")).to_have_count(0)  # not made yet
    accessible(page)

    texts = _mails(app, smtp, "sanne@korst.example")  # the worker makes it, then mails
    assert smtp.to("sanne@korst.example")[-1]["Subject"] == \
        "The export of Bakkerij De Korst is ready"
    page.goto(_link(texts[-1]))
    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    with open(info.value.path(), "rb") as handle:
        data = handle.read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["client"] == {"name": "Bakkerij De Korst", "number": "1001", "kvk": None}
    listed = {entry["path"]: entry for entry in manifest["files"]}
    # Every file but the manifest and the page that shows it is listed, with its hash.
    assert set(listed) == set(archive.namelist()) - {"manifest.json", "index.html"}
    for path, entry in listed.items():
        content = archive.read(path)
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], path
        assert len(content) == entry["size"], path
    assert listed[f"documents/2025/{document.id}-bank maart.csv"]["sha256"] == document.sha256
    report = next(e for p, e in listed.items() if p.startswith("reports/"))
    assert report["sha256"] == version.sha256
    with app.app_context():
        export = portal_db.session.scalar(select(ClientExport))
    assert export.for_client and hashlib.sha256(data).hexdigest() == export.sha256


# --- retention --------------------------------------------------------------------------

@pytest.mark.parametrize("javascript", [False], ids=["nojs"])
@pytest.mark.parametrize("frozen_clock", [(1, 14, 0, 30)], indirect=True,
                         ids=["just after midnight in Amsterdam"])
def test_the_retention_dry_run_names_what_goes_and_when_and_deletes_nothing(
        frozen_clock, app, live, page, accessible):
    from portal.cli import cli

    world = _world(app, live, tiers.COLLABORATE_PLUS)
    make, practice = world["make"], world["practice"]
    left = make.client(practice, tiers.COLLABORATE_PLUS, name="Vertrokken B.V.",
                       client_number="3003")
    owner = make.client_user(practice, left, email="owner@vertrokken.example")
    document = make.document(left)
    with app.app_context():  # the client left on 14 January, 00:30 in Amsterdam
        session = portal_db.session
        ending.leave(session, session.get(Practice, practice.id),
                     session.get(ClientUser, owner.id), session.get(Client, left.id), PASSWORD)
    frozen_clock.advance(days=91)  # its term has passed; De Korst is ended today
    with app.app_context():
        session = portal_db.session
        anna = world["anna"]
        ending.end(session, Actor(practice.id, "staff", anna.id, anna.email),
                   session.get(Client, world["korst"].id))
    korst = _read(app, Client, world["korst"].id)

    result = app.test_cli_runner().invoke(cli, ["retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    gone_now = next(line for line in lines if "Vertrokken B.V." in line)
    assert gone_now.split()[0] == "3003" and "deleted now" in gone_now
    assert "export" not in gone_now  # it left itself: no export for the practice
    later = next(line for line in lines if "Bakkerij De Korst" in line)
    day = korst.purge_after.astimezone(AMSTERDAM).date()
    # The day staff read on the client's page (Amsterdam), not the day in UTC.
    assert f"deleted {day.isoformat()}" in later
    assert "(an export for the practice first)" in later
    assert lines[-1] == "2 ended client(s); nothing was deleted"

    with app.app_context():
        session = portal_db.session
        assert session.get(Client, left.id) is not None
        assert session.get(ClientUser, owner.id) is not None
        assert session.scalar(select(func.count()).select_from(ClientExport)) == 0
    assert app.extensions["portal.storage"].exists(document.storage_key)

    _sign_in(page, live, f"/office/clients/{korst.id}/collaboration", "anna@demo.example")
    shown = format_date(day, "long", locale="en")
    expect(page.get_by_text(f"All data of this client is deleted on {shown}.")).to_be_visible()
    page.goto(live.url(f"/office/clients/{left.id}/collaboration"))
    expect(page.get_by_text("Ended by the client")).to_be_visible()
    accessible(page)
