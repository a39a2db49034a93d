"""Numbers for dashboards, in the reader's language: whole euros on charts, compact euros on
axes, percentages, ratios and days. Amounts come in as Decimal.

A page asks for `formats_for(locale)` once and formats hundreds of numbers with it: the
locale's patterns are parsed once per process, not per number.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import (
    format_compact_currency,
    format_decimal,
    get_currency_symbol,
    parse_pattern,
)
from flask_babel import get_locale, ngettext

_ONE = Decimal(1)
NO_VALUE = "\u2013"


class Formats:
    """The formatters of one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = Locale.parse(locale)
        pattern = parse_pattern(
            self.locale.currency_formats["standard"].pattern.replace(".00", ""))
        symbol = get_currency_symbol("EUR", self.locale)
        symbols = self.locale.number_symbols.get("latn", self.locale.number_symbols)
        minus = symbols.get("minusSign", "-")

        def fill(text: str) -> str:
            return text.replace("¤", symbol).replace("-", minus)

        self._prefixes = (fill(pattern.prefix[0]), fill(pattern.prefix[1]))
        self._suffixes = (fill(pattern.suffix[0]), fill(pattern.suffix[1]))
        self._group = symbols.get("group", ",")

    def euros(self, amount: Decimal) -> str:
        """€ 12.346 (nl) / €12,346 (en): rounded to whole euros, as a dashboard shows them."""
        whole = int(amount.quantize(_ONE, ROUND_HALF_UP))
        negative = 1 if whole < 0 else 0
        return (self._prefixes[negative] + f"{abs(whole):,}".replace(",", self._group)
                + self._suffixes[negative])

    def signed_euros(self, amount: Decimal) -> str:
        """A change: +€ 1.200, or € 800 after a minus sign (U+2212)."""
        text = self.euros(abs(amount))
        if amount > 0:
            return "+" + text
        if amount < 0:
            return "\u2212" + text
        return text

    def compact_euros(self, amount: Decimal) -> str:
        """€ 120K, € 1,5 mln.: for chart axes."""
        return format_compact_currency(amount, "EUR", fraction_digits=1, locale=self.locale)

    def percent(self, value: Decimal | None) -> str:
        """12,5% from 12.5; a dash where there is no value."""
        if value is None:
            return NO_VALUE
        return format_decimal(value, format="#,##0.0", locale=self.locale) + "%"

    def ratio(self, value: Decimal | None) -> str:
        if value is None:
            return NO_VALUE
        return format_decimal(value, format="#,##0.00", locale=self.locale)

    def days(self, value: Decimal | None) -> str:
        if value is None:
            return NO_VALUE
        return ngettext("%(num)s day", "%(num)s days", int(value))

    def by_unit(self, unit: str, value: Decimal | None) -> str:
        """A ratio's value in its unit: "ratio", "percent" or "days"."""
        return {"ratio": self.ratio, "percent": self.percent, "days": self.days}[unit](value)

    def plain(self, amount: Decimal) -> str:
        """12.345,67 (nl) / 12,345.67 (en): an amount to type over in a form field."""
        return format_decimal(amount, format="#,##0.00", locale=self.locale)


@lru_cache(maxsize=16)
def formats_for(locale: str) -> Formats:
    return Formats(locale)


def current() -> Formats:
    """The formatters of the request's language."""
    return formats_for(str(get_locale()))
