"""The main pages, measured in-process: SQL statements per request and server time.

A Flask test client on the big practice's host signs in through the real login form,
warms each page up, then times a run of requests (the whole request through the app:
tenancy, session, access check, queries, template, headers) and counts the statements of
the first two with `portal.db.QueryCounter`. Later issues add their pages to PAGES.
"""

from __future__ import annotations

import re
import statistics
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from flask import Flask, got_request_exception

from bench.seed import ADMIN_EMAIL, CLIENT_EMAIL, PASSWORD
from portal import db
from portal.db import QueryCounter

CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
SEARCH = "bakker"  # a surname and a trade: a few per cent of the clients match


@dataclass(frozen=True)
class Page:
    key: str
    actor: str  # "staff" or "client"
    path: str   # may hold {card} and {search}: see path_of()
    label: str


PAGES = (
    Page("clients", "staff", "/office/clients", "clients overview"),
    Page("clients_search", "staff", "/office/clients?q={search}", "clients, search"),
    Page("client_card", "staff", "/office/clients/{card}", "client card"),
    Page("engagements", "staff", "/office/engagements", "engagements overview"),
    Page("engagements_overdue", "staff", "/office/engagements?overdue=1",
         "engagements, overdue"),
    Page("office_home", "staff", "/office/", "office home"),
    Page("portal_home", "client", "/", "portal home (chooser)"),
    Page("company_home", "client", "/c/{card}/", "company home"),
    Page("history", "client", "/c/{card}/history", "history"),
    Page("client_documents", "staff", "/office/clients/{card}/documents", "client documents"),
    Page("documents", "client", "/c/{card}/documents", "documents"),
)


def path_of(page: Page, seed: dict[str, Any]) -> str:
    """The page's path for this data set; {card} is the known client user's first portal
    company, which has contacts and engagements at every scale."""
    from portal.clients import tiers

    card = next(c["id"] for c in seed["logins"]["client"]["companies"]
                if c["tier"] in tiers.tiers_with("portal"))
    return page.path.format(card=card, search=SEARCH)


class Browser:
    """A test client on one host that signs in like a person does."""

    def __init__(self, app: Flask, host: str) -> None:
        self.client = app.test_client()
        self.base = f"http://{host}"

    def get(self, path: str) -> Any:
        return self.client.get(path, base_url=self.base)

    def login(self, path: str, email: str, password: str) -> None:
        form = self.get(path).get_data(as_text=True)
        token = CSRF_INPUT.search(form)
        if token is None:
            raise RuntimeError(f"no login form at {path}")
        response = self.client.post(path, base_url=self.base, data={
            "csrf_token": token.group(1), "email": email, "password": password})
        if response.status_code != 302:
            raise RuntimeError(f"login of {email} at {path} answered {response.status_code}")


LOGINS = {"staff": ("/office/login", ADMIN_EMAIL), "client": ("/login", CLIENT_EMAIL)}


def signed_in(app: Flask, host: str, actor: str) -> Browser:
    """A browser on the host, signed in as the bench's admin ("staff") or client user."""
    browser = Browser(app, host)
    path, email = LOGINS[actor]
    browser.login(path, email, PASSWORD)
    return browser


@dataclass(frozen=True)
class Budget:
    """How much to measure per page: up to `requests` timed requests after `warmup`, but a
    slow page stops after `seconds` (and at least `at_least` requests), so a run stays
    bounded in time whatever the app does."""

    requests: int
    warmup: int
    seconds: float
    at_least: int = 2


def measure(app: Flask, seed: dict[str, Any], *, host: str, budget: Budget
            ) -> dict[str, dict[str, Any]]:
    """{page key: {path, queries, median_ms, p95_ms, ...}} or {..., error} per page."""
    errors: list[str] = []

    def keep(_sender: object, exception: BaseException, **_extra: object) -> None:
        errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(keep, app)
    try:
        browsers = {actor: signed_in(app, host, actor) for actor in LOGINS}
        results = {}
        for page in PAGES:
            errors.clear()
            results[page.key] = _measure_page(app, browsers[page.actor], path_of(page, seed),
                                              budget, errors)
        return results
    finally:
        got_request_exception.disconnect(keep, app)


def _measure_page(app: Flask, browser: Browser, path: str, budget: Budget,
                  errors: list[str]) -> dict[str, Any]:
    """Warm up, then time requests; the statements of the first two timed requests are
    counted (twice: a count that changes between requests is a finding too)."""
    result: dict[str, Any] = {"path": path}
    response = None
    stop = time.perf_counter() + budget.seconds / 4
    for n in range(budget.warmup):
        response = browser.get(path)
        if n and time.perf_counter() > stop:
            break
    engine = db.engine_of(app)
    counts: list[int] = []
    wall: list[float] = []
    cpu: list[float] = []
    stop = time.perf_counter() + budget.seconds
    while len(wall) < budget.requests and (
            len(wall) < budget.at_least or time.perf_counter() < stop):
        with QueryCounter(engine) if len(counts) < 2 else nullcontext() as counter:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = browser.get(path)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        if counter is not None:
            counts.append(counter.count)
        if response.status_code != 200:
            result["error"] = f"GET {path} answered {response.status_code}" + (
                f"\n{errors[-1]}" if errors else "")
            return result
    wall.sort()
    result.update(
        queries=counts[-1], queries_stable=len(set(counts)) == 1, requests=len(wall),
        median_ms=round(statistics.median(wall), 2),
        p95_ms=round(wall[min(len(wall) - 1, int(len(wall) * 0.95))], 2),
        min_ms=round(wall[0], 2), median_cpu_ms=round(statistics.median(cpu), 2),
        bytes=len(response.get_data()) if response is not None else 0)
    return result
