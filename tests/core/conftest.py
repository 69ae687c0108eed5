"""Fixtures for the core tests: a fake database with the sample tree, and a unit of work."""

from __future__ import annotations

import pytest

from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import Tree, store_tree


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
async def tree(database: FakeDatabase) -> Tree:
    return await store_tree(database)


@pytest.fixture
def uow(database: FakeDatabase) -> FakeUnitOfWork:
    """Return a unit of work that has not committed yet, so its counts start at zero."""
    return FakeUnitOfWork(database)
