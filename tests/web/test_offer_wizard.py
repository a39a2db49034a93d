"""The offer wizard as a browser fills it in: every field of the page it was given goes back
(hidden ones too, in page order), so a mistake corrected on any step must arrive corrected.
And what the offered tier gives is what its mail and pages say, and where its contact lands."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.accounts.models import ClientUser, Membership
from portal.clients import tiers
from portal.clients.models import Client
from portal.collaboration.models import Offer
from portal.notifications.models import OutboxMessage

PAGE = "/office/offers/new"
STRONG = "zonnebloem fietsbel koffiepot"


class _Form(HTMLParser):
    """The fields of the page's wizard form in document order, as a browser would send them
    (checked radios, selected options, every hidden input), and its named buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[list[str]] = []  # [name, value, type]
        self.buttons: dict[str, str] = {}
        self._in_form = False
        self._select: list[str] | None = None
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("action") == PAGE:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.fields.append([a["name"], a.get("value", ""), kind])
        elif tag == "button" and a.get("name"):
            self.buttons[a["value"]] = a["name"]
        elif tag == "select":
            self._select = [a["name"], "", "select"]
            self.fields.append(self._select)
            self._first = True
        elif tag == "option" and self._select is not None:
            if self._first or "selected" in a:
                self._select[1] = a.get("value", "")
            self._first = False
        elif tag == "textarea":
            self._textarea = [a["name"], "", "textarea"]
            self.fields.append(self._textarea)

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class Wizard:
    """Staff at the wizard: fill in visible fields, press Next (or another button)."""

    def __init__(self, office) -> None:  # type: ignore[no-untyped-def]
        self.office = office
        self.response = office.get(PAGE)
        assert self.response.status_code == 200

    @property
    def text(self) -> str:
        return self.response.get_data(as_text=True)

    def visible(self, name: str) -> str:
        """What the visible field of that name shows now."""
        form = self._form()
        values = [v for n, v, kind in form.fields if n == name and kind != "hidden"]
        assert values, f"no visible field {name} on this step"
        return values[0]

    def error(self, field_id: str) -> str | None:
        found = re.search(rf'<p class="field__error" id="{field_id}-error">([^<]*)</p>',
                          self.text)
        return unescape(found.group(1)) if found else None

    def _form(self) -> _Form:
        form = _Form()
        form.feed(self.text)
        return form

    def next(self, button: str | None = None, **typed: str):  # type: ignore[no-untyped-def]
        form = self._form()
        pairs = []
        for name, value, kind in form.fields:
            if kind != "hidden" and name in typed:  # hidden copies go back as they were
                value = typed[name]
            pairs.append((name, value))
        present = {name for name, _value, _kind in form.fields}
        pairs += [(name, value) for name, value in typed.items() if name not in present]
        if button:
            pairs.append((form.buttons[button], button))
        self.response = self.office.post(PAGE, data=MultiDict(pairs))
        return self.response


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser", reply_to="info@bakker.example")
    anna = make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    # Every client kept is online already: "a client we already keep" has none to choose.
    make.client(practice, tiers.COLLABORATE_PLUS, name="Al Online", client_number="1")
    return {"practice": practice, "anna": anna}


@pytest.fixture
def office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def test_a_mistake_on_each_step_is_corrected_there_and_the_correction_is_sent(office, db):
    wizard = Wizard(office)
    # Start: an existing client, but there is none to choose.
    assert wizard.next().status_code == 422
    assert wizard.error("client_id") == "Choose a client."
    wizard.next(which="new")
    assert "The new client" in wizard.text

    # The new client: a KvK number of letters.
    assert wizard.next(name="Slagerij Vers", client_number="2002",
                       kvk_number="abc").status_code == 422
    assert wizard.error("kvk_number") == "A KvK number has 8 digits."
    assert wizard.visible("kvk_number") == "abc"  # what was typed, to correct
    assert wizard.next(kvk_number="55667788").status_code == 200
    assert wizard.error("kvk_number") is None
    assert "The contact at Slagerij Vers" in wizard.text

    # Back to the client's step: it shows what was chosen, and a change there counts.
    wizard.next("client")
    assert (wizard.visible("name"), wizard.visible("kvk_number")) == ("Slagerij Vers",
                                                                      "55667788")
    wizard.next(name="Slagerij Verse Waar")
    assert "The contact at Slagerij Verse Waar" in wizard.text

    # The contact: the address typed twice, differently.
    assert wizard.next(contact_name="Piet Vers", email="piet@vers.example",
                       email_again="piet@vers.exampel").status_code == 422
    assert wizard.error("email_again") == "The two addresses differ."
    assert wizard.next(email_again="piet@vers.example").status_code == 200
    assert "Tier" in wizard.text

    # Tier and payer, then the check: the address is wrong after all.
    wizard.next(tier=tiers.COLLABORATE_PLUS, payer="client")
    assert "piet@vers.example" in wizard.text
    wizard.next("contact")
    assert wizard.visible("email") == "piet@vers.example"
    wizard.next(email="p.vers@vers.example", email_again="p.vers@vers.example")
    assert wizard.visible("tier") == tiers.COLLABORATE_PLUS  # chosen before, kept
    wizard.next()
    assert "p.vers@vers.example" in wizard.text and "piet@vers.example" not in wizard.text
    assert wizard.next().status_code == 303
    with db() as s:
        client = s.scalar(select(Client).where(Client.client_number == "2002"))
        offer = s.scalar(select(Offer))
    assert (client.name, client.kvk_number) == ("Slagerij Verse Waar", "55667788")
    assert (offer.email, offer.contact_name, offer.tier, offer.payer) == (
        "p.vers@vers.example", "Piet Vers", tiers.COLLABORATE_PLUS, "client")


def test_an_over_long_contact_name_is_refused_by_its_field_and_kept(office, db):
    wizard = Wizard(office)
    wizard.next(which="new")
    wizard.next(name="Slagerij Vers", client_number="2002")
    long_name = "P" * 5000
    response = wizard.next(contact_name=long_name, email="piet@vers.example",
                           email_again="piet@vers.example")
    assert response.status_code == 422
    assert wizard.error("contact_name") == "Field cannot be longer than 200 characters."
    assert wizard.visible("contact_name") == long_name
    with db() as s:
        assert s.scalar(select(Offer)) is None


def test_an_over_long_value_slipped_into_a_hidden_field_is_caught_before_sending(office, db):
    """What rides along in hidden fields is checked again by its step's rules on sending;
    the step comes back to correct it, nothing is saved."""
    carried = {"step": "send", "name": "Slagerij Vers", "client_number": "2002",
               "contact_name": "P" * 5000, "email": "piet@vers.example", "locale": "en",
               "tier": tiers.STANDARD, "payer": "practice"}
    response = office.submit(PAGE, carried, page=PAGE)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Field cannot be longer than 200 characters." in page
    assert "The new client" in page  # the first step whose rules it breaks
    with db() as s:
        assert s.scalar(select(Offer)) is None
        assert s.scalar(select(Client).where(Client.client_number == "2002")) is None


# --- what each tier is promised, and where its contact goes ---------------------------

def _send(office, tier: str) -> None:  # type: ignore[no-untyped-def]
    wizard = Wizard(office)
    wizard.next(which="new")
    wizard.next(name="Bakkerij De Korst", client_number="3003")
    wizard.next(contact_name="Sanne de Boer", email="sanne@korst.example",
                email_again="sanne@korst.example", locale="en")
    wizard.next(tier=tier, payer="practice")
    assert wizard.next().status_code == 303


def _mail(db, kind: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with db() as s:
        return s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "sanne@korst.example", OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())).first()


@pytest.mark.parametrize("tier", tiers.TIERS)
def test_the_offer_says_what_its_tier_gives_and_the_contact_lands_where_it_leads(
        tier, office, app, db):
    _send(office, tier)
    portal = tiers.has(tier, "portal")
    offered = _mail(db, "offer")
    link = re.search(r"http://demo\.localhost(/offer/\S+)", offered.text_body).group(1)
    browser = app.test_client()
    page = browser.get(link).get_data(as_text=True)
    for text in (offered.text_body, offered.html_body, page):
        assert ("with your own login" in text) is portal
        assert ("needs no login" in text) is not portal
        for feature, label in tiers.FEATURE_LABELS.items():
            assert (str(label) in unescape(text)) is tiers.has(tier, feature), (feature, tier)
    assert ("Choose a password" in page) is portal

    done = browser.submit(link, {"password": STRONG, "repeat": STRONG} if portal else {})
    assert done.status_code == 303
    landing = browser.get(done.headers["Location"])
    assert landing.status_code == 200  # never "page not found"
    text = landing.get_data(as_text=True)
    assert "Bakkerij De Korst" in text
    if portal:
        assert done.headers["Location"].startswith("/c/")
    else:
        assert done.headers["Location"] == "/offer/confirmed"
        assert "Online collaboration confirmed" in text and "nothing to sign in to" in text
        assert "For questions, contact Bakker &amp; Visser at info@bakker.example." in text
        assert app.test_client().get("/offer/confirmed").status_code == 404  # that browser only
        assert browser.get("/").status_code == 302  # no session was started
    confirmed = _mail(db, "offer_confirmed")
    assert ("Welcome to the portal" in confirmed.subject) is portal
    assert ("needs no login" in confirmed.text_body) is not portal
    assert ("Open the portal" in confirmed.html_body) is portal
    with db() as s:
        client = s.scalar(select(Client).where(Client.client_number == "3003"))
        user = s.scalar(select(ClientUser).where(ClientUser.email == "sanne@korst.example"))
        assert client.tier == tier and client.contact_email == "sanne@korst.example"
        assert (user.password_hash is not None) is portal  # a login only where there is one
        assert s.scalar(select(Membership.role).where(Membership.client_id == client.id)) \
            == "owner"
