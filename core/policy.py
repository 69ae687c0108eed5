"""Configured limits that the licensing rules depend on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DEFAULT_CANCEL_WINDOW = timedelta(days=14)
DEFAULT_MAX_LICENSES_PER_ORDER = 1000
DEFAULT_PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class LicensingPolicy:
    """Limits read from the configuration and passed to every use case."""

    cancel_window: timedelta = DEFAULT_CANCEL_WINDOW
    max_licenses_per_order: int = DEFAULT_MAX_LICENSES_PER_ORDER
    page_size: int = DEFAULT_PAGE_SIZE
