"""Settings from PORTAL_* environment variables, with safe development defaults.

Every setting is listed in README.md ("Configuration"). Tests and tools pass overrides
to create_app(); they win over the environment.
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any


def _default_instance() -> Path:
    """A checkout keeps its data in instance/; an installed portal, run from any directory,
    in the user's data directory (PORTAL_INSTANCE_PATH overrides both)."""
    from portal import CHECKOUT, PACKAGE

    if CHECKOUT:
        return PACKAGE.parent / "instance"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "portal"


DEFAULT_INSTANCE = _default_instance()


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"PORTAL_{name}")
    return default if value in (None, "") else value


def _flag(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = _env(name)
    try:
        return default if value is None else int(value)
    except ValueError:
        raise ConfigError(f"PORTAL_{name} must be a whole number, not {value!r}") from None


def _prices() -> dict[str, Decimal]:
    """Monthly prices per client that a deployment sets; the tiers' list prices fill the rest."""
    prices = {}
    for name in ("PRICE_STANDARD", "PRICE_COLLABORATE", "PRICE_COLLABORATE_PLUS",
                 "PRICE_EXTRA_USER"):
        value = _env(name)
        if value is None:
            continue
        try:
            price = Decimal(value.replace(",", "."))
        except InvalidOperation:
            price = Decimal(-1)
        if not price.is_finite() or price < 0:
            raise ConfigError(f"PORTAL_{name} must be an amount in euros such as 0.80, "
                              f"not {value!r}")
        prices[name] = price
    return prices


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    debug = overrides.get("DEBUG", _flag("DEBUG"))
    testing = overrides.get("TESTING", False)
    instance = Path(overrides.get("INSTANCE_PATH") or _env("INSTANCE_PATH") or DEFAULT_INSTANCE)
    https = overrides.get("HTTPS", _flag("HTTPS"))

    secret = overrides.get("SECRET_KEY") or _env("SECRET_KEY")
    if not secret:
        if not (debug or testing):
            raise ConfigError(
                "PORTAL_SECRET_KEY is required outside debug mode; "
                'generate one with: python -c "import secrets; print(secrets.token_hex(32))"'
            )
        secret = _dev_secret(instance)

    values: dict[str, Any] = {
        "DEBUG": debug,
        "TESTING": testing,
        # Errors become the friendly 500 page, also in debug; tests see them raised.
        "PROPAGATE_EXCEPTIONS": bool(testing),
        "SECRET_KEY": secret,
        # Earlier keys, newest first: sessions, links and sealed values made with them still
        # open after PORTAL_SECRET_KEY is changed (Flask reads this for sessions too).
        "SECRET_KEY_FALLBACKS": overrides.get("SECRET_KEY_FALLBACKS") or [
            key.strip() for key in _env("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()],
        # The audit log's chain key; without it one is derived from the secret key.
        "AUDIT_KEY": overrides.get("AUDIT_KEY") or _env("AUDIT_KEY"),
        # The RFC 3161 timestamp server of the audit log's daily anchors, and the PEM file of
        # the certificate (its root) that `portal audit verify` trusts its answers under.
        # Off only where a test counts mail and must not see the admins' daily anchor mail.
        "AUDIT_ANCHORS": overrides.get("AUDIT_ANCHORS", _flag("AUDIT_ANCHORS", True)),
        "TSA_URL": _env("TSA_URL"),
        "TSA_CERT": _env("TSA_CERT"),
        "TSA_TIMEOUT": _int("TSA_TIMEOUT", 10),
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": _env("DATABASE_URL", f"sqlite:///{instance / 'portal.sqlite3'}"),
        "BASE_DOMAIN": (_env("BASE_DOMAIN", "localhost") or "localhost").lower(),
        "STORAGE_DIR": _env("STORAGE_DIR", str(instance / "storage")),
        # file:///path (default: STORAGE_DIR) or s3://bucket/prefix with the S3_* settings
        "STORAGE_URL": _env("STORAGE_URL")
        or f"file://{Path(_env('STORAGE_DIR', str(instance / 'storage'))).resolve()}",
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_ACCESS_KEY_ID": _env("S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": _env("S3_SECRET_ACCESS_KEY"),
        "S3_REGION": _env("S3_REGION"),
        "REPORT_MAX_MB": _int("REPORT_MAX_MB", 50),
        # Documents: the largest single file; MAX_UPLOAD_MB below limits a whole request.
        "UPLOAD_MAX_MB": _int("UPLOAD_MAX_MB", 100),
        # The storage sweep leaves files no row points to alone for this long, so an
        # upload whose row is not committed yet is never taken away.
        "STORAGE_GRACE_HOURS": _int("STORAGE_GRACE_HOURS", 24),
        # How long opening a temporary link lets its holder see and decide the task.
        "LINK_GRANT_MINUTES": _int("LINK_GRANT_MINUTES", 30),
        # Collaboration: offer term, free first days, keeping exports, deleting after an end.
        "OFFER_DAYS": _int("OFFER_DAYS", 21),
        "FREE_DAYS": _int("FREE_DAYS", 30),
        "EXPORT_KEEP_DAYS": _int("EXPORT_KEEP_DAYS", 30),
        "RETENTION_DAYS": _int("RETENTION_DAYS", 90),
        "HTTPS": https,
        "PROXY_FIX": _int("PROXY_FIX", 0),
        # Sessions: a signed cookie checked against the user's session version.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 120),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 12),
        "SESSION_COOKIE_NAME": "__Host-portal" if https else "portal",
        "SESSION_COOKIE_SECURE": https,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_DOMAIN": None,  # never shared between practices' hosts
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "WTF_CSRF_TIME_LIMIT": None,  # an htmx page may stay open all day
        # A whole request (several files at once); each file has its own limit, UPLOAD_MAX_MB.
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 250) * 1024 * 1024,
        # Throttling (Flask-Limiter). memory:// is per process; use redis:// for several.
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        "LOGIN_LIMIT_PER_IP": _env("LOGIN_LIMIT_PER_IP", "60 per 15 minutes"),
        "LOGIN_LIMIT_PER_EMAIL": _env("LOGIN_LIMIT_PER_EMAIL", "10 per 15 minutes"),
        # Mails with a link (password reset, sign-in link) and two-step codes.
        "MAIL_LINK_LIMIT_PER_IP": _env("MAIL_LINK_LIMIT_PER_IP", "20 per 15 minutes"),
        "MAIL_LINK_LIMIT_PER_EMAIL": _env("MAIL_LINK_LIMIT_PER_EMAIL", "3 per 15 minutes"),
        "TWO_FACTOR_LIMIT": _env("TWO_FACTOR_LIMIT", "5 per 5 minutes; 20 per day"),
        # Mail (Flask-Mail), used by the worker only.
        "MAIL_SERVER": _env("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL"),
        "MAIL_USERNAME": _env("MAIL_USERNAME"),
        "MAIL_PASSWORD": _env("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": _env("MAIL_DEFAULT_SENDER", "portal@localhost"),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 30),
        # smtp, or file: keep every message under <instance>/mail (the default in debug)
        "MAIL_BACKEND": _env("MAIL_BACKEND", "file" if debug else "smtp"),
        # The port in links in mail, when the portal is not on 80/443 (development: 5000).
        "PUBLIC_PORT": _int("PUBLIC_PORT", 5000 if debug else 0) or None,
        "WORKER_POLL_SECONDS": _int("WORKER_POLL_SECONDS", 5),
        "WORKER_SWEEP_SECONDS": _int("WORKER_SWEEP_SECONDS", 60),
        # /healthz calls the worker stale when it has not checked in for this long.
        "WORKER_STALE_SECONDS": _int("WORKER_STALE_SECONDS",
                                     max(120, 3 * _int("WORKER_POLL_SECONDS", 5))),
        # Logs and metrics (portal/operations): text or json lines; /metrics needs the token.
        "LOG_FORMAT": (_env("LOG_FORMAT", "text") or "text").lower(),
        "LOG_LEVEL": (_env("LOG_LEVEL", "info") or "info").upper(),
        "METRICS_TOKEN": _env("METRICS_TOKEN"),
        # Password hashing: argon2id with argon2-cffi's defaults unless tests ask cheaper.
        "PASSWORD_HASH_FAST": False,
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "LANGUAGES": ("nl", "en"),
    }
    values.update(_prices())
    values.update(overrides)
    return values


def _dev_secret(instance: Path) -> str:
    """A per-checkout secret for development, kept so sessions survive a restart."""
    path = instance / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value
