"""Interfaces that the storage layer implements for the use cases.

A use case opens a unit of work with ``async with uow:``, reads and writes
through its repositories, and calls ``commit()``. Leaving the block without
a commit rolls everything back, so a refused change leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, Self

from core.audit import AuditEntry
from core.members import Invite, Member
from core.orders import NewOrder, Order
from core.organisations import Organisation, Tier


class OrganisationRepository(Protocol):
    async def get(self, organisation_id: int) -> Organisation | None: ...

    async def get_by_name(self, name: str) -> Organisation | None:
        """Return the organisation whose name matches ``name`` in any case."""
        ...

    async def add(
        self,
        *,
        name: str,
        tier: Tier,
        parent_id: int | None,
        timezone: str,
        dealer_id: int | None,
    ) -> Organisation:
        """Insert an organisation; raise InvalidOrganisation if the name is taken."""
        ...

    async def set_dealer(self, customer_id: int, dealer_id: int) -> None: ...

    async def list_children(self, parent_id: int) -> list[Organisation]: ...


class MemberRepository(Protocol):
    async def get_by_telegram_user(self, telegram_user_id: int) -> Member | None: ...

    async def list_by_organisation(self, organisation_id: int) -> list[Member]: ...

    async def add(self, *, telegram_user_id: int, organisation_id: int, name: str) -> Member:
        """Insert a member; raise AlreadyLinked if the Telegram user has one."""
        ...


class InviteRepository(Protocol):
    async def get(self, code: str) -> Invite | None: ...

    async def add(self, invite: Invite) -> None: ...

    async def mark_used(self, code: str, *, telegram_user_id: int, now: datetime) -> bool:
        """Mark an unused invite as used; return False if it was used meanwhile."""
        ...


class OrderRepository(Protocol):
    async def get(self, order_id: int) -> Order | None: ...

    async def po_number_used(self, customer_id: int, po_key: str) -> bool: ...

    async def add(self, new_order: NewOrder) -> Order:
        """Insert an order; raise DuplicatePoNumber if the PO is taken."""
        ...

    async def replace(self, current: Order, changed: Order) -> None:
        """Store ``changed`` if the stored order is still at ``current.version``.

        ``changed.version`` must be ``current.version + 1``; the use case sets it.

        Raises ConcurrentChange when another request changed it first.
        """
        ...

    async def count_for_customer(self, customer_id: int) -> int: ...

    async def page_for_customer(self, customer_id: int, *, offset: int, limit: int) -> list[Order]:
        """Return at most ``limit`` orders, newest first."""
        ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...


class UnitOfWork(Protocol):
    organisations: OrganisationRepository
    members: MemberRepository
    invites: InviteRepository
    orders: OrderRepository
    audit: AuditRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
