"""Reading amounts the way people and bookkeeping exports write them.

Dutch writes `1.234,56`, English `1,234.56`. The last separator is the decimal one when both
appear; a separator that repeats groups thousands; group sizes must be right (`1.23.4` is no
amount). One case is ambiguous: a single separator followed by exactly three digits (`1.234`,
`12,345`). Then the caller's hint decides (`decimal_comma`, usually detected from the whole
column with `detect_decimal_comma`); without a hint it is an error rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

_SPACES = "\u00a0\u202f\u2009"
_NORMALISE = str.maketrans({"\u2212": "-", "\u2013": "-", **{c: " " for c in _SPACES}})
_AMOUNT = re.compile(
    r"""(?P<open>\()?\s*
        (?P<sign1>[-+])?\s*
        (?:€|eur)?\s*
        (?P<sign2>[-+])?\s*
        (?P<number>[0-9.,](?:[0-9., ]*[0-9])?)
        (?P<whole>[.,]-{1,2})?\s*      # 12,- : whole euros
        (?:€|eur)?\s*
        (?P<sign3>-)?\s*
        (?P<close>\))?""",
    re.VERBOSE | re.IGNORECASE)
_GROUPED = re.compile(r"[0-9]{1,3}(?:X[0-9]{3})*")
_DIGITS = re.compile(r"[0-9]*")


class AmountError(ValueError):
    """Text that is not an amount; the message is fit to show to the person who typed it."""


def _split(text: str) -> tuple[bool, str, str | None]:
    """(negative, number part, separator of a `,-` whole-euro ending) or AmountError."""
    cleaned = text.translate(_NORMALISE).strip()
    if not cleaned:
        raise AmountError("No amount given.")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise AmountError(f"“{text.strip()}” is not an amount.")
    signs = [s for s in (match["sign1"], match["sign2"], match["sign3"]) if s]
    brackets = bool(match["open"]) + bool(match["close"])
    if brackets == 1:
        raise AmountError(f"“{text.strip()}” has an unmatched bracket.")
    if len(signs) > 1 or (brackets and signs):
        raise AmountError(f"“{text.strip()}” has more than one sign.")
    negative = brackets == 2 or signs == ["-"]
    whole = match["whole"][0] if match["whole"] else None
    return negative, match["number"], whole


def _integer_part(digits: str, thousands: str | None, text: str) -> str:
    """The digits of an integer part written with `thousands` between groups of three."""
    if " " in digits:
        if thousands not in (None, " "):
            raise AmountError(f"“{text.strip()}” mixes spaces and {thousands!r} between digits.")
        thousands = " "
    if thousands is None or thousands not in digits:
        if not _DIGITS.fullmatch(digits):
            raise AmountError(f"“{text.strip()}” is not an amount.")
        return digits or "0"
    if not _GROUPED.fullmatch(digits.replace(thousands, "X")):
        raise AmountError(
            f"“{text.strip()}” has its thousands separators in the wrong places.")
    return digits.replace(thousands, "")


def _number(number: str, whole: str | None, decimal_comma: bool | None, text: str
            ) -> tuple[str, str]:
    """(integer digits, fraction digits) of the number part."""
    if whole is not None:  # "1.234,-": the dash stands for the cents
        if whole in number:
            raise AmountError(f"“{text.strip()}” has more than one decimal separator.")
        return _integer_part(number, "." if whole == "," else ",", text), ""
    has_dot, has_comma = "." in number, "," in number
    if has_dot and has_comma:
        decimal = "," if number.rfind(",") > number.rfind(".") else "."
        thousands = "." if decimal == "," else ","
    elif has_dot or has_comma:
        separator = "." if has_dot else ","
        if number.count(separator) > 1:  # only thousands repeat
            return _integer_part(number, separator, text), ""
        head, tail = number.split(separator)
        looks_grouped = (len(tail) == 3 and 1 <= len(head) <= 3 and head[0] != "0"
                         and head.isdigit())
        if not looks_grouped:
            decimal, thousands = separator, None
        elif decimal_comma is None:
            raise AmountError(
                f"“{text.strip()}” is ambiguous: is the {separator!r} a decimal or a thousands "
                f"separator? Write it as {head}{separator}{tail}{',00' if has_dot else '.00'} "
                f"or as {head}{tail}.")
        elif (separator == ",") == decimal_comma:
            decimal, thousands = separator, None
        else:
            return head + tail, ""
    else:
        return _integer_part(number, None, text), ""
    if number.count(decimal) > 1:
        raise AmountError(f"“{text.strip()}” has more than one decimal separator.")
    head, tail = number.split(decimal)
    if thousands is not None and thousands in tail:
        raise AmountError(f"“{text.strip()}” has a thousands separator after its decimals.")
    if not tail or not tail.isdigit():
        raise AmountError(f"“{text.strip()}” has no digits after its decimal separator.")
    return _integer_part(head, thousands, text), tail


def parse_amount(text: str, *, decimal_comma: bool | None = None) -> Decimal:
    """An amount in euros, rounded half up to cents.

    Accepts `1.234,56`, `1,234.56`, `-1.234,56`, `(1.234,56)` (negative), `1.234,56-`,
    `€ 1.234,56`, `1.234.567`, `12,-`. `decimal_comma` settles `1.234`: True reads it as one
    thousand two hundred and thirty-four, False as one point two three four, None refuses.
    """
    negative, number, whole = _split(text)
    integer, fraction = _number(number, whole, decimal_comma, text)
    amount = Decimal(f"{integer}.{fraction or '0'}").quantize(CENT, ROUND_HALF_UP)
    return -amount if negative else amount


def _decimal_evidence(text: str) -> bool | None:
    """True if this value shows a decimal comma, False a decimal point, None if it can't."""
    try:
        _negative, number, whole = _split(text)
    except AmountError:
        return None
    if whole is not None:
        return whole == ","
    dot, comma = number.rfind("."), number.rfind(",")
    if dot >= 0 and comma >= 0:
        return comma > dot
    if dot < 0 and comma < 0:
        return None
    separator = "." if dot >= 0 else ","
    if number.count(separator) > 1:
        return separator == "."  # repeated, so thousands: the other one is the decimal
    head, tail = number.split(separator)
    if len(tail) == 3 and 1 <= len(head) <= 3 and head[0] != "0":
        return None  # 1.234: could be either
    return separator == ","


def detect_decimal_comma(samples: Iterable[str], *, limit: int = 5000) -> bool | None:
    """Whether a column of values uses a decimal comma (True), a decimal point (False), or
    gives no evidence either way (None: only whole numbers, or only ambiguous ones).

    Looks at up to `limit` values; when values disagree, the majority wins, a tie is None.
    """
    comma = point = 0
    for count, sample in enumerate(samples):
        if count >= limit:
            break
        evidence = _decimal_evidence(sample)
        if evidence is True:
            comma += 1
        elif evidence is False:
            point += 1
    if comma == point:
        return None
    return comma > point


def format_amount(amount: Decimal, *, decimal_comma: bool = True) -> str:
    """`-1.234,56` (decimal comma) or `-1,234.56`: for messages about the file's own numbers."""
    text = f"{amount.quantize(CENT, ROUND_HALF_UP):,.2f}"
    return text.translate(str.maketrans(",.", ".,")) if decimal_comma else text
