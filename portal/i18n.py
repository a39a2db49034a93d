"""Flask-Babel: Dutch by default, English available.

The language is the user's own choice (on the account, or in the session before login),
else the practice's language, else the browser's Accept-Language.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, format_decimal, get_locale
from flask_login import current_user

from portal import ROOT


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the worker and commands say force_locale(...) instead
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user = current_user if g.get("practice") is not None else None
    for choice in (getattr(user, "locale", None), session.get("locale")):
        if choice in languages:
            return choice
    practice = g.get("practice")
    if practice is not None and practice.locale in languages:
        return practice.locale
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def money(amount: Decimal | int | float | None) -> str:
    """An amount in euros, formatted for the current language (€ 1.234,56 / €1,234.56)."""
    if amount is None:
        return ""
    from flask_babel import format_currency

    return format_currency(amount, "EUR")


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale,
          default_translation_directories=str(ROOT / "portal" / "translations"))
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = format_decimal
