"""One page of a longer, ordered list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """The items of page ``number`` (1-based) out of ``total_pages``."""

    items: Sequence[T]
    number: int
    page_size: int
    total_items: int

    @property
    def total_pages(self) -> int:
        return count_pages(self.total_items, self.page_size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.total_pages


def count_pages(total_items: int, page_size: int) -> int:
    """Return the number of pages; an empty list still has one (empty) page."""
    return max(1, -(-total_items // page_size))


def check_page_number(number: int, total_items: int, page_size: int) -> None:
    """Raise InvalidInput unless ``number`` names an existing page."""
    total_pages = count_pages(total_items, page_size)
    if not 1 <= number <= total_pages:
        there_are = "there is 1 page" if total_pages == 1 else f"there are {total_pages} pages"
        raise InvalidInput(f"Page {number} does not exist; {there_are}.")
