"""The app's file store, and serving stored files to a browser."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, abort, current_app, request, send_file
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from portal.clock import now
from portal.documents.storage import FileMissing, Storage, storage_from_url

log = logging.getLogger(__name__)
GC_EVERY = timedelta(hours=1)  # listing every stored file is not for every worker pass


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


def grace(app: Flask) -> timedelta:
    return timedelta(hours=app.config["STORAGE_GRACE_HOURS"])


def register_sweep(app: Flask) -> None:
    """The worker purges documents deleted longer ago than their retention on every pass,
    and at most once an hour removes stored files no row points to (older than the grace
    period). `portal storage gc` does both at once."""
    from portal.documents import service
    from portal.notifications import worker

    last: dict[str, datetime] = {}

    def sweep(session: Session) -> int:
        store = app.extensions["portal.storage"]
        done = service.purge_deleted(session, store)
        moment = now()
        if "gc" not in last or moment - last["gc"] >= GC_EVERY:
            last["gc"] = moment
            done += service.collect_garbage(session, store, grace(app))
        return done

    worker.register_sweep(app, "documents", sweep)
