"""The route x actor matrix, one module per feature.

Each module here defines ROUTES (a list of Route) and may define `arrange(make, world)` to
add the rows its paths need to the shared `world` (a dict). test_route_matrix.py gathers
them all and fails for a route that has no row.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OK, LOGIN = "ok", "login"
ACTORS = ("anonymous", "staff", "admin", "client", "other_staff", "other_client")


@dataclass
class Route:
    endpoint: str
    method: str
    path: Callable[[dict[str, Any]], str] | str
    expect: dict[str, Any]
    data: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] = field(
        default_factory=dict)
    # The request ends or replaces the actor's session (sign out everywhere, a sign-in
    # link): the actor signs in again before the next row.
    ends_session: bool = False


def everyone(outcome: Any) -> dict[str, Any]:
    return dict.fromkeys(ACTORS, outcome)


def staff_only(admin_only: bool = False) -> dict[str, Any]:
    # Other practices' users arrive anonymous: their cookie means nothing on this host.
    return {"anonymous": LOGIN, "staff": 403 if admin_only else OK, "admin": OK,
            "client": 404, "other_staff": LOGIN, "other_client": LOGIN}


def client_only() -> dict[str, Any]:
    return {"anonymous": LOGIN, "staff": 404, "admin": 404, "client": OK,
            "other_staff": LOGIN, "other_client": LOGIN}


def build_world(make: Any) -> dict[str, Any]:
    """Two practices, a client company in each, the actors, and what each module arranges."""
    from portal.clients import tiers

    demo = make.practice("demo", logo=b"\x89PNG", logo_type="image/png", logo_hash="c" * 64)
    other = make.practice("other")
    company = make.client(demo, tiers.COLLABORATE_PLUS)
    other_company = make.client(other, tiers.COLLABORATE_PLUS)
    world: dict[str, Any] = {
        "demo": demo,
        "other": other,
        "company": company,
        "other_company": other_company,
        "users": {
            "staff": ("staff", make.staff(demo, role="staff"), "demo"),
            "admin": ("staff", make.staff(demo, role="admin"), "demo"),
            "client": ("client", make.client_user(demo, company), "demo"),
            "other_staff": ("staff", make.staff(other, role="admin"), "other"),
            "other_client": ("client", make.client_user(other, other_company), "other"),
        },
    }
    for module in modules():
        if hasattr(module, "arrange"):
            module.arrange(make, world)
    return world


def client_as(app: Any, world: dict[str, Any], actor: str) -> Any:
    """A test client on demo's host, signed in as `actor` (anonymous: not signed in)."""
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


def modules() -> list[Any]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        found.append(importlib.import_module(f"{__name__}.{info.name}"))
    return found


def all_routes() -> list[Route]:
    return [route for module in modules() for route in module.ROUTES]
