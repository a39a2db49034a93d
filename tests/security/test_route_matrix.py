"""Every route x every kind of actor: who gets the page, who is sent to log in, who gets 404.

A route that is not in ROUTES fails the suite: add its row when you add the route.
Outcomes: OK (served: 2xx, 304, 422, or a redirect that is not to a login page),
LOGIN (redirect to a login page), or the status code a refusal must have (403, 404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from portal.clients import tiers

OK, LOGIN = "ok", "login"
ACTORS = ("anonymous", "staff", "admin", "client", "other_staff", "other_client")


@dataclass
class Route:
    endpoint: str
    method: str
    path: Callable[[dict[str, Any]], str] | str
    expect: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)


def everyone(outcome: Any) -> dict[str, Any]:
    return dict.fromkeys(ACTORS, outcome)


def staff_only(admin_only: bool = False) -> dict[str, Any]:
    # Other practices' users arrive here anonymous: their cookie means nothing on this host.
    return {"anonymous": LOGIN, "staff": 403 if admin_only else OK, "admin": OK,
            "client": 404, "other_staff": LOGIN, "other_client": LOGIN}


def client_only() -> dict[str, Any]:
    return {"anonymous": LOGIN, "staff": 404, "admin": 404, "client": OK,
            "other_staff": LOGIN, "other_client": LOGIN}


ROUTES = [
    Route("tenancy.stylesheet", "GET", "/theme.css", everyone(OK)),
    Route("tenancy.logo", "GET", "/brand/logo", everyone(OK)),
    Route("tenancy.health", "GET", "/healthz", everyone(OK)),
    Route("accounts.staff_login", "GET", "/office/login", everyone(OK)),
    Route("accounts.staff_login", "POST", "/office/login", everyone(OK),
          {"email": "x@example.nl", "password": "wrong"}),
    Route("accounts.client_login", "GET", "/login", everyone(OK)),
    Route("accounts.client_login", "POST", "/login", everyone(OK),
          {"email": "x@example.nl", "password": "wrong"}),
    Route("accounts.logout", "POST", "/logout", everyone(LOGIN)),
    Route("accounts.set_language", "POST", "/language", everyone(OK), {"locale": "en"}),
    Route("home.index", "GET", "/", client_only()),
    Route("clients.office_home", "GET", "/office/", staff_only()),
    Route("notifications.office_mail", "GET", "/office/mail", staff_only(admin_only=True)),
    Route("notifications.send_again", "POST",
          lambda w: f"/office/mail/{w['mail'].id}/send-again", staff_only(admin_only=True)),
    # development only: not served unless the app runs in debug mode
    Route("notifications.dev_mail", "GET", "/dev/mail", everyone(404)),
    Route("notifications.dev_mail_html", "GET", "/dev/mail/p1-x", everyone(404)),
]


@pytest.fixture
def world(make):
    demo = make.practice("demo", logo=b"\x89PNG", logo_type="image/png", logo_hash="c" * 64)
    other = make.practice("other")
    company = make.client(demo, tiers.COLLABORATE_PLUS)
    other_company = make.client(other, tiers.COLLABORATE_PLUS)
    return {
        "demo": demo,
        "company": company,
        "mail": make.outbox(demo, state="failed"),
        "users": {
            "staff": ("staff", make.staff(demo, role="staff"), "demo"),
            "admin": ("staff", make.staff(demo, role="admin"), "demo"),
            "client": ("client", make.client_user(demo, company), "demo"),
            "other_staff": ("staff", make.staff(other, role="admin"), "other"),
            "other_client": ("client", make.client_user(other, other_company), "other"),
        },
    }


def _client_as(app, world, actor):
    client = app.test_client()
    if actor == "anonymous":
        return client
    kind, user, slug = world["users"][actor]
    client.on(f"{slug}.localhost")
    login = client.login_staff if kind == "staff" else client.login_client
    assert login(user.email).status_code == 302, f"{actor} could not log in"
    if slug != "demo":  # replay that practice's cookie on demo's host
        cookie = client.get_cookie("portal", domain=f"{slug}.localhost").value
        client = app.test_client()
        client.set_cookie("portal", cookie, domain="demo.localhost")
    return client.on("demo.localhost")


def _outcome(response) -> Any:
    if response.status_code in (200, 204, 304, 422):
        return OK
    if response.status_code in (301, 302, 303):
        location = response.headers["Location"].split("?")[0]
        return LOGIN if location in ("/login", "/office/login") else OK
    return response.status_code


def test_every_route_has_a_row_in_the_matrix(app):
    rows = {(r.endpoint, r.method) for r in ROUTES}
    missing = sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules() if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if (rule.endpoint, method) not in rows
    )
    assert missing == [], "add these routes to ROUTES in test_route_matrix.py"


def test_every_view_declares_who_may_call_it(app):
    undeclared = [endpoint for endpoint, view in app.view_functions.items()
                  if not hasattr(view, "access")]
    assert undeclared == []


def test_a_view_that_declares_nothing_is_not_served(app, make):
    make.practice("demo")

    @app.get("/undeclared")
    def undeclared():  # type: ignore[no-untyped-def]
        return "secret"

    assert app.test_client().get("/undeclared").status_code == 404


@pytest.mark.parametrize("actor", ACTORS)
def test_route_matrix(app, world, actor):
    client = _client_as(app, world, actor)
    seen = {}
    for route in ROUTES:
        path = route.path(world) if callable(route.path) else route.path
        if route.method == "GET":
            response = client.get(path)
        else:
            token = client.csrf_token("/login")
            response = client.open(path, method=route.method,
                                   data={"csrf_token": token, **route.data})
        seen[(route.endpoint, route.method)] = (_outcome(response), route.expect[actor])
        if route.endpoint == "accounts.logout":
            client = _client_as(app, world, actor)  # logging out ended this actor's session
    wrong = {k: v for k, v in seen.items() if v[0] != v[1]}
    assert wrong == {}, "(got, expected) per route"
