"""Nothing of one practice is visible or usable from another practice's host."""

import pytest

from portal.clients import tiers


@pytest.fixture
def world(make):
    demo, other = make.practice("demo"), make.practice("other")
    return {
        "demo_staff": make.staff(demo, "anna@demo.example"),
        "other_staff": make.staff(other, "olga@other.example"),
        "other_client": make.client_user(
            other, make.client(other, tiers.COLLABORATE_PLUS), email="lotte@other.example"),
    }


def test_staff_of_another_practice_cannot_sign_in_here(client, world):
    assert client.login_staff(world["other_staff"].email).status_code == 422
    assert client.on("other.localhost").login_staff(world["other_staff"].email).status_code == 302


def test_client_user_of_another_practice_cannot_sign_in_here(client, world):
    assert client.login_client(world["other_client"].email).status_code == 422


def test_session_cookie_from_one_host_is_anonymous_on_the_other(app, client, world):
    client.on("other.localhost").login_staff(world["other_staff"].email)
    assert client.get("/office/").status_code == 200
    cookie = client.get_cookie("portal", domain="other.localhost").value

    visitor = app.test_client()
    visitor.set_cookie("portal", cookie, domain="demo.localhost")
    response = visitor.get("/office/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/office/login")


def test_same_address_at_two_practices_is_two_separate_accounts(client, make):
    demo, other = make.practice("demo"), make.practice("other")
    make.staff(demo, "shared@example.nl", password="demo password 1234")
    make.staff(other, "shared@example.nl", password="other password 1234")
    assert client.login_staff("shared@example.nl", "other password 1234").status_code == 422
    assert client.login_staff("shared@example.nl", "demo password 1234").status_code == 302
