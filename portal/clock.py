"""The one clock of the application, so tests can move through deadlines without sleeping.

Moments are kept in UTC; the calendar the practices and their clients live by (what day
it is, when a deadline date ends, which month a statement covers) is Amsterdam's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in the Netherlands (at 00:30 there it is still yesterday in UTC)."""
    return now().astimezone(AMSTERDAM).date()


def end_of_day(day: date) -> datetime:
    """A deadline date means the end of that day in the Netherlands."""
    return datetime.combine(day, time(23, 59), AMSTERDAM)


def freeze(moment: datetime | None) -> None:
    """Pin now() to a moment (aware), or release it with None. For tests and tools."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment
