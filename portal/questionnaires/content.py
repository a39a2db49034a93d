"""What a questionnaire version holds, and how answers are read and checked.

A version's content is one JSON document:
    {"sections": [{"key", "title", "intro",
                   "questions": [{"key", "type", "label", "help", "required", "allow_na",
                                  "options", "show_if": {"question", "equals"} | None}]}]}
Keys are short random ids that stay the same when a version is copied, so answers and
conditions refer to a question whatever its position or wording.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from portal.insights.amounts import AmountError, parse_amount

TYPES = {
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "yes_no": _l("Yes or no"),
    "number": _l("Number (figure)"),
    "amount": _l("Amount in euros"),
    "date": _l("Date"),
    "single_choice": _l("One choice"),
    "multiple_choice": _l("Several choices"),
    "files": _l("File upload(s)"),
}
CHOICE_TYPES = ("single_choice", "multiple_choice")
LIMITS = {"short_text": 500, "long_text": 10_000}


class AnswerError(ValueError):
    """Why a typed answer is not accepted; the typed value is kept by the caller."""


def new_key() -> str:
    return secrets.token_hex(4)


def empty() -> dict[str, Any]:
    return {"sections": []}


def copy_content(content: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(content)


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    label: str
    help: str
    required: bool
    allow_na: bool
    options: tuple[str, ...]
    show_if: dict[str, Any] | None
    section: str

    @classmethod
    def of(cls, raw: dict[str, Any], section: str) -> Question:
        return cls(raw["key"], raw["type"], raw["label"], raw.get("help") or "",
                   bool(raw.get("required")), bool(raw.get("allow_na")),
                   tuple(raw.get("options") or ()), raw.get("show_if") or None, section)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    questions: tuple[Question, ...]


def sections(content: dict[str, Any]) -> list[Section]:
    return [Section(s["key"], s["title"], s.get("intro") or "",
                    tuple(Question.of(q, s["key"]) for q in s.get("questions", [])))
            for s in content.get("sections", [])]


def questions(content: dict[str, Any]) -> list[Question]:
    return [q for s in sections(content) for q in s.questions]


def visible(content: dict[str, Any], values: dict[str, Any]) -> set[str]:
    """The questions to show given the answers so far: a question with a condition shows
    only when the earlier question is visible and answered with the given value."""
    shown: set[str] = set()
    for question in questions(content):
        condition = question.show_if
        if condition is None:
            shown.add(question.key)
            continue
        other = condition.get("question")
        answer = values.get(other)
        wanted = condition.get("equals")
        if other in shown and (answer == wanted or
                               (isinstance(answer, list) and wanted in answer)):
            shown.add(question.key)
    return shown


def is_answered(value: Any, not_applicable: bool) -> bool:
    return not_applicable or value not in (None, "", [])


def parse(question: Question, raw: str | list[str] | None) -> Any:
    """The stored value of what was typed, or AnswerError saying what is wrong."""
    if question.type == "multiple_choice":
        chosen = [v for v in (raw or []) if v]
        unknown = [v for v in chosen if v not in question.options]
        if unknown:
            raise AnswerError(str(_l("Choose from the options given.")))
        return chosen
    if question.type == "files":
        return [int(v) for v in (raw or []) if str(v).isdigit()]
    text = (raw if isinstance(raw, str) else "").strip()
    if not text:
        return None
    if question.type in LIMITS:
        if len(text) > LIMITS[question.type]:
            raise AnswerError(str(_l("At most %(count)d characters, please.",
                                     count=LIMITS[question.type])))
        return text
    if question.type == "yes_no":
        if text not in ("yes", "no"):
            raise AnswerError(str(_l("Choose yes or no.")))
        return text
    if question.type == "single_choice":
        if text not in question.options:
            raise AnswerError(str(_l("Choose from the options given.")))
        return text
    if question.type == "amount":
        try:
            return str(parse_amount(text.replace("€", "").strip(),
                                    decimal_comma=_dutch_numbers()))
        except AmountError:
            raise AnswerError(str(_l("Type an amount in euros, for example 1.234,56."))) \
                from None
    if question.type == "number":
        return str(_number(text))
    if question.type == "date":
        return _date(text).isoformat()
    raise AnswerError(str(_l("This question cannot be answered here.")))


def _dutch_numbers() -> bool | None:
    """How to read "1.000": Dutch readers mean a thousand, English readers one."""
    locale = get_locale()
    return None if locale is None else locale.language == "nl"


def _number(text: str) -> Decimal:
    cleaned = text.replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", cleaned):  # Dutch thousands: 1.234,5
        cleaned = cleaned.replace(".", "")
    cleaned = cleaned.replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise AnswerError(str(_l("Type a number, for example 12 or 3,5."))) from None
    if not number.is_finite() or abs(number) > Decimal("1e15"):
        raise AnswerError(str(_l("Type a number, for example 12 or 3,5.")))
    return number


def _date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            found = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if 1900 <= found.year <= 2100:
            return found
    raise AnswerError(str(_l("Type a date as day-month-year, for example 31-12-2025.")))


def display(question: Question, value: Any, not_applicable: bool = False) -> str:
    """An answer as people read it (review pages, exports)."""
    if not_applicable:
        return str(_l("not applicable"))
    if value in (None, "", []):
        return ""
    if question.type == "yes_no":
        return str(_l("yes") if value == "yes" else _l("no"))
    if question.type == "multiple_choice":
        return "; ".join(value)
    if question.type == "amount":
        return "€ " + format_decimal(Decimal(value), format="#,##0.00")
    if question.type == "number":
        return format_decimal(Decimal(value))
    if question.type == "date":
        return date.fromisoformat(value).strftime("%d-%m-%Y")
    if question.type == "files":
        return str(len(value))
    return str(value)


def raw_for_form(question: Question, value: Any) -> Any:
    """What an input shows for a stored value (the value as it was typed, in effect)."""
    if value is None:
        return [] if question.type in ("multiple_choice", "files") else ""
    if question.type == "amount":
        return format_decimal(Decimal(value), format="#,##0.00")
    if question.type == "number":
        return format_decimal(Decimal(value))
    return value
