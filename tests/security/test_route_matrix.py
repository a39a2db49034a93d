"""Every route x every kind of actor: who gets the page, who is sent to log in, who gets 404.

The rows live in tests/security/matrix/, one module per feature; a route without a row
fails the suite. Outcomes: OK (served: 2xx, 304, 422, or a redirect that is not to a login
page), LOGIN (redirect to a login page), or the status a refusal must have (403, 404).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.matrix import ACTORS, LOGIN, OK, all_routes, build_world, client_as


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    return build_world(make)


def _outcome(response) -> Any:  # type: ignore[no-untyped-def]
    if response.status_code in (200, 204, 206, 304, 409, 422):  # 409: a stale confirmation
        return OK
    if response.status_code in (301, 302, 303):
        location = response.headers["Location"].split("?")[0]
        return LOGIN if location in ("/login", "/office/login") else OK
    return response.status_code


def test_every_route_has_a_row_in_the_matrix(app):  # type: ignore[no-untyped-def]
    rows = {(r.endpoint, r.method) for r in all_routes()}
    missing = sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules() if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if (rule.endpoint, method) not in rows
    )
    assert missing == [], "add these routes to a module in tests/security/matrix/"


def test_every_view_declares_who_may_call_it(app):  # type: ignore[no-untyped-def]
    undeclared = [endpoint for endpoint, view in app.view_functions.items()
                  if not hasattr(view, "access")]
    assert undeclared == []


def test_a_view_that_declares_nothing_is_not_served(app, make):  # type: ignore[no-untyped-def]
    make.practice("demo")

    @app.get("/undeclared")
    def undeclared():  # type: ignore[no-untyped-def]
        return "secret"

    assert app.test_client().get("/undeclared").status_code == 404


@pytest.mark.parametrize("actor", ACTORS)
def test_route_matrix(app, world, actor):  # type: ignore[no-untyped-def]
    client = client_as(app, world, actor)
    seen = {}
    for route in all_routes():
        path = route.path(world) if callable(route.path) else route.path
        if route.method == "GET":
            response = client.get(path)
        else:
            data = route.data(world) if callable(route.data) else route.data
            token = client.csrf_token("/login")
            response = client.open(path, method=route.method,
                                   data={"csrf_token": token, **data})
        seen[(route.endpoint, route.method)] = (_outcome(response), route.expect[actor])
        if route.endpoint == "accounts.logout" or route.ends_session or \
                response.status_code >= 500:
            client = client_as(app, world, actor)  # this actor's session may have ended
    wrong = {k: v for k, v in seen.items() if v[0] != v[1]}
    assert wrong == {}, "(got, expected) per route"
