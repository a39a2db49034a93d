"""Admins set the practice's name, house style, texts, reminder moments, mail sender, logo
and custom domains at /office/settings; every rule refuses with a message beside the field
and every change is audited."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.tenancy.models import CustomDomain, Practice

HTMX_FORM = {"HX-Request": "true", "HX-Target": "form#settings_form"}
HTMX_DOMAINS = {"HX-Request": "true", "HX-Target": "div#domains_panel"}


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny) PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x1d\x4f\x7a" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture
def demo(make):  # type: ignore[no-untyped-def]
    return make.practice("demo", name="Bakker & Visser")


@pytest.fixture
def admin(client, make, demo):  # type: ignore[no-untyped-def]
    user = make.staff(demo, "anna@demo.example", role="admin")
    client.login_staff(user.email)
    return user


def settings(**changes: str) -> dict[str, str]:
    values = {"name": "Bakker & Visser Accountants", "locale": "en", "theme": "default",
              "brand_color": "", "accent_color": "", "background_color": "",
              "welcome_text": "", "reminder_text": "", "reminder_days": "-7, -2, 1",
              "mail_sender_name": "", "reply_to": ""}
    return {**values, **changes}


def save(client, **changes: str):  # type: ignore[no-untyped-def]
    return client.submit("/office/settings", settings(**changes))


def practice(db) -> Practice:  # type: ignore[no-untyped-def]
    with db() as s:
        return s.scalar(select(Practice).where(Practice.slug == "demo"))


def events(db, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with db() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- the settings form ------------------------------------------------------------------

def test_admin_sees_the_practices_settings(client, admin):
    page = client.get("/office/settings").get_data(as_text=True)
    assert 'value="Bakker &amp; Visser"' in page
    assert 'value="-7, -2, 1"' in page
    assert '<option selected value="default">' in page or 'value="default" selected' in page
    assert 'aria-current="page"' in page and ">Settings<" in page


def test_saving_changes_everything_typed_and_audits_old_and_new(client, admin, db):
    response = save(client, name="Bakker & Visser Accountants", locale="nl", theme="harbour",
                    brand_color="#123456", accent_color="9C4A00", background_color="#FFFFFF",
                    welcome_text="Welkom!", reminder_text="Beste {client}, zie {link}.",
                    reminder_days="1, -14,-3", mail_sender_name="B&V",
                    reply_to="info@bakkervisser.example")
    assert response.status_code == 303 and response.headers["Location"] == "/office/settings"
    stored = practice(db)
    assert (stored.name, stored.locale, stored.theme) == ("Bakker & Visser Accountants", "nl",
                                                          "harbour")
    assert (stored.brand_color, stored.accent_color, stored.background_color) == (
        "#123456", "#9c4a00", "#ffffff")
    assert stored.reminder_days == [-14, -3, 1]
    assert (stored.welcome_text, stored.reminder_text) == ("Welkom!",
                                                           "Beste {client}, zie {link}.")
    assert (stored.mail_sender_name, stored.reply_to) == ("B&V", "info@bakkervisser.example")
    [event] = events(db, "practice.settings_changed")
    assert event.actor_label == "anna@demo.example" and event.subject_id == stored.id
    assert event.data["changes"]["name"] == {"old": "Bakker & Visser",
                                             "new": "Bakker & Visser Accountants"}
    assert event.data["changes"]["reminder_days"] == {"old": [-7, -2, 1], "new": [-14, -3, 1]}
    assert "welcome_text" in event.data["changes"] and "logo" not in event.data["changes"]
    assert "#123456" in client.get("/theme.css").get_data(as_text=True)


def test_saving_without_changes_records_nothing(client, admin, db):
    save(client, name="Bakker & Visser")
    assert "Nothing was changed" in client.get("/office/settings").get_data(as_text=True)
    assert events(db, "practice.settings_changed") == []


def test_a_brand_colour_unreadable_on_the_page_is_refused_with_its_ratio(client, admin, db):
    response = save(client, brand_color="#777777", name="Typed name")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Contrast 4.4:1 is too low; at least 4.5:1 is needed." in page
    assert 'value="#777777"' in page and 'value="Typed name"' in page  # nothing typed is lost
    assert practice(db).brand_color is None and practice(db).name == "Bakker & Visser"
    assert save(client, brand_color="#767676").status_code == 303  # 4.54:1 is enough


def test_a_pale_brand_colour_is_refused(client, admin):
    page = save(client, brand_color="#f5d76e").get_data(as_text=True)
    assert "Contrast 1.4:1 is too low" in page


def test_a_background_the_text_cannot_be_read_on_is_refused(client, admin, db):
    page = save(client, background_color="#5a6b7c").get_data(as_text=True)
    assert "Contrast 1.2:1 is too low; at least 4.5:1 is needed." in page
    assert 'id="background_color-error"' in page and 'aria-invalid="true"' in page
    assert practice(db).background_color is None


def test_a_background_is_checked_against_the_lighter_text_too(client, admin, db):
    # The theme's text reads well on light grey (8.6:1); its muted grey does not.
    page = save(client, background_color="#c0c0c0").get_data(as_text=True)
    assert "Contrast 3.8:1 is too low" in page
    assert save(client, background_color="#e0e0e0").status_code == 303
    assert practice(db).background_color == "#e0e0e0"


def test_a_colour_must_be_six_hex_digits(client, admin):
    response = save(client, accent_color="red")
    assert response.status_code == 422
    assert "# and six hexadecimal digits" in response.get_data(as_text=True)


def test_htmx_gets_only_the_form_back_with_the_errors(client, admin):
    response = client.submit("/office/settings", settings(brand_color="#f5d76e"),
                             page="/office/settings", headers=HTMX_FORM)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="settings_form"') and "<html" not in body
    assert "Contrast 1.4:1 is too low" in body


def test_unknown_placeholders_in_the_reminder_text_are_refused(client, admin, db):
    page = save(client, reminder_text="Beste {klant}, de deadline is {deadline} {datum}."
                ).get_data(as_text=True)
    assert ("Unknown placeholder {datum}, {klant}. You can use {client}, {task}, {deadline}, "
            "{link}.") in page
    assert "Beste {klant}, de deadline is {deadline} {datum}." in page
    assert practice(db).reminder_text is None


@pytest.mark.parametrize(("typed", "message"), [
    ("-7, two, 1", "Type whole numbers with commas between them"),
    ("-90, 1", "between -60 and 60 days; -90 is not"),
    ("", "Give at least one moment"),
])
def test_reminder_moments_are_whole_days_within_two_months(client, admin, db, typed, message):
    response = save(client, reminder_days=typed)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert practice(db).reminder_days == [-7, -2, 1]


def test_reply_to_must_be_an_address(client, admin):
    response = save(client, reply_to="not an address")
    assert response.status_code == 422


def test_theme_must_be_one_of_the_themes(client, admin):
    assert save(client, theme="../../etc").status_code == 422


# --- logo -------------------------------------------------------------------------------

def upload(client, data: bytes, filename: str = "logo.png", **kwargs):  # type: ignore[no-untyped-def]
    return client.submit("/office/settings/logo", {"logo": (io.BytesIO(data), filename)},
                         page="/office/settings", content_type="multipart/form-data",
                         **kwargs)


def test_a_png_logo_is_stored_served_and_audited_without_its_bytes(client, admin, db):
    image = png()
    response = upload(client, image)
    assert response.status_code == 303
    stored = practice(db)
    assert stored.logo_type == "image/png"
    assert stored.logo_hash == hashlib.sha256(image).hexdigest()
    served = client.get("/brand/logo")
    assert served.data == image and served.mimetype == "image/png"
    assert "The new logo is in place." in client.get("/office/settings").get_data(as_text=True)
    [event] = events(db, "practice.logo_changed")
    assert event.data == {"type": "image/png", "size": len(image), "old_hash": None,
                          "new_hash": stored.logo_hash}


def test_the_type_is_judged_by_content_not_by_name(client, admin, db):
    response = upload(client, b"GIF89a" + b"\x00" * 100, filename="logo.png")
    assert response.status_code == 422
    assert "This file is not a PNG, JPEG or WebP image." in response.get_data(as_text=True)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert upload(client, svg, filename="logo.svg").status_code == 422
    assert practice(db).logo_hash is None


def test_jpeg_and_webp_logos_are_accepted(client, admin, db):
    assert upload(client, b"\xff\xd8\xff\xe0" + b"\x00" * 64, "logo.jpg").status_code == 303
    assert practice(db).logo_type == "image/jpeg"
    webp = b"RIFF" + struct.pack("<I", 64) + b"WEBPVP8 " + b"\x00" * 60
    assert upload(client, webp, "logo.webp").status_code == 303
    assert practice(db).logo_type == "image/webp"


def test_a_logo_larger_than_512_kb_is_refused(client, admin, db):
    image = png() + b"\x00" * (512 * 1024)
    response = upload(client, image)
    assert response.status_code == 422
    assert "larger than 512 KB" in response.get_data(as_text=True)
    assert practice(db).logo_hash is None


def test_uploading_without_a_file_asks_for_one(client, admin):
    response = client.submit("/office/settings/logo", {}, page="/office/settings")
    assert response.status_code == 422 and "Choose an image file." in response.get_data(
        as_text=True)


def test_the_logo_can_be_removed(client, admin, db):
    upload(client, png())
    response = client.submit("/office/settings/logo/remove", page="/office/settings")
    assert response.status_code == 303
    stored = practice(db)
    assert (stored.logo_hash, stored.logo_type) == (None, None)
    assert client.get("/brand/logo").status_code == 404
    [event] = events(db, "practice.logo_removed")
    assert event.data["old_hash"] and "logo" not in event.data


# --- custom domains ---------------------------------------------------------------------

def add_domain(client, host: str, **kwargs):  # type: ignore[no-untyped-def]
    return client.submit("/office/settings/domains", {"host": host}, page="/office/settings",
                         **kwargs)


def test_a_custom_domain_serves_the_practice_once_added(client, admin, db):
    assert client.on("portaal.bakkervisser.nl").get("/office/login").status_code == 404
    response = add_domain(client.on("demo.localhost"), " Portaal.BakkerVisser.nl. ")
    assert response.status_code == 303
    page = client.get("/office/settings").get_data(as_text=True)
    assert "portaal.bakkervisser.nl" in page
    served = client.on("portaal.bakkervisser.nl").get("/office/login")
    assert served.status_code == 200 and "Bakker &amp; Visser" in served.get_data(as_text=True)
    [event] = events(db, "practice.domain_added")
    assert event.data == {"host": "portaal.bakkervisser.nl"}


def test_a_host_of_another_practice_is_refused_with_a_clear_message(client, admin, make, db):
    make.domain(make.practice("other"), "portaal.noordzee.nl")
    response = add_domain(client, "portaal.noordzee.nl")
    assert response.status_code == 422
    assert "already in use by another practice" in response.get_data(as_text=True)
    add_domain(client, "portaal.bakkervisser.nl")
    again = add_domain(client, "portaal.bakkervisser.nl").get_data(as_text=True)
    assert "already one of your domains" in again
    with db() as s:
        assert len(s.scalars(select(CustomDomain)).all()) == 2


@pytest.mark.parametrize(("host", "message"), [
    ("klant.localhost", "Addresses under localhost are the portal"),
    ("localhost", "Addresses under localhost are the portal"),
    ("intranet", "Type a host name such as"),
    ("192.168.1.10", "Type a host name such as"),
    ("portaal.bakker_visser.nl", "Type a host name such as"),
    ("-portaal.example.nl", "Type a host name such as"),
    ("https://portaal.example.nl/", "Type a host name such as"),
    ("portaal.example.nl:8443", "Type a host name such as"),
])
def test_only_real_host_names_outside_the_base_domain_are_taken(client, admin, host, message):
    response = add_domain(client, host)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_adding_a_domain_with_htmx_swaps_the_domain_panel(client, admin):
    response = add_domain(client, "portaal.bakkervisser.nl", headers=HTMX_DOMAINS,
                          follow_redirects=True)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="domains_panel">')
    assert "portaal.bakkervisser.nl" in body and 'hx-swap-oob="true"' in body
    refused = add_domain(client, "intranet", headers=HTMX_DOMAINS)
    assert refused.status_code == 422
    assert refused.get_data(as_text=True).lstrip().startswith('<div id="domains_panel">')


def test_a_removed_domain_no_longer_serves_the_practice(client, admin, make, demo, db):
    domain = make.domain(demo, "portaal.bakkervisser.nl")
    response = client.submit(f"/office/settings/domains/{domain.id}/remove",
                             page="/office/settings")
    assert response.status_code == 303
    assert client.on("portaal.bakkervisser.nl").get("/office/login").status_code == 404
    [event] = events(db, "practice.domain_removed")
    assert event.data == {"host": "portaal.bakkervisser.nl"}


def test_another_practices_domain_cannot_be_removed(client, admin, make, db):
    theirs = make.domain(make.practice("other"), "portaal.noordzee.nl")
    response = client.submit(f"/office/settings/domains/{theirs.id}/remove",
                             page="/office/settings")
    assert response.status_code == 404
    with db() as s:
        assert s.get(CustomDomain, theirs.id) is not None


def test_staff_who_are_not_admins_cannot_change_settings(client, make, demo, db):
    joost = make.staff(demo, "joost@demo.example", role="staff")
    client.login_staff(joost.email)
    assert client.get("/office/settings").status_code == 403
    token = client.csrf_token("/office/")
    response = client.post("/office/settings", data={"csrf_token": token, **settings()})
    assert response.status_code == 403
    assert practice(db).name == "Bakker & Visser"
