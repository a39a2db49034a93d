"""Security headers on every response, cookies that stay on their host."""

import pytest


@pytest.fixture
def practice(make):
    return make.practice("demo")


@pytest.mark.parametrize("path", ["/login", "/office/login", "/theme.css", "/nowhere"])
def test_every_response_carries_the_security_headers(client, practice, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_no_hsts_over_plain_http(client, practice):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_https_deployment_sends_hsts_and_a_host_only_secure_cookie(app_with, make):
    app = app_with(HTTPS=True, SESSION_COOKIE_NAME="__Host-portal", SESSION_COOKIE_SECURE=True)
    from tests.factories import Factory

    Factory(app).practice("demo")
    client = app.test_client()
    response = client.get("/login", base_url="https://demo.localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-portal=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain=" not in cookie


def test_session_cookie_has_no_domain_attribute(client, practice):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain=" not in cookie


def test_pages_with_personal_data_are_not_cached(client, practice):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_templates_contain_no_inline_scripts_or_styles():
    import re
    from pathlib import Path

    offenders = []
    for path in Path("templates").rglob("*.html"):
        if path.parts[1] == "mail":
            continue  # mail HTML needs inline styles; no CSP applies in a mail client
        text = path.read_text()
        if path.name == "export_index.html":
            # The index inside a client's export ZIP is opened from disk, years later, with
            # nothing beside it: its style must be in the file. It has no script at all.
            assert "<script" not in text and not re.search(r"\son[a-z]+=\"", text)
            continue
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or "<style" in text \
                or re.search(r"\sstyle=\"", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(path))
    assert offenders == []
