"""Every route of the matrix, fuzzed: hostile values in its form fields and query parameters.

For each route (tests/security/matrix/) and each of anonymous, a client user and an admin,
hypothesis sends the fields the route's row posts, the fields of the forms its view uses
and a few common names, filled with line breaks, NUL and other control characters, very
long strings, invalid UTF-8 (percent-encoded and raw), numbers out of any range, impossible
dates and several values where one is expected. POSTs carry a valid CSRF token, so the view
itself is reached. No answer may be a 5xx and nothing may log a traceback.

The world is built once per module (and test worker) and shared by all routes, like the
matrix's world is shared by all its rows: a route may find a row an earlier one removed.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from portal import db as portal_db
from tests.conftest import HostClient, TemplateDatabase, make_app
from tests.factories import Factory
from tests.security.matrix import OK, Route, all_routes, build_world, client_as

# A failing example holds 10,000-character values: hypothesis says so when it prints it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

FUZZ_ACTORS = ("anonymous", "client", "admin")
# Examples per route and actor: more where the actor reaches the view than where it is
# turned away before it (sent to sign in, 403, 404). PORTAL_FUZZ_EXAMPLES=100 digs deeper.
SERVED_EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "8"))
REFUSED_EXAMPLES = max(SERVED_EXAMPLES // 3, 1)

QUERY_NAMES = ("q", "page", "tier", "status", "sort", "next", "month", "state", "kind",
               "year", "locale", "client_id", "request", "payer", "download", "with", "inline",
               "plain", "v", "engagement_id", "step")
FORM_NAMES = ("name", "email", "password", "next", "year", "status", "action", "step", "back",
              "go", "stamp", "locale", "tier", "client_id", "code")

OMIT = object()


# --- what a route's view reads ---------------------------------------------------------

@functools.cache
def _forms() -> dict[str, type[FlaskForm]]:
    import portal  # noqa: F401  (the app imports every forms module)

    found: dict[str, type[FlaskForm]] = {}
    todo = list(FlaskForm.__subclasses__())
    while todo:
        form = todo.pop()
        todo.extend(form.__subclasses__())
        if form.__module__.startswith("portal."):
            found[form.__name__] = form
    return found


@functools.cache
def _form_fields(app: Flask, endpoint: str) -> set[str]:
    """The field names of the FlaskForm classes a view's source names."""
    view = inspect.unwrap(app.view_functions[endpoint])
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return set()
    names: set[str] = set()
    for cls_name, form in _forms().items():
        if re.search(rf"\b{cls_name}\b", source):
            names.update(attr for attr in dir(form)
                         if isinstance(getattr(form, attr, None), UnboundField))
    return names


# --- hostile values ---------------------------------------------------------------------

CONTROL = "\r\n\t\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\u2028\u2029\ufeff\u202e\u200b"
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(CONTROL), st.characters(exclude_categories=("Cs",))),
    max_size=30)
long_text = st.sampled_from(["A" * 10_000, "é" * 10_000, "\x00" * 10_000, "a\r\n" * 3_400,
                             "9" * 10_000, "<b>" * 3_400])
numbers = st.one_of(
    st.integers(min_value=-2**80, max_value=2**80).map(str),
    st.sampled_from(["-1", "0", "-0", "00", "1e308", "-1e308", "NaN", "inf", "1.5", "0x10",
                     "1_000", "²", "١٢٣", str(2**31), str(2**63), str(-2**63 - 1), "9" * 400]))
dates = st.sampled_from(["0000-00-00", "9999-12-31", "2026-02-30", "0001-01-01", "2026-13-01",
                         "2026-00-10", "31-12-2026", "2026-1-1", "10000-01-01", "2024-02-29",
                         "-2026-01-01", "2026-06-01T25:00", "2026-W53", "0000", "9999", "10000"])
special = st.sampled_from([
    "", " ", "/\r\nSet-Cookie: fuzz=1", "\r\nLocation: https://evil.example", "//evil.example/",
    "https://evil.example", "javascript:alert(1)", "\\\\evil.example", "/%0d%0aX-Fuzz:%20y",
    "<script>alert(1)</script>", "'; DROP TABLE clients;--", "%", "%00", "../../etc/passwd",
    "true", "on", "null", "[]", "{}", "y" * 300 + "@" + "x" * 300 + ".example", "a@b",
    "@", "nl\x00", "en\r\n", "nl-NL", "x" * 64,
])
invalid_utf8 = st.one_of(
    st.sampled_from([b"\xff", b"\xc0\xae", b"\xed\xa0\x80", b"a\xfe\xffb", b"\x80" * 50,
                     b"2026\xff", b"\xf4\x90\x80\x80"]),
    st.binary(min_size=1, max_size=12).filter(lambda b: not _is_utf8(b)))
hostile = st.one_of(hostile_text, special, numbers, dates, long_text, invalid_utf8)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _field(original: Any = OMIT) -> st.SearchStrategy[Any]:
    """A field's value: left out, as the route's row sends it, hostile, or several."""
    choices = [st.just(OMIT), hostile, st.lists(hostile, min_size=2, max_size=3)]
    if original is not OMIT:
        choices.insert(1, st.just(original))
    return st.one_of(choices)


def _encode(pairs: list[tuple[str, Any]], raw_bytes: bool) -> bytes:
    """application/x-www-form-urlencoded, by hand: invalid UTF-8 either percent-encoded or
    as raw bytes (only & = + and % are escaped)."""
    parts = []
    for key, value in pairs:
        values = value if isinstance(value, list) else [value]
        for one in values:
            if isinstance(one, bytes):
                encoded = (one.replace(b"%", b"%25").replace(b"&", b"%26")
                           .replace(b"=", b"%3D").replace(b"+", b"%2B")) if raw_bytes \
                    else quote_plus(one).encode()
            else:
                encoded = quote_plus(str(one).encode()).encode()
            parts.append(quote_plus(key).encode() + b"=" + encoded)
    return b"&".join(parts)


# --- the world, once per module ------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_app(database: TemplateDatabase,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    # Errors answer 500 and are logged as in production, instead of being raised.
    application = make_app(database, tmp_path_factory.mktemp("fuzz"),
                           PROPAGATE_EXCEPTIONS=False)
    application.test_client_class = HostClient
    yield application
    portal_db.engine_of(application).dispose()


@pytest.fixture(autouse=True)
def _unthrottled() -> Iterator[None]:
    """No throttling during a fuzz test, so that the view is reached however often it is
    called. Flask-Limiter's switch is one for the whole process (and a config value would
    become every later app's default), so it is turned off for each test and back after."""
    from portal.security import limiter

    before, limiter.enabled = limiter.enabled, False
    yield
    limiter.enabled = before


@pytest.fixture(scope="module")
def fuzz_world(fuzz_app: Flask) -> dict[str, Any]:
    return build_world(Factory(fuzz_app))


@pytest.fixture(scope="module")
def signed_in() -> dict[str, tuple[HostClient, str]]:
    """Each actor's client and CSRF token, kept from route to route (signing in for each
    would take a third of the run); a route that may end or change the session drops it."""
    return {}


def _cases() -> list[Any]:
    cases = []
    for route in all_routes():
        for actor in FUZZ_ACTORS:
            cases.append(pytest.param(route, actor,
                                      id=f"{route.endpoint}-{route.method}-{actor}"))
    return cases


def _send(client: HostClient, method: str, path: str, query: bytes, form: bytes | None,
          htmx: bool = False) -> Any:
    # QUERY_STRING as a server hands it over: the bytes, read as latin-1 (raw bytes too).
    return client.open(path, method=method, environ_overrides={
        "QUERY_STRING": query.decode("latin-1")}, data=form,
        headers={"HX-Request": "true"} if htmx else {},
        content_type="application/x-www-form-urlencoded" if form is not None else None)


def _check(response: Any, caplog: pytest.LogCaptureFixture, what: str) -> None:
    """No 5xx, and nothing logged a traceback (or an error) while answering."""
    logged = [record.getMessage() + "\n" + logging.Formatter().formatException(record.exc_info)
              if record.exc_info else record.getMessage()
              for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert response.status_code < 500, f"{what}: {response.status_code}\n" + "\n".join(logged)
    assert logged == [], f"{what} logged an error"


@pytest.mark.parametrize(("route", "actor"), _cases())
def test_no_hostile_value_makes_a_server_error(fuzz_app, fuzz_world, signed_in, caplog,
                                               route: Route, actor: str) -> None:  # type: ignore[no-untyped-def]
    world = fuzz_world
    path = route.path(world) if callable(route.path) else route.path
    path, _, fixed_query = path.partition("?")
    row = (route.data(world) if callable(route.data) else route.data) or {}
    row = {key: [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
           for key, value in row.items()}
    fields = _form_fields(fuzz_app, route.endpoint)
    is_post = route.method != "GET"
    form_names = sorted({*row, *fields, *FORM_NAMES} - {"csrf_token", "submit"}) \
        if is_post else []
    query_names = sorted({*QUERY_NAMES, *row, *(fields if not is_post else ())}
                         - {"csrf_token"})
    served = route.expect[actor] == OK
    # Signing in and out, passwords, two-step sign-in, links that sign someone in.
    renew = is_post and (route.ends_session or route.endpoint.startswith("accounts."))

    def session() -> tuple[HostClient, str]:
        if actor not in signed_in or renew:
            client = client_as(fuzz_app, world, actor)
            signed_in[actor] = (client, client.csrf_token("/login"))
        return signed_in[actor]

    request = st.fixed_dictionaries({
        "form": st.fixed_dictionaries({name: _field(row.get(name, OMIT))
                                       for name in form_names}),
        "query": st.fixed_dictionaries({name: _field() for name in query_names}),
        "raw_bytes": st.sampled_from([False, False, False, True]),  # raw: a 400, no view
        "htmx": st.booleans(),
    })

    @seed(zlib.crc32(f"{route.endpoint} {route.method} {actor}".encode()))
    @settings(max_examples=SERVED_EXAMPLES if served else REFUSED_EXAMPLES, deadline=None,
              derandomize=True, database=None, suppress_health_check=list(HealthCheck),
              # No shrinking: the example that failed is reported as it was sent, and a
              # failing run stays as short as a passing one.
              phases=(Phase.explicit, Phase.generate))
    @given(request)
    def fuzz(sent: dict[str, Any]) -> None:
        client, token = session()
        query = [(k, v) for k, v in sent["query"].items() if v is not OMIT]
        query_string = _encode(query, sent["raw_bytes"])
        if fixed_query:
            query_string = fixed_query.encode() + (b"&" + query_string if query_string else b"")
        form = None
        if is_post:
            form = _encode([("csrf_token", token)] + [
                (k, v) for k, v in sent["form"].items() if v is not OMIT], sent["raw_bytes"])
        caplog.clear()
        response = _send(client, route.method, path, query_string, form, htmx=sent["htmx"])
        _check(response, caplog, f"{route.method} {path} as {actor}")

    try:
        fuzz()
    finally:
        if renew:
            signed_in.pop(actor, None)


# --- what the fuzz found, and what it must never miss, asked every time ------------------

def _path(world: dict[str, Any], endpoint: str, method: str = "GET") -> str:
    route = next(r for r in all_routes() if (r.endpoint, r.method) == (endpoint, method))
    return route.path(world) if callable(route.path) else route.path


HUGE = str(2**80).encode()
FOUND = [
    # (actor, method, endpoint, query, form fields, status): None: any status below 500
    # Raw bytes that are not UTF-8 in the query string: werkzeug's request.args and
    # request.full_path raise on them (the sign-in redirect, the language form's `next`).
    ("anonymous", "GET", "clients.index", b"q=\xff", None, 400),
    ("client", "GET", "home.index", b"next=a\xfe\xffb", None, 400),
    ("anonymous", "GET", "accounts.client_login", b"next=\xc0\xae", None, 400),
    # ... and in a form: werkzeug reads no form at all, so the CSRF token is missing.
    ("client", "POST", "accounts.set_language", b"", b"next=\xff&locale=en", 400),
    # A `next` with a line break goes nowhere but here (no header is split).
    ("client", "POST", "accounts.set_language", b"",
     b"locale=en&next=%2F%0D%0ASet-Cookie%3A+fuzz%3D1", None),
    ("anonymous", "POST", "accounts.client_login", b"next=%2F%0D%0ALocation%3A+%2F%2Fevil.example",
     b"email=x%40example.nl&password=wrong", None),
    # Percent-encoded, they are replaced, and the page is served.
    ("anonymous", "GET", "clients.index", b"q=%FF%FE", None, None),
    # Ids no column holds: "²" is a digit to str.isdigit, 5,000 digits are too many for int().
    ("admin", "POST", "clients.bulk_preview", b"", b"new_tier=standard&client_id=%C2%B2&"
     b"client_id=" + b"9" * 5000 + b"&client_id=" + HUGE, None),
    ("admin", "GET", "clients.billing_page", b"month=9999-12", None, 200),
    ("admin", "GET", "clients.billing_page", b"month=" + HUGE + b"-1", None, 200),
    ("admin", "GET", "engagements.index", b"year=" + HUGE + b"&responsible=" + HUGE, None, 200),
    ("admin", "GET", "notifications.office_mail", b"page=" + HUGE, None, 200),
    ("admin", "GET", "questionnaires.batch", b"page=" + HUGE, None, 200),
    ("client", "GET", "home.history", b"year=" + HUGE, None, 200),
    ("admin", "GET", "collaboration.offer_list", b"page=" + HUGE, None, 200),
    # A number too big for a float in a NumberRange field; an id no INTEGER column holds.
    ("admin", "GET", "audit.events", b"client=" + b"9" * 400, None, 422),
    ("admin", "GET", "audit.events", b"client=" + HUGE, None, 422),
    ("admin", "POST", "clients.create_engagement", b"", b"kind=annual_accounts&year=" +
     b"9" * 400, 422),
]


@pytest.mark.parametrize(("actor", "method", "endpoint", "query", "form", "status"), FOUND,
                         ids=[f"{c[2]}-{c[0]}-{i}" for i, c in enumerate(FOUND)])
def test_requests_the_fuzz_must_never_miss(fuzz_app, fuzz_world, signed_in, caplog,
                                                actor, method, endpoint, query, form,
                                                status) -> None:  # type: ignore[no-untyped-def]
    if actor not in signed_in:
        client = client_as(fuzz_app, fuzz_world, actor)
        signed_in[actor] = (client, client.csrf_token("/login"))
    client, token = signed_in[actor]
    if form is not None:
        form = b"csrf_token=" + token.encode() + b"&" + form
    path = _path(fuzz_world, endpoint, method)
    caplog.clear()
    response = _send(client, method, path, query, form)
    _check(response, caplog, f"{method} {path} as {actor}")
    if status is not None:
        assert response.status_code == status
    assert "fuzz" not in response.headers.get("Set-Cookie", "")
    assert "evil" not in response.headers.get("Location", "")
