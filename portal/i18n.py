"""Flask-Babel: Dutch by default, English available.

The language is the user's own choice (on the account, or in the session before login),
else the practice's language, else the browser's Accept-Language.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel import support
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, Domain, format_decimal, get_locale
from flask_login import current_user

from portal import PACKAGE


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


def translated(labels: Mapping[str, Any]) -> dict[str, str]:
    """Lazy labels made text once, for a list that shows them on every row."""
    return {key: str(label) for key, label in labels.items()}


def money(amount: Decimal | int | float | None) -> str:
    """An amount in euros, formatted for the current language (€ 1.234,56 / €1,234.56)."""
    if amount is None:
        return ""
    from flask_babel import format_currency

    return format_currency(amount, "EUR")


def signed_money(amount: Decimal | int | float) -> str:
    """A change in euros with its sign in front, the same way up or down (+€ 1,40 / -€ 2,75):
    Dutch Babel would write a negative amount as € -2,75."""
    sign = "+" if amount > 0 else "-" if amount < 0 else ""
    return sign + money(abs(amount))


class RequestDomain(Domain):
    """Flask-Babel looks the catalogue up through the locale on every string, and a page
    asks a few hundred times: keep it beside the locale it belongs to. force_locale()
    puts another locale object in place, so mail in the recipient's language still works."""

    def get_translations(self) -> support.NullTranslations:
        state = g.get("_flask_babel") if g else None
        locale = getattr(state, "babel_locale", None)
        kept = getattr(state, "portal_catalogue", None)
        if kept is not None and locale is not None and kept[0] is locale:
            return kept[1]
        translations = super().get_translations()
        state = g.get("_flask_babel") if g else None
        if state is not None and getattr(state, "babel_locale", None) is not None:
            state.portal_catalogue = (state.babel_locale, translations)
        return translations


def init_app(app: Flask) -> None:
    babel = Babel(app, locale_selector=select_locale,
                  default_translation_directories=str(PACKAGE / "translations"))
    babel.domain_instance = RequestDomain()
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["signed_money"] = signed_money
    app.jinja_env.filters["number"] = format_decimal
