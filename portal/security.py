"""Security mechanisms in one place: headers, CSRF, cross-site refusal, throttling, proxies,
and sealing the few secrets the database must keep readable."""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, abort, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, headers_enabled=False)

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Signed link tokens are long runs of URL-safe characters; nothing else in our URLs is.
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{20,}")


# --- sealed values ------------------------------------------------------------------------
# A secret the app must read back (an authenticator's key) is stored encrypted with AES-GCM
# under a key derived from PORTAL_SECRET_KEY, bound to the row it belongs to: a copy of the
# database alone, or a value moved to another row, opens nothing. The keys in
# PORTAL_SECRET_KEY_FALLBACKS still open what was sealed before the key was changed.

SEALED = "v1:"


def _sealing_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"portal: sealed values v1").derive(secret.encode())


def seal(value: str, bound_to: str) -> str:
    nonce = os.urandom(12)
    box = AESGCM(_sealing_key(current_app.config["SECRET_KEY"]))
    sealed = nonce + box.encrypt(nonce, value.encode(), bound_to.encode())
    return SEALED + base64.urlsafe_b64encode(sealed).decode()


def unseal(stored: str, bound_to: str) -> str | None:
    """The value, or None when no key opens it (changed, moved, or the key is gone). A
    value stored before sealing existed comes back as it is."""
    if not stored.startswith(SEALED):
        return stored
    raw = base64.urlsafe_b64decode(stored[len(SEALED):])
    keys = [current_app.config["SECRET_KEY"], *current_app.config["SECRET_KEY_FALLBACKS"]]
    for secret in keys:
        try:
            return AESGCM(_sealing_key(secret)).decrypt(raw[:12], raw[12:],
                                                         bound_to.encode()).decode()
        except InvalidTag:
            continue
    return None


def redact_tokens(text: str) -> str:
    return _TOKEN.sub("[token]", text)


class RedactTokens(logging.Filter):
    """Access logs write the route, never the token of a one-time link."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_tokens(str(record.msg))
        if isinstance(record.args, Mapping):
            # gunicorn's access log formats from a mapping ("%(r)s", "%(U)s"): keep it one.
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redacted(value) for value in record.args)
        return True


def _redacted(value: object) -> object:
    return redact_tokens(value) if isinstance(value, str) else value


def init_app(app: Flask) -> None:
    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(refuse_undecodable_query)  # before anything reads request.args
    csrf.init_app(app)
    limiter.init_app(app)
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    app.before_request(refuse_cross_site)
    app.after_request(set_headers)


def refuse_undecodable_query() -> None:
    """A browser percent-encodes its query string; one with raw bytes that are not UTF-8
    comes from a hand-made request, and werkzeug's request.args would raise on it."""
    try:
        request.query_string.decode()
    except UnicodeDecodeError:
        abort(400)


def refuse_cross_site() -> None:
    """SameSite does not separate practices' subdomains (they are same-site): refuse an
    unsafe request that a page of another site or another subdomain sent."""
    if request.method in UNSAFE_METHODS and \
            request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        abort(403)


def set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if current_app.config["HTTPS"]:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if "Cache-Control" not in headers and response.mimetype == "text/html":
        headers["Cache-Control"] = "no-store"  # pages may hold personal data
    return response
