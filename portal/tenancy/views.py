"""The practice's stylesheet and logo, and a health check for load balancers."""

from __future__ import annotations

import hashlib

from flask import Blueprint, abort, g, make_response, request
from sqlalchemy import select, text

from portal import access, db
from portal.tenancy import theme
from portal.tenancy.models import Practice

bp = Blueprint("tenancy", __name__)
YEAR = 365 * 24 * 3600


def _cached(body: bytes | str, mimetype: str, etag: str):  # type: ignore[no-untyped-def]
    """Immutable when the URL names this version, else revalidated by ETag."""
    response = make_response(body)
    response.mimetype = mimetype
    response.set_etag(etag)
    if request.args.get("v") == etag:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/theme.css")
@access.public
def stylesheet():  # type: ignore[no-untyped-def]
    css = theme.stylesheet(g.practice)
    return _cached(css, "text/css", hashlib.sha256(css.encode()).hexdigest()[:16])


@bp.get("/brand/logo")
@access.public
def logo():  # type: ignore[no-untyped-def]
    practice = g.practice
    if not practice.logo_hash:
        abort(404)
    data = db.session.scalar(select(Practice.logo).where(Practice.id == practice.id))
    return _cached(data or b"", practice.logo_type or "application/octet-stream",
                   practice.logo_hash[:16])


@bp.get("/healthz")
@access.public
def health():  # type: ignore[no-untyped-def]
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
