"""Friendly, themed, translated error pages; htmx gets a small fragment instead."""

import pytest


@pytest.fixture
def practice(make):
    return make.practice("demo", name="Bakker & Visser", locale="en")


def test_404_is_a_themed_page_with_the_practice_name(client, practice):
    response = client.get("/does-not-exist")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in body and "Bakker &amp; Visser" in body
    assert "/theme.css" in body


def test_404_to_htmx_is_a_fragment_aimed_at_the_message_region(client, practice):
    response = client.get("/does-not-exist", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" not in body and "Page not found" in body
    assert response.headers["HX-Retarget"] == "#flash"
    assert "HX-Request" in response.headers["Vary"]


def test_405_names_the_allowed_methods(client, practice):
    response = client.get("/logout")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST" or "POST" in response.headers["Allow"]
    assert "Not possible this way" in response.get_data(as_text=True)


def test_413_for_a_request_larger_than_allowed(app_with):
    from tests.factories import Factory

    app = app_with(MAX_CONTENT_LENGTH=1024)
    Factory(app).practice("demo")
    client = app.test_client()
    response = client.post("/login", data={"email": "x" * 4096})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_500_is_a_friendly_page_without_a_stack_trace(app_with, caplog):
    from portal import access
    from tests.factories import Factory

    app = app_with(PROPAGATE_EXCEPTIONS=False)
    Factory(app).practice("demo")

    @app.get("/boom")
    @access.public
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "secret internals" not in body and "Traceback" not in body
    assert "secret internals" in caplog.text  # but the log has it for us


def test_unknown_host_404_uses_the_default_theme(client, practice):
    body = client.on("nobody.localhost").get("/").get_data(as_text=True)
    assert "Bakker" not in body and "/theme.css" in body
    assert client.on("nobody.localhost").get("/theme.css").status_code == 200
