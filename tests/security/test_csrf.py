"""CSRF: every unsafe request needs the session's token and must come from this host."""

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def anna(make):
    practice = make.practice("demo")
    return make.staff(practice, "anna@demo.example")


def test_post_without_token_is_refused_with_a_friendly_page(client, anna):
    response = client.post("/office/login", data={"email": anna.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)


def test_token_of_another_session_is_refused(app, client, anna):
    other = app.test_client()
    token = other.csrf_token("/office/login")
    response = client.post("/office/login", data={"email": anna.email, "password": PASSWORD,
                                                  "csrf_token": token})
    assert response.status_code == 400


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_post_sent_by_another_site_or_practice_subdomain_is_refused(client, anna, site):
    token = client.csrf_token("/office/login")
    response = client.post("/office/login",
                           data={"email": anna.email, "password": PASSWORD, "csrf_token": token},
                           headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403


def test_same_origin_post_is_accepted(client, anna):
    token = client.csrf_token("/office/login")
    response = client.post("/office/login",
                           data={"email": anna.email, "password": PASSWORD, "csrf_token": token},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 302


def test_htmx_sends_the_token_as_a_header(client, anna):
    client.login_staff(anna.email)
    token = client.csrf_token("/office/")
    response = client.post("/logout", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302
