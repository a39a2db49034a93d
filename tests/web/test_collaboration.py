"""Starting and ending online collaboration: the offer, who pays, block, leave, export,
and deletion after the retention period."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal import db as portal_db
from portal.accounts.models import ClientUser, Membership
from portal.audit.models import AuditEvent
from portal.clients import tiers
from portal.clients.models import Client
from portal.collaboration import exports, offers, retention
from portal.collaboration.models import ClientExport, Offer
from portal.engagements.models import Engagement, ReportVersion
from portal.notifications.models import ClientTask, OutboxMessage

# The month after the one the run starts in, so a test can go to its middle on any day.
NEXT_MONTH = clock.today().month % 12 + 1

STRONG = "zonnebloem fietsbel koffiepot"
# The ticked boxes that confirm blocking and ending on the collaboration panel.
BLOCK, END = {"block-confirm": "y"}, {"end-confirm": "y"}


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    return {"practice": practice, "anna": anna,
            "korst": make.client(practice, tiers.STANDARD, name="Bakkerij De Korst",
                                 client_number="1001")}


@pytest.fixture
def office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def _offer(office, client_id=None, new=None, email="sanne@korst.example",  # type: ignore[no-untyped-def]
           tier="collaborate_plus", payer="client"):
    """The wizard as staff click through it, step by step."""
    page = "/office/offers/new"
    if new:
        step = office.submit(page, {"step": "start", "which": "new"}, page=page)
        assert "The new client" in step.get_data(as_text=True)
        carried = {"step": "client", **new}
        office.submit(page, carried, page=page)
        base = {k: v for k, v in new.items()}
    else:
        step = office.submit(page, {"step": "start", "which": "existing",
                                    "client_id": client_id}, page=page)
        assert "E-mail address of the contact" in step.get_data(as_text=True)
        base = {"client_id": client_id}
    office.submit(page, {"step": "contact", **base, "contact_name": "Sanne de Boer",
                         "email": email, "email_again": email, "locale": "en"}, page=page)
    contact = {"contact_name": "Sanne de Boer", "email": email, "locale": "en"}
    review = office.submit(page, {"step": "terms", **base, **contact, "tier": tier,
                                  "payer": payer}, page=page)
    assert email in review.get_data(as_text=True)  # shown again before sending
    return office.submit(page, {"step": "send", **base, **contact, "tier": tier,
                                "payer": payer}, page=page)


def _link(db, address: str) -> str:  # type: ignore[no-untyped-def]
    with db() as s:
        body = s.scalars(select(OutboxMessage.text_body).where(
            OutboxMessage.recipient == address, OutboxMessage.kind == "offer")
            .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"http://demo\.localhost(/offer/\S+)", body).group(1)


def test_offer_to_an_existing_client_confirmed_with_a_new_login(office, app, world, db):
    response = _offer(office, client_id=world["korst"].id)
    assert response.status_code == 303
    with db() as s:
        offer = s.scalar(select(Offer))
        assert (offer.state, offer.tier, offer.payer) == ("pending", "collaborate_plus",
                                                          "client")
        assert s.get(Client, world["korst"].id).tier == "standard"  # still wholly ours
        assert s.scalar(select(ClientTask)).kind == "offer"
    link = _link(db, "sanne@korst.example")
    browser = app.test_client()
    page = browser.get(link).get_data(as_text=True)
    assert "Bakkerij De Korst" in page and "Choose a password" in page
    weak = browser.submit(link, {"password": "welkom", "repeat": "welkom"})
    assert weak.status_code == 422
    done = browser.submit(link, {"password": STRONG, "repeat": STRONG})
    assert done.status_code == 303
    assert "Bakkerij De Korst" in browser.get(done.headers["Location"]).get_data(as_text=True)
    with db() as s:
        client = s.get(Client, world["korst"].id)
        assert (client.tier, client.payer, client.contact_email) == (
            "collaborate_plus", "client", "sanne@korst.example")
        assert client.portal_since is not None
        user = s.scalar(select(ClientUser))
        assert s.scalar(select(Membership.role).where(Membership.client_user_id == user.id)) \
            == "owner"
        assert s.scalar(select(Offer)).state == "confirmed"
        assert s.scalar(select(ClientTask)).state == "done"
        kinds = {m.kind for m in s.scalars(select(OutboxMessage))}
    assert {"offer", "offer_confirmed", "offer_confirmed_staff"} <= kinds
    assert app.test_client().get(link).status_code == 410


def test_offer_for_a_new_client_record(office, db):
    _offer(office, new={"name": "Slagerij Vers", "client_number": "2002", "kvk_number": "",
                        "contact_name": "", "contact_email": ""}, email="piet@vers.example")
    with db() as s:
        client = s.scalar(select(Client).where(Client.client_number == "2002"))
        assert client.name == "Slagerij Vers"
        assert s.scalar(select(Offer)).client_id == client.id


def test_a_second_company_joins_the_same_login(office, app, make, world, db):
    _offer(office, client_id=world["korst"].id)
    browser = app.test_client()
    browser.submit(_link(db, "sanne@korst.example"), {"password": STRONG, "repeat": STRONG})
    second = make.client(world["practice"], tiers.STANDARD, name="Koffiebar Korst")
    _offer(office, client_id=second.id)
    link = _link(db, "sanne@korst.example")
    page = browser.get(link).get_data(as_text=True)
    assert "You already have a login here" in page
    browser.submit(link, {})
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ClientUser)) == 1
        assert s.scalar(select(func.count()).select_from(Membership)) == 2
    assert "Koffiebar Korst" in browser.get("/").get_data(as_text=True)


@pytest.mark.parametrize("frozen_clock", [None, (12, 20)], indirect=True,
                         ids=["today", "sent 20 December, expires next year"])
def test_an_offer_expires_after_21_days_once_and_its_sender_hears(frozen_clock, office, app,
                                                                  world, db):
    _offer(office, client_id=world["korst"].id)
    link = _link(db, "sanne@korst.example")
    frozen_clock.advance(days=21, minutes=-1)
    with app.app_context():
        assert offers.expire(portal_db.session) == 0
    assert app.test_client().get(link).status_code == 200
    frozen_clock.advance(minutes=2)
    with app.app_context():
        assert offers.expire(portal_db.session) == 1
        assert offers.expire(portal_db.session) == 0
    assert app.test_client().get(link).status_code == 410
    with db() as s:
        assert s.scalar(select(Offer)).state == "expired"
        assert s.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "offer_expired")).recipient == "anna@demo.example"


def test_cancelling_an_offer_kills_its_link_at_once(office, app, world, db):
    _offer(office, client_id=world["korst"].id)
    link = _link(db, "sanne@korst.example")
    with db() as s:
        offer_id = s.scalar(select(Offer.id))
    office.submit(f"/office/offers/{offer_id}/cancel", {"confirm": "y"},
                  page=f"/office/offers/{offer_id}/cancel")
    response = app.test_client().get(link)
    assert response.status_code == 410
    again = office.submit(f"/office/offers/{offer_id}/send-again", page="/office/offers",
                          follow_redirects=True)
    assert "Only a waiting or expired offer can be sent again." in again.get_data(as_text=True)


def test_cancelling_an_offer_asks_first_and_an_unconfirmed_post_changes_nothing(
        office, app, world, db):
    _offer(office, client_id=world["korst"].id)
    link = _link(db, "sanne@korst.example")
    with db() as s:
        offer_id = s.scalar(select(Offer.id))
    listing = office.get("/office/offers").get_data(as_text=True)
    assert f'href="/office/offers/{offer_id}/cancel"' in listing  # a link to ask, not a POST
    ask = office.get(f"/office/offers/{offer_id}/cancel")
    assert ask.status_code == 200
    assert "Cancel the offer to Bakkerij De Korst?" in ask.get_data(as_text=True)
    refused = office.submit(f"/office/offers/{offer_id}/cancel",
                            page=f"/office/offers/{offer_id}/cancel")
    assert refused.status_code == 422
    assert "Nothing was cancelled" in refused.get_data(as_text=True)
    with db() as s:
        assert s.get(Offer, offer_id).state == "pending"
    assert app.test_client().get(link).status_code == 200
    inline = office.get(f"/office/offers/{offer_id}/cancel",
                        headers={"HX-Request": "true", "HX-Request-Type": "partial",
                                 "HX-Target": f"td#offer-{offer_id}-actions"})
    body = inline.get_data(as_text=True)
    assert "Yes, cancel the offer" in body and "<html" not in body  # just the question
    done = office.submit(f"/office/offers/{offer_id}/cancel", {"confirm": "y"},
                         page=f"/office/offers/{offer_id}/cancel", follow_redirects=True)
    assert "The offer is cancelled" in done.get_data(as_text=True)
    with db() as s:
        assert s.get(Offer, offer_id).state == "cancelled"


@pytest.mark.parametrize("action, box, status, refusal", [
    ("block", BLOCK, "blocked", "Nothing was blocked: tick the box to confirm."),
    ("end", END, "ended", "Nothing has ended: tick the box to confirm."),
])
def test_block_and_end_need_their_box_ticked(office, app, make, world, db, action, box,
                                             status, refusal):
    company, user = _portal_client(make, world)
    panel = f"/office/clients/{company.id}/collaboration"
    page = office.get(panel).get_data(as_text=True)
    assert f'name="{action}-confirm"' in page and "hx-confirm" not in page
    refused = office.submit(f"{panel}/{action}", page=panel)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert refusal in text and 'aria-invalid="true"' in text
    with db() as s:
        client = s.get(Client, company.id)
        assert client.status == "active" and client.purge_after is None
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("client.%ed"))) == 0
    portal = app.test_client()
    portal.login_client(user.email)
    assert portal.get(f"/c/{company.id}/").status_code == 200  # still in
    in_place = {"HX-Request": "true", "HX-Request-Type": "partial",
                "HX-Target": "div#collaboration_panel"}
    htmx = office.submit(f"{panel}/{action}", page=panel, headers=in_place)
    assert htmx.status_code == 422 and refusal in htmx.get_data(as_text=True)
    assert "<html" not in htmx.get_data(as_text=True)  # the panel alone, swapped in place
    done = office.submit(f"{panel}/{action}", box, page=panel, headers=in_place,
                         follow_redirects=True)
    assert done.status_code == 200 and "<html" not in done.get_data(as_text=True)
    with db() as s:
        assert s.get(Client, company.id).status == status


@pytest.mark.parametrize("frozen_clock", [(NEXT_MONTH, 15)], indirect=True,
                         ids=["the 15th of next month"])
def test_who_pays_is_changed_told_and_split_on_the_statement(frozen_clock, office, make, world,
                                                             db):
    plus = make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Zelfbetaler",
                       payer="client")
    make.client_user(world["practice"], plus, email="eigen@zelf.example")
    make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Nieuw Online",
                portal_since=frozen_clock.now - timedelta(days=3))
    panel = f"/office/clients/{world['korst'].id}/collaboration"
    office.submit(f"/office/clients/{world['korst'].id}/payer", {"payer": "client"},
                  page=panel)
    with db() as s:
        assert s.get(Client, world["korst"].id).payer == "client"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "client.payer_changed"))
    page = office.get("/office/billing").get_data(as_text=True)
    assert "Paid by the clients themselves" in page and "Zelfbetaler" in page
    assert "Free: in their first 30 days online" in page
    text = office.get("/office/billing.csv?payer=client").get_data(as_text=True)
    assert "Zelfbetaler" in text and "Nieuw Online" not in text


def _portal_client(make, world, name="Online B.V."):  # type: ignore[no-untyped-def]
    company = make.client(world["practice"], tiers.COLLABORATE_PLUS, name=name)
    slug = name.split()[0].lower()
    user = make.client_user(world["practice"], company, email=f"owner@{slug}.example")
    return company, user


def test_block_shuts_the_company_out_and_unblock_lets_it_back(office, app, make, world):
    company, user = _portal_client(make, world)
    portal = app.test_client()
    portal.login_client(user.email)
    assert portal.get(f"/c/{company.id}/").status_code == 200
    panel = f"/office/clients/{company.id}/collaboration"
    office.submit(f"/office/clients/{company.id}/collaboration/block", BLOCK, page=panel)
    assert portal.get(f"/c/{company.id}/").status_code == 404
    office.submit(f"/office/clients/{company.id}/collaboration/unblock", page=panel)
    assert portal.get(f"/c/{company.id}/").status_code == 200


def test_blocking_kills_the_links_of_shared_reports(office, app, make, world, db):
    company = make.client(world["practice"], tiers.COLLABORATE)
    version = make.report(make.engagement(company))
    share = make.share(version, company, "sanne@x.example")
    with db() as s:
        from portal.engagements.models import Signer

        signer = s.scalar(select(Signer).where(Signer.share_id == share.id))
    token = make.link(world["practice"], "approval", signer.email,
                      ("share_signers", signer.id))
    office.submit(f"/office/clients/{company.id}/collaboration/block", BLOCK,
                  page=f"/office/clients/{company.id}/collaboration")
    assert app.test_client().get(f"/l/{token}").status_code == 410


def test_the_client_leaves_with_its_password_and_keeps_reading(office, app, make, world, db):
    company, user = _portal_client(make, world)
    engagement = make.engagement(company)
    make.report(engagement)
    portal = app.test_client()
    portal.login_client(user.email)
    page = f"/c/{company.id}/collaboration"
    wrong = portal.submit(f"/c/{company.id}/leave", {"password": "not mine"}, page=page)
    assert wrong.status_code == 422 and "not your password" in wrong.get_data(as_text=True)
    from tests.factories import PASSWORD

    portal.submit(f"/c/{company.id}/leave", {"password": PASSWORD}, page=page)
    with db() as s:
        client = s.get(Client, company.id)
        assert client.status == "left" and client.purge_after is not None
        assert s.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "client_left")).recipient == "anna@demo.example"
    assert portal.get(f"/c/{company.id}/history").status_code == 200  # still readable
    card = f"/office/engagements/{engagement.id}"
    shared = office.submit(f"{card}/shares", {"mode": "view", "signers": [],
                                              "extra_emails": "x@online.example"}, page=card)
    assert shared.status_code == 422 and "nothing can be shared" in shared.get_data(
        as_text=True)


def test_an_export_holds_every_file_with_its_hash(office, app, make, world, db):
    company, _user = _portal_client(make, world)
    engagement = make.engagement(company)
    version = make.report(engagement, data=b"%PDF-1.4 het echte rapport %%EOF")
    document = make.document(company, data=b"datum;bedrag\n2025-01-31;1.234,56\n")
    office.submit(f"/office/clients/{company.id}/export",
                  page=f"/office/clients/{company.id}/collaboration")
    with app.app_context():
        assert exports.build_queued(portal_db.session,
                                    app.extensions["portal.storage"]) == 1
    with db() as s:
        export = s.scalar(select(ClientExport))
        assert export.state == "ready"
    download = office.get(f"/office/exports/{export.id}/download")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    report = next(e for e in manifest["files"] if e["path"].startswith("reports/"))
    assert report["sha256"] == version.sha256
    kept = next(e for e in manifest["files"] if e["path"].startswith("documents/2025/"))
    assert kept["sha256"] == document.sha256
    assert "index.html" in archive.namelist() and "approvals.json" in archive.namelist()


def _export_zip(office, app, db, company) -> zipfile.ZipFile:  # type: ignore[no-untyped-def]
    office.submit(f"/office/clients/{company.id}/export",
                  page=f"/office/clients/{company.id}/collaboration")
    with app.app_context():
        assert exports.build_queued(portal_db.session, app.extensions["portal.storage"]) == 1
    with db() as s:
        export = s.scalar(select(ClientExport).order_by(ClientExport.id.desc()))
        assert export.state == "ready", export.error
    return zipfile.ZipFile(io.BytesIO(office.get(f"/office/exports/{export.id}/download").data))


def test_the_export_index_shows_the_clients_data_in_dutch(office, app, make, world, db):
    from portal.audit import Actor
    from portal.engagements.models import Signer
    from portal.insights import service as insights
    from portal.questionnaires import service as questionnaires
    from portal.questionnaires.models import Answer, Assignment
    from portal.tenancy.models import Practice

    company = make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Bakkerij <Oven>")
    sanne = make.client_user(world["practice"], company, email="sanne@oven.example",
                             name="Sanne de Boer", locale="nl")  # the client reads Dutch
    engagement = make.engagement(company, year=2025)
    version = make.report(engagement, filename="jaarrekening-2025.pdf")
    share = make.share(version, company, sanne)
    document = make.document(company, name="bankafschrift maart.csv")
    actor = Actor(world["practice"].id, "staff", world["anna"].id, world["anna"].email)
    with app.app_context():
        session = portal_db.session
        signer = session.scalar(select(Signer).where(Signer.share_id == share.id))
        signer.decision, signer.decided_at = "approved", clock.now()
        signer.decided_by, signer.comment = "sanne@oven.example", "Akkoord <script>x</script>"
        session.commit()
        template = questionnaires.create_template(session, actor, "Aangifte IB 2025", None,
                                                  content={"sections": [{
            "key": "auto", "title": "Auto van de zaak", "intro": "", "questions": [
                {"key": "bought", "type": "yes_no", "label": "Heeft u een auto gekocht?",
                 "required": True},
                {"key": "price", "type": "amount", "label": "Wat was de aankoopprijs?",
                 "required": False}]}]})
        questionnaires.send(session, actor, session.get(Practice, world["practice"].id),
                            template, [company.id], deadline=None, message=None)
        assignment = session.scalar(select(Assignment).where(Assignment.client_id == company.id))
        session.add_all([
            Answer(assignment_id=assignment.id, question_key="bought", value="yes",
                   answered_by="Sanne de Boer"),
            Answer(assignment_id=assignment.id, question_key="price", value="34950.00",
                   answered_by="Sanne de Boer")])
        session.commit()
        check = insights.check_key_figures(
            {"WOmz": "125000", "WKpr": "40000", "BLim": "30000", "BEiv": "30000"},
            decimal_comma=False)
        assert check.ok, check.errors
        insights.save_key_figures(session, actor, session.get(Engagement, engagement.id),
                                  2025, check)

    archive = _export_zip(office, app, db, company)
    page = archive.read("index.html").decode()
    assert '<html lang="nl">' in page
    for dutch in ("Rapporten en besluiten", "Documenten", "Vragenlijsten", "Kerncijfers",
                  "Bestanden en vingerafdrukken", "Jaarrekening 2025", "Goedgekeurd",
                  "Klantnummer"):
        assert dutch in page, dutch
    assert "Bakkerij &lt;Oven&gt;" in page and "<Oven>" not in page  # user text escaped
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script" not in page
    assert "jaarrekening-2025.pdf" in page and "Sanne de Boer" in page
    assert "bankafschrift maart.csv" in page
    assert f'href="documents/2025/{document.id}-bankafschrift%20maart.csv"' in page
    assert "Heeft u een auto gekocht?" in page and "<td>ja</td>" in page
    assert "<td>€ 34.950,00</td>" in page  # the amount answered, the Dutch way
    assert "125.000,00" in page and "Winst-en-verliesrekening" in page
    assert "http://" not in page and "https://" not in page  # nothing from outside
    assert "<link" not in page and "src=" not in page
    # The manifest comes last, and still holds.
    assert page.rindex('id="files"') > page.rindex('id="key-figures"')
    manifest = json.loads(archive.read("manifest.json"))
    files = page[page.index('id="files"'):]
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert entry["sha256"] in files and entry["path"] in files


def test_the_export_index_reads_in_english_for_an_english_client(office, app, make, world,
                                                                   db):
    company, _user = _portal_client(make, world)  # nobody chose: the practice's English
    page = _export_zip(office, app, db, company).read("index.html").decode()
    assert '<html lang="en">' in page and "Reports and decisions" in page
    assert "No reports." in page and "No key figures." in page


def test_staff_who_are_not_admins_cannot_download_exports(client, make, world):
    joost = make.staff(world["practice"], "joost@demo.example", role="staff")
    client.login_staff(joost.email)
    assert client.get("/office/exports").status_code == 403


def _counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db() as s:
        return {name: s.scalar(select(func.count()).select_from(model)) for name, model in (
            ("clients", Client), ("engagements", Engagement), ("versions", ReportVersion),
            ("users", ClientUser), ("memberships", Membership))}


@pytest.mark.parametrize("frozen_clock", [None, (11, 15)], indirect=True,
                         ids=["today", "ended 15 November, deleted next year"])
def test_retention_deletes_everything_of_the_client_and_nothing_else(frozen_clock, office,
                                                                     app, make, world, db):
    company, _user = _portal_client(make, world)
    version = make.report(make.engagement(company))
    document = make.document(company)
    keep, _keeper = _portal_client(make, world, "Blijft B.V.")
    make.report(make.engagement(keep))
    panel = f"/office/clients/{company.id}/collaboration"
    office.submit(f"/office/clients/{company.id}/collaboration/end", END, page=panel)
    before = _counts(db)
    store = app.extensions["portal.storage"]
    frozen_clock.advance(days=90, minutes=-1)
    with app.app_context():
        assert retention.sweep(portal_db.session, store) == 0  # not yet
    frozen_clock.advance(minutes=2)
    with app.app_context():
        assert retention.sweep(portal_db.session, store) == 1
        assert retention.sweep(portal_db.session, store) == 0  # twice: no harm
    after = _counts(db)
    assert {k: before[k] - after[k] for k in before} == {
        "clients": 1, "engagements": 1, "versions": 1, "users": 1, "memberships": 1}
    assert not store.exists(version.storage_key) and not store.exists(document.storage_key)
    with db() as s:
        automatic = s.scalar(select(ClientExport).where(ClientExport.automatic.is_(True)))
        assert automatic.state == "ready" and store.exists(automatic.storage_key)
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "client.purged"))
        assert event.data["deleted"]["engagements"] == 1
        assert s.get(Client, keep.id) is not None


def test_dry_run_lists_what_would_go_and_deletes_nothing(office, app, make, world, db):
    from portal.cli import cli

    company, _user = _portal_client(make, world)
    office.submit(f"/office/clients/{company.id}/collaboration/end", END,
                  page=f"/office/clients/{company.id}/collaboration")
    result = app.test_cli_runner().invoke(cli, ["retention", "--dry-run"])
    assert result.exit_code == 0 and "Online B.V." in result.output
    assert "an export for the practice first" in result.output
    with db() as s:
        assert s.get(Client, company.id) is not None


def test_a_client_that_left_gets_no_automatic_export(frozen_clock, app, make, world, db):
    company, user = _portal_client(make, world)
    with app.app_context():
        from portal.collaboration import ending
        from portal.tenancy.models import Practice
        from tests.factories import PASSWORD

        ending.leave(portal_db.session, portal_db.session.get(Practice, world["practice"].id),
                     portal_db.session.get(ClientUser, user.id),
                     portal_db.session.get(Client, company.id), PASSWORD)
    frozen_clock.advance(days=91)
    with app.app_context():
        assert retention.sweep(portal_db.session, app.extensions["portal.storage"]) == 1
    with db() as s:
        assert s.scalar(select(func.count()).select_from(ClientExport)) == 0
        assert s.get(Client, company.id) is None
