"""Shared view helpers: htmx-aware rendering, post/redirect/get, friendly error pages."""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import (
    Flask,
    current_app,
    g,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from portal import clock

log = logging.getLogger(__name__)

ERROR_TEXTS = {
    400: (_l("Something in that request was not right"),
          _l("Please go back, reload the page and try again.")),
    403: (_l("Not allowed"),
          _l("You do not have access to this, or the request came from another site.")),
    404: (_l("Page not found"),
          _l("This address does not exist here, or you cannot see it.")),
    405: (_l("Not possible this way"),
          _l("This address cannot be used like that. Please use the buttons on the page.")),
    413: (_l("Too large"),
          _l("What you sent is larger than this portal accepts.")),
    429: (_l("Too many attempts"),
          _l("Please wait a few minutes before you try again.")),
    500: (_l("Something went wrong on our side"),
          _l("The error has been logged. Please try again in a moment.")),
}


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def htmx_target() -> str | None:
    """The id of the element an htmx request will swap, when it swaps part of a page."""
    if not is_htmx() or request.headers.get("HX-Request-Type") == "full":
        return None
    return unquote(request.headers.get("HX-Target", "").partition("#")[2]) or None


def render(template_name: str, /, *, status: int = 200, block: str | None = None,
           **context: Any) -> Response:
    """Render a page, or only the block an htmx request targets (its name is the id of the
    element it replaces), with any flashed messages swapped out of band."""
    name = block or htmx_target()
    if name and name in current_app.jinja_env.get_template(template_name).blocks:
        body = render_block(template_name, name, **context)
        body += render_template("macros/flash_oob.html")
    else:
        body = render_template(template_name, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def done(endpoint: str, **values: Any) -> Response:
    """After a successful POST: see other. htmx follows it and gets the fragment it targets."""
    return redirect(url_for(endpoint, **values), code=303)


def link_error_page(reason: str, **context: Any) -> Response:
    """The friendly page for a one-time link that cannot be used: gone (410) when it was
    used, expired, withdrawn or dealt with, else not found (404). It never names anyone."""
    status = 404 if reason in ("invalid", "elsewhere") else 410
    return render("accounts/link_error.html", reason=reason, status=status, **context)


def arg_int(value: str) -> int:
    """`request.args.get(name, type=arg_int)`: a number an integer column can be compared
    with. A bigger one is left out like "abc" is, instead of overflowing in the query."""
    number = int(value)
    if not -2**31 <= number < 2**31:
        raise ValueError(value)
    return number


def this_page() -> str:
    """This request's path and query string, to come back to (after signing in, changing
    the language). A query string that is not UTF-8 (only a hand-made request sends one)
    comes back with its bad bytes replaced; werkzeug's request.full_path would raise."""
    query = request.query_string.decode("utf-8", "replace")
    return f"{request.path}?{query}" if query else request.path


def error_response(code: int, description: str | None = None) -> Response:
    title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    message = description or str(text)
    if is_htmx():
        body = render_template("errors/fragment.html", title=title, message=message)
        response = make_response(body, code)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = make_response(
            render_template("errors/error.html", code=code, title=title, message=message), code)
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if exc.code is None or exc.code < 400:
            return exc  # type: ignore[return-value]
        response = error_response(exc.code)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        if exc.code == 429:
            response.headers["Retry-After"] = "300"
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(_exc: CSRFError) -> Response:
        return error_response(400, _("This form was open too long or came from elsewhere. "
                                     "Please reload the page and try again."))

    @app.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError) -> Response:
        original = getattr(exc, "original_exception", None)
        if original is not None:
            log.error("unhandled error on %s %s", request.method, request.endpoint,
                      exc_info=original)
        return error_response(500)

    @app.context_processor
    def _layout_context() -> dict[str, Any]:
        return {"practice": g.get("practice"), "flash_messages": _flashes,
                "asset_url": asset_url, "staff_nav": staff_nav, "now": clock.now,
                "client_companies": _client_companies, "this_page": this_page}


# The back office's navigation: (endpoint, label, role or None). An entry shows once its
# endpoint exists and the user's role allows it. A page below an entry (a client card
# below Clients) sets g.nav_section to that entry's endpoint.
# The back office's navigation: the daily pages, then the practice's administration (admins
# only) folded under one entry, so that the header stays one row on a laptop.
STAFF_NAV = [
    ("clients.office_home", _l("Overview")),
    ("clients.index", _l("Clients")),
    ("engagements.index", _l("Engagements")),
    ("questionnaires.index", _l("Questionnaires")),
    ("collaboration.offer_list", _l("Offers")),
]
ADMIN_NAV = [
    ("clients.billing_page", _l("Billing")),
    ("notifications.office_mail", _l("Mail")),
    ("collaboration.exports_list", _l("Exports")),
    ("audit.events", _l("Audit log")),
    ("accounts.staff_list", _l("Staff")),
    ("tenancy.settings", _l("Settings")),
]


def staff_nav(user: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The daily entries, and the administration entries this user may open."""
    views = current_app.view_functions

    def present(entries: list[tuple[str, Any]]) -> list[tuple[str, str]]:
        return [(endpoint, str(label)) for endpoint, label in entries if endpoint in views]

    return present(STAFF_NAV), present(ADMIN_NAV) if user.role == "admin" else []


def _client_companies() -> list[Any]:
    """The companies the signed-in client user reaches, for the company switcher."""
    from flask_login import current_user

    from portal import access

    return access.portal_companies(current_user)


def _flashes() -> list[tuple[str, str]]:
    return get_flashed_messages(with_categories=True)


@lru_cache(maxsize=64)
def _asset_version(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """A static file's URL with its content hash, so browsers may cache it for good."""
    static = Path(current_app.static_folder or "")
    return url_for("static", filename=filename, v=_asset_version(str(static / filename)))
