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


def modules() -> list[Any]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        found.append(importlib.import_module(f"{__name__}.{info.name}"))
    return found


def all_routes() -> list[Route]:
    return [route for module in modules() for route in module.ROUTES]
