"""Audit trail entries: who changed what, when, with the values before and after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded change of state.

    ``actor`` is a member id, or ``None`` for an operator at the command line.
    ``before`` and ``after`` hold only the fields that the change touched, as
    JSON values (strings, numbers, booleans, None); datetimes go in as ISO 8601
    strings.
    """

    action: str
    entity: str
    entity_id: int
    at: datetime
    actor_member_id: int | None
    organisation_id: int | None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
