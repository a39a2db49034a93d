"""The practice's own logo, colours and reminder text are a feature of the "Samenwerken
Uitgebreid" tier (the seeds' table): a client of "Samenwerken" gets mails and link pages in
the portal's own look, with the practice's name, and the standard reminder text."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.clients import tiers
from portal.notifications.models import OutboxMessage
from tests.web.test_approvals import PDF, _engagement, _link_for, _open, _share, _upload

BRAND = "#8a2be2"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser", brand_color=BRAND,
                             logo=PNG, logo_type="image/png", logo_hash="ab" * 32,
                             reminder_text="Beste {client}, vergeet {task} niet: {link}")
    return {"practice": practice,
            "anna": make.staff(practice, "anna@demo.example", role="admin", name="Anna")}


def _office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def _shared_mail(db, address: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with db() as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)
                         .order_by(OutboxMessage.id.desc())).first()


def test_a_collaborate_client_sees_the_portals_own_look_with_the_practices_name(
        client, make, world, app, db):
    office = _office(client, world)
    engagement, users = _engagement(make, world, tiers.COLLABORATE)
    _upload(office, engagement)
    _share(office, engagement, users)
    mail = _shared_mail(db, users[0].email)
    assert "Bakker &amp; Visser" in mail.html_body
    assert BRAND not in mail.html_body and "/brand/logo" not in mail.html_body

    link = _link_for(db, users[0].email)
    browser = app.test_client()
    confirm = browser.get(link).get_data(as_text=True)
    assert "brand__logo" not in confirm and "Bakker &amp; Visser" in confirm
    stylesheet = re.search(r'href="(/theme\.css\?[^"]+)"', confirm).group(1)
    assert "plain=1" in stylesheet
    assert BRAND not in browser.get(stylesheet.replace("&amp;", "&")).get_data(as_text=True)
    browser, task = _open(app, link)
    page = browser.get(task).get_data(as_text=True)
    assert "brand__logo" not in page and "plain=1" in page
    assert browser.get(task + "/report.pdf").data == PDF


def test_an_extended_client_sees_the_practices_house_style(client, make, world, app, db):
    office = _office(client, world)
    engagement, users = _engagement(make, world, tiers.COLLABORATE_PLUS)
    _upload(office, engagement)
    _share(office, engagement, users)
    mail = _shared_mail(db, users[0].email)
    assert BRAND in mail.html_body and "/brand/logo" in mail.html_body
    portal = app.test_client()
    portal.login_client(users[0].email)
    home = portal.get("/", follow_redirects=True).get_data(as_text=True)
    assert "brand__logo" in home and "plain=1" not in home
    stylesheet = re.search(r'href="(/theme\.css\?[^"]+)"', home).group(1)
    assert BRAND in portal.get(stylesheet.replace("&amp;", "&")).get_data(as_text=True)


def test_the_practices_own_reminder_text_goes_to_extended_clients_only(
        client, make, world, app, db):
    from portal import db as portal_db
    from portal.notifications import reminders

    office = _office(client, world)
    def company(tier: str, email: str):  # type: ignore[no-untyped-def]
        firm = make.client(world["practice"], tier, name=f"Firma {tier}")
        user = make.client_user(world["practice"], firm, email=email, role="owner")
        return make.engagement(firm, responsible_id=world["anna"].id), [user]

    plain, plain_users = company(tiers.COLLABORATE, "plain@korst.example")
    styled, styled_users = company(tiers.COLLABORATE_PLUS, "styled@korst.example")
    for engagement, users in ((plain, plain_users), (styled, styled_users)):
        _upload(office, engagement)
        _share(office, engagement, users, days=3)
    # The morning of "2 days before": tomorrow at 09:00 in Amsterdam.
    clock.freeze(datetime.combine(clock.today() + timedelta(days=1), time(9, 1),
                                  clock.AMSTERDAM))
    with app.app_context():
        reminders.sweep(portal_db.session, app.extensions["portal.reminder_composers"],
                        tiers=app.config["REMINDER_TIERS"])
    with db() as s:
        sent = {m.recipient: m for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "reminder"))}
    assert "vergeet" not in sent[plain_users[0].email].text_body
    assert "A friendly reminder" in sent[plain_users[0].email].text_body  # the standard text
    assert "vergeet" in sent[styled_users[0].email].text_body
    assert BRAND in sent[styled_users[0].email].html_body
    assert BRAND not in sent[plain_users[0].email].html_body


@pytest.mark.parametrize(("tier", "styled"), [(tiers.COLLABORATE, False),
                                              (tiers.COLLABORATE_PLUS, True)])
def test_an_offer_comes_in_the_look_of_the_tier_offered(client, make, world, db, tier,
                                                        styled):
    from tests.web.test_collaboration import _offer

    office = _office(client, world)
    firm = make.client(world["practice"], tiers.STANDARD, name="Bakkerij De Korst")
    assert _offer(office, client_id=firm.id, tier=tier).status_code in (302, 303)
    mail = _shared_mail(db, "sanne@korst.example")
    assert mail.kind == "offer"
    assert (BRAND in mail.html_body) is styled
    assert ("/brand/logo" in mail.html_body) is styled
