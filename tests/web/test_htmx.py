"""One template per page: htmx asks for the block it swaps, by the target element's id."""

import pytest


@pytest.fixture
def anna(make):
    practice = make.practice("demo", locale="en")
    return make.staff(practice, "anna@demo.example")


HTMX = {"HX-Request": "true", "HX-Target": "form#login_form", "HX-Request-Type": "partial"}


def test_invalid_login_to_htmx_answers_422_with_only_the_form(client, anna):
    response = client.submit("/office/login", {"email": anna.email, "password": "wrong"},
                             headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="login_form"')
    assert "<html" not in body
    assert 'value="anna@demo.example"' in body and "do not match" in body
    assert {"HX-Request", "HX-Target"} <= set(response.headers["Vary"].replace(" ", "").split(","))


def test_same_page_without_htmx_is_the_whole_page(client, anna):
    response = client.submit("/office/login", {"email": anna.email, "password": "wrong"})
    assert "<html" in response.get_data(as_text=True)


def test_full_page_htmx_request_gets_the_whole_page(client, anna):
    headers = {"HX-Request": "true", "HX-Target": "body", "HX-Request-Type": "full"}
    assert "<html" in client.get("/office/login", headers=headers).get_data(as_text=True)


def test_unknown_target_gets_the_whole_page(client, anna):
    headers = {**HTMX, "HX-Target": "div#no_such_block"}
    assert "<html" in client.get("/office/login", headers=headers).get_data(as_text=True)
