import pytest

from core.errors import InvalidInput
from core.paging import Page, check_page_number, count_pages

PAGE_SIZE = 10


@pytest.mark.parametrize(
    ("total_items", "expected_pages"),
    [(0, 1), (1, 1), (9, 1), (10, 1), (11, 2), (20, 2), (21, 3), (95, 10), (100, 10), (101, 11)],
)
def test_count_pages(total_items: int, expected_pages: int) -> None:
    assert count_pages(total_items, PAGE_SIZE) == expected_pages


def test_count_pages_page_size_one() -> None:
    assert count_pages(95, 1) == 95


@pytest.mark.parametrize(("number", "total_items"), [(1, 0), (1, 95), (5, 95), (10, 95)])
def test_page_number_accepts_existing(number: int, total_items: int) -> None:
    check_page_number(number, total_items, PAGE_SIZE)


@pytest.mark.parametrize("total_items", [0, 1, 10, 11, 95])
def test_page_number_rejects_zero(total_items: int) -> None:
    with pytest.raises(InvalidInput, match="Page 0 does not exist"):
        check_page_number(0, total_items, PAGE_SIZE)


def test_page_number_rejects_negative() -> None:
    with pytest.raises(InvalidInput, match="Page -1 does not exist"):
        check_page_number(-1, 95, PAGE_SIZE)


@pytest.mark.parametrize(
    ("total_items", "total_pages"), [(0, 1), (1, 1), (10, 1), (11, 2), (95, 10)]
)
def test_page_number_rejects_after_last(total_items: int, total_pages: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_page_number(total_pages + 1, total_items, PAGE_SIZE)

    assert f"Page {total_pages + 1} does not exist" in str(caught.value)
    expected = "there is 1 page" if total_pages == 1 else f"there are {total_pages} pages"
    assert expected in str(caught.value)


def test_page_total_pages() -> None:
    page = Page(items=[], number=1, page_size=PAGE_SIZE, total_items=95)

    assert page.total_pages == 10


def test_page_first_of_many_has_only_next() -> None:
    page = Page(items=[], number=1, page_size=PAGE_SIZE, total_items=95)

    assert not page.has_previous
    assert page.has_next


def test_page_middle_has_both_neighbours() -> None:
    page = Page(items=[], number=5, page_size=PAGE_SIZE, total_items=95)

    assert page.has_previous
    assert page.has_next


def test_page_last_has_only_previous() -> None:
    page = Page(items=[], number=10, page_size=PAGE_SIZE, total_items=95)

    assert page.has_previous
    assert not page.has_next


def test_page_single_has_no_neighbours() -> None:
    page = Page(items=[], number=1, page_size=PAGE_SIZE, total_items=10)

    assert not page.has_previous
    assert not page.has_next
