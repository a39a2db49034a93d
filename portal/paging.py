"""One page of a list: the rows, how many there are in all, counts for the filter chips."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 50


@dataclass
class Page:
    rows: list[Any]
    total: int
    page: int
    page_size: int = PAGE_SIZE
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)


def clamp(page: int, total: int, page_size: int = PAGE_SIZE) -> int:
    """A page number that exists (the last one when asked for more)."""
    return min(max(page, 1), max((total + page_size - 1) // page_size, 1))
