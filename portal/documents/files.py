"""The app's file store, and serving stored files to a browser."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort, current_app, request, send_file
from werkzeug.wrappers import Response

from portal.documents.storage import FileMissing, Storage, storage_from_url

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    options = {k: app.config.get(f"S3_{k.upper()}") for k in (
        "endpoint_url", "access_key_id", "secret_access_key", "region")}
    url = app.config["STORAGE_URL"]
    app.extensions["portal.storage"] = storage_from_url(
        url, **({k: v for k, v in options.items() if v} if url.startswith("s3:") else {}))


def storage() -> Storage:
    return current_app.extensions["portal.storage"]


def send_stored(key: str, *, size: int, sha256: str, filename: str, mimetype: str,
                inline: bool = False, **headers: Any) -> Response:
    """Stream a stored file with Range and conditional requests. The name is only for the
    browser (RFC 6266/5987, so non-ASCII names work); the bytes come by key."""
    try:
        stream = storage().open(key)
    except FileMissing:
        log.error("stored file %s is missing", key)
        abort(404)
    response = send_file(stream, mimetype=mimetype, as_attachment=not inline,
                         download_name=filename, conditional=False, etag=False,
                         max_age=0)
    response.content_length = size
    response.set_etag(sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response.make_conditional(request.environ, accept_ranges=True,
                                     complete_length=size)
