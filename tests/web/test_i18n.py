"""Dutch by default, English available: the user's choice, else the practice's, else the
browser's."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_dutch_is_the_default(client, make):
    make.practice("demo", locale="nl")
    body = client.get("/office/login").get_data(as_text=True)
    assert '<html lang="nl">' in body and "Inloggen" in body


def test_every_page_describes_itself_as_the_practices_portal_in_its_language(client, make):
    make.practice("demo", name="Bakker & Visser", locale="nl")
    make.practice("other", name="Noordzee", locale="en")
    dutch = client.get("/office/login").get_data(as_text=True)
    assert '<meta name="description" content="Klantportaal van Bakker &amp; Visser">' in dutch
    english = client.on("other.localhost").get("/login").get_data(as_text=True)
    assert '<meta name="description" content="Client portal of Noordzee">' in english


def test_a_practice_may_speak_english_by_default(client, make):
    make.practice("demo", locale="en")
    assert "Sign in to the office" in client.get("/office/login").get_data(as_text=True)


def test_anonymous_visitor_chooses_english_for_this_session(client, make):
    make.practice("demo", locale="nl")
    response = client.submit("/language", {"locale": "en", "next": "/office/login"},
                             page="/office/login")
    assert response.headers["Location"] == "/office/login"
    assert '<html lang="en">' in client.get("/office/login").get_data(as_text=True)


def test_a_next_with_a_line_break_changes_the_language_and_goes_home(client, make):
    make.practice("demo", locale="nl")
    response = client.submit("/language", {"locale": "en", "next": "/login\r\nX: 1"},
                             page="/office/login")
    assert response.status_code in (302, 303) and "\n" not in response.headers["Location"]
    assert '<html lang="en">' in client.get("/office/login").get_data(as_text=True)


def test_a_users_choice_is_kept_on_the_account(app, client, make):
    practice = make.practice("demo", locale="nl")
    anna = make.staff(practice, "anna@demo.example")
    client.login_staff(anna.email)
    client.submit("/language", {"locale": "en", "next": "/office/"}, page="/office/")
    fresh = app.test_client()
    fresh.login_staff(anna.email)
    assert '<html lang="en">' in fresh.get("/office/").get_data(as_text=True)


def test_choice_of_language_is_limited_to_the_ones_we_have(client, make):
    make.practice("demo", locale="nl")
    client.submit("/language", {"locale": "xx"}, page="/office/login")
    assert '<html lang="nl">' in client.get("/office/login").get_data(as_text=True)


def test_browser_language_is_used_where_no_practice_decides(client, make):
    response = client.on("localhost").get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in response.get_data(as_text=True)
    response = client.on("localhost").get("/", headers={"Accept-Language": "nl-NL"})
    assert '<html lang="nl">' in response.get_data(as_text=True)


def test_every_ui_string_has_a_dutch_translation():
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2"),
                  ("templates/**.txt", "jinja2")]
    keywords = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None,
                "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    with open(ROOT / "portal/translations/nl/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    missing = sorted(m for m in found if not catalog.get(m) or not catalog.get(m).string
                     or catalog.get(m).fuzzy)
    assert missing == [], "run `make extract-messages` and translate these in nl/messages.po"
