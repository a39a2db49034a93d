"""GET /metrics for Prometheus, on any host, only with the bearer token of
PORTAL_METRICS_TOKEN (not there at all without one)."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.wrappers import Response

from portal import access, db
from portal.operations import metrics as collected

bp = Blueprint("operations", __name__)


def _bearer_matches(expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest: how long the comparison takes says nothing about the token.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode())


@bp.get("/metrics")
@access.public  # the token is the check: Prometheus has no session
def metrics() -> Response:
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        abort(404)
    if not _bearer_matches(expected):
        return Response("a bearer token is needed\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body = collected.exposition(current_app._get_current_object(),  # type: ignore[attr-defined]
                                db.session)
    response = Response(body, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
