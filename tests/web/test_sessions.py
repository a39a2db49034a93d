"""Sessions are revocable: a copied cookie is worthless after logout, and they expire."""

from datetime import timedelta

import pytest

from portal import clock
from portal import db as portal_db
from portal.accounts import service


@pytest.fixture
def anna(make):
    practice = make.practice()
    return make.staff(practice, "anna@demo.example")


def _cookie(client):
    return client.get_cookie("portal", domain="demo.localhost").value


def test_a_copy_of_the_cookie_is_anonymous_after_logout(app, client, anna):
    client.login_staff(anna.email)
    stolen = _cookie(client)
    client.post("/logout", data={"csrf_token": client.csrf_token("/office/")})

    thief = app.test_client()
    thief.set_cookie("portal", stolen, domain="demo.localhost")
    assert thief.get("/office/").status_code == 302


def test_ending_sessions_signs_out_every_device(app, client, anna):
    client.login_staff(anna.email)
    with app.app_context():
        service.end_sessions(portal_db.session, anna)
    assert client.get("/office/").status_code == 302


def test_session_expires_after_the_idle_time(app, client, anna):
    start = clock.now()
    clock.freeze(start)
    client.login_staff(anna.email)
    almost_idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    clock.freeze(start + almost_idle)
    assert client.get("/office/").status_code == 200
    clock.freeze(start + 2 * almost_idle)
    assert client.get("/office/").status_code == 200  # activity kept it alive
    clock.freeze(start + 2 * almost_idle + timedelta(minutes=app.config[
        "SESSION_IDLE_MINUTES"]))
    assert client.get("/office/").status_code == 302


def test_session_ends_after_the_absolute_lifetime_even_when_active(app, client, anna):
    start = clock.now()
    clock.freeze(start)
    client.login_staff(anna.email)
    hours = app.config["SESSION_MAX_HOURS"]
    for step in range(1, hours * 2 + 1):  # active every half hour
        clock.freeze(start + timedelta(minutes=30 * step))
        status = client.get("/office/").status_code
    assert status == 302


def test_login_starts_a_new_session(client, anna):
    before = client.csrf_token("/office/login")
    client.login_staff(anna.email)
    after = client.csrf_token("/office/")
    assert before != after
