"""Failed logins are throttled per address and per IP, with a friendly 429 page."""

from tests.factories import PASSWORD, Factory


def _world(app):
    make = Factory(app)
    practice = make.practice("demo")
    return make.staff(practice, "anna@demo.example")


def test_too_many_failures_for_one_address_get_a_friendly_429(app_with):
    app = app_with(LOGIN_LIMIT_PER_EMAIL="3 per 15 minutes")
    anna = _world(app)
    client = app.test_client()
    for _ in range(3):
        assert client.login_staff(anna.email, "wrong").status_code == 422
    response = client.login_staff(anna.email)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


def test_the_address_limit_does_not_lock_out_other_addresses(app_with):
    app = app_with(LOGIN_LIMIT_PER_EMAIL="3 per 15 minutes")
    _world(app)
    client = app.test_client()
    for _ in range(3):
        client.login_staff("anna@demo.example", "wrong")
    assert client.login_staff("someone@demo.example", "wrong").status_code == 422


def test_successful_logins_are_not_counted(app_with):
    app = app_with(LOGIN_LIMIT_PER_EMAIL="2 per 15 minutes")
    anna = _world(app)
    for _ in range(4):
        client = app.test_client()
        assert client.login_staff(anna.email, PASSWORD).status_code == 302


def test_many_failures_from_one_ip_are_throttled_across_addresses(app_with):
    app = app_with(LOGIN_LIMIT_PER_IP="4 per 15 minutes")
    _world(app)
    client = app.test_client()
    statuses = [client.login_staff(f"user{n}@demo.example", "wrong").status_code
                for n in range(5)]
    assert statuses == [422, 422, 422, 422, 429]
    elsewhere = app.test_client()
    response = elsewhere.login_staff("user9@demo.example", "wrong",
                                     environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 422
