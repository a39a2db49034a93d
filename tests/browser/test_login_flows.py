"""Staff and client sign in and out in a real browser, with JavaScript on and off."""

import pytest

from portal.clients import tiers

pytestmark = pytest.mark.browser


@pytest.fixture
def world(make):
    demo = make.practice("demo", name="Bakker & Visser", brand_color="#1d4f7a",
                         welcome_text="Welkom bij Bakker & Visser.")
    korst = make.client(demo, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    dijk = make.client(demo, tiers.COLLABORATE_PLUS, name="Van Dijk Installatie")
    jansen = make.client(demo, tiers.COLLABORATE, name="Fietsenmaker Jansen")
    return {
        "anna": make.staff(demo, "anna@demo.example", name="Anna Bakker", role="admin"),
        "sanne": make.client_user(demo, korst, dijk, jansen, email="sanne@korst.example",
                                  name="Sanne de Boer"),
    }


def _sign_in(page, email: str) -> None:
    from tests.factories import PASSWORD

    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_signs_in_and_out(page, live, world, accessible):
    page.goto(live.url("/office/"))
    assert page.url == live.url("/office/login?next=/office/")
    accessible(page)
    _sign_in(page, "anna@demo.example")
    page.wait_for_url(live.url("/office/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Good to see you, Anna Bakker"
    accessible(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live.url("/office/login"))
    assert page.get_by_role("status").inner_text() == "You are signed out."
    page.goto(live.url("/office/"))
    assert page.url.startswith(live.url("/office/login"))


def test_client_signs_in_sees_only_portal_companies_and_signs_out(page, live, world, accessible):
    page.goto(live.url("/"))
    assert page.url.startswith(live.url("/login"))
    assert page.get_by_text("Welkom bij Bakker & Visser.").is_visible()
    accessible(page)
    _sign_in(page, "sanne@korst.example")
    page.wait_for_url(live.url("/"))
    companies = page.locator(".card-list .card__title").all_inner_texts()
    assert companies == ["Bakkerij De Korst", "Van Dijk Installatie"]
    accessible(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live.url("/login"))


def test_wrong_password_keeps_the_address_and_says_what_is_wrong(page, live, world, accessible):
    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "do not match an account here" in alert.inner_text()
    assert page.get_by_label("E-mail address").input_value() == "anna@demo.example"
    assert page.get_by_label("Password").input_value() == ""
    accessible(page)


def test_language_switch_to_dutch_and_back(page, live, world, accessible):
    page.goto(live.url("/office/login"))
    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Change").click()
    page.wait_for_url(live.url("/office/login"))
    assert page.get_by_role("heading", level=1).inner_text() == "Inloggen bij het kantoor"
    assert page.locator("html").get_attribute("lang") == "nl"
    accessible(page)
    page.get_by_label("Taal").select_option("en")
    page.get_by_role("button", name="Wijzigen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the office"
