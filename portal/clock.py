"""The one clock of the application, so tests can move through deadlines without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(moment: datetime | None) -> None:
    """Pin now() to a moment (aware), or release it with None. For tests and tools."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment
