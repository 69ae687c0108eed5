"""Interfaces that the storage layer implements for the use cases.

A use case opens a unit of work with ``async with uow:``, reads and writes
through its repositories, and calls ``commit()``. Leaving the block without
a commit rolls everything back, so a refused change leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, Self

from core.audit import AuditEntry
from core.licenses import License
from core.members import Invite, Member
from core.notifications import NewNotification, Notification
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

    async def lock(self, organisation_id: int) -> None:
        """Hold the organisation's row until the transaction ends (a no-op where
        transactions already run one at a time, as on SQLite)."""
        ...

    async def list_children(self, parent_id: int) -> list[Organisation]: ...

    async def list_by_tier(self, tier: Tier) -> list[Organisation]: ...


class MemberRepository(Protocol):
    async def get_by_telegram_user(self, telegram_user_id: int) -> Member | None: ...

    async def list_by_organisation(self, organisation_id: int) -> list[Member]: ...

    async def set_reachable(self, telegram_user_id: int, reachable: bool) -> bool:
        """Record whether the member can receive messages; return False if not a member."""
        ...

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

    async def find_by_po(self, po_key: str, customer_ids: Sequence[int] | None) -> list[Order]:
        """Return orders whose PO key is ``po_key``, of these customers or of any if None."""
        ...

    async def count_pending_for_dealer(self, dealer_id: int) -> int: ...

    async def list_on_order_window_opened(self, after: datetime, before: datetime) -> list[Order]:
        """Return orders on order whose cancel window opened in [after, before)."""
        ...

    async def list_issued_between(self, after: datetime, before: datetime) -> list[Order]:
        """Return issued orders whose issue date is in [after, before)."""
        ...

    async def page_pending_for_dealer(
        self, dealer_id: int, *, offset: int, limit: int
    ) -> list[Order]:
        """Return at most ``limit`` orders on order with this dealer, oldest first."""
        ...

    async def count_cancellable_issuances(
        self, dealer_ids: Sequence[int] | None, issued_after: datetime
    ) -> int: ...

    async def page_cancellable_issuances(
        self,
        dealer_ids: Sequence[int] | None,
        issued_after: datetime,
        *,
        offset: int,
        limit: int,
    ) -> list[Order]:
        """Return issued orders of these dealers (any dealer if None), newest issue first.

        Only orders issued after ``issued_after`` whose licenses were never
        assigned are returned.
        """
        ...

    async def page_for_customer(self, customer_id: int, *, offset: int, limit: int) -> list[Order]:
        """Return at most ``limit`` orders, newest first."""
        ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...

    async def list_for_entity(self, entity: str, entity_id: int) -> list[AuditEntry]:
        """Return the entries about one record, oldest first."""
        ...

    async def list_for_organisation(
        self, organisation_id: int, since: datetime | None
    ) -> list[AuditEntry]:
        """Return the entries about an organisation and its orders, oldest first."""
        ...


class LicenseRepository(Protocol):
    async def add_to_stock(self, dealer_id: int, count: int) -> None: ...

    async def count_in_stock(self, dealer_id: int) -> int: ...

    async def take_from_stock(self, dealer_id: int, count: int) -> list[License]:
        """Return ``count`` licenses of the dealer's stock, locked for this transaction.

        Returns fewer when the stock is short; the caller decides what then.
        """
        ...

    async def move(self, licenses: Sequence[License], changed: Sequence[License]) -> None:
        """Store each changed license if it is still at its version; else ConcurrentChange."""
        ...

    async def add_to_inventory(self, customer_id: int) -> License:
        """Insert one unused license into a customer's inventory (from a license card)."""
        ...

    async def list_for_order(self, order_id: int) -> list[License]: ...

    async def get(self, license_id: int) -> License | None: ...

    async def count_inventory(self, customer_id: int, now: datetime) -> tuple[int, int]:
        """Return the numbers of assignable (unused, not expired) and assigned licenses."""
        ...

    async def page_assigned(self, customer_id: int, *, offset: int, limit: int) -> list[License]:
        """Return assigned licenses, soonest expiry first."""
        ...

    async def pick_assignable(self, customer_id: int, now: datetime) -> License | None:
        """Return the license to assign next: reusable first, the latest expiry first."""
        ...

    async def find_assigned(self, customer_id: int, email: str) -> License | None:
        """Return the assigned license of ``email`` that expires last, if any."""
        ...

    async def list_assigned_expiring(self, before: datetime) -> list[License]:
        """Return assigned licenses of every customer that expire before ``before``.

        Expired ones whose expiry was not processed yet are included.
        """
        ...


class LicenseUserRepository(Protocol):
    """Per-user settings of a customer's license users, named by e-mail address."""

    async def auto_assign(self, customer_id: int, email: str) -> bool:
        """Return whether auto-assign is on for the user; it is on unless turned off."""
        ...

    async def set_auto_assign(self, customer_id: int, email: str, enabled: bool) -> None: ...


class ShortageRepository(Protocol):
    """The shortage each customer was last warned about, so each is warned once."""

    async def get(self, customer_id: int) -> int | None:
        """Return the missing number the customer was warned about, or None."""
        ...

    async def set(self, customer_id: int, missing: int, now: datetime) -> None: ...

    async def clear(self, customer_id: int) -> None: ...

    async def list_customers(self) -> list[int]:
        """Return the customers with a recorded shortage."""
        ...


class CardRepository(Protocol):
    async def add(self, key: str, now: datetime) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def activate(self, key: str, customer_id: int, now: datetime) -> bool:
        """Mark an unused key as activated; return False if it is unknown or used."""
        ...


class KeyAttemptRepository(Protocol):
    async def add_failure(self, member_id: int, now: datetime) -> None: ...

    async def failures_since(self, member_id: int, since: datetime) -> list[datetime]:
        """Return the times of the member's wrong keys after ``since``, oldest first."""
        ...


class NotificationRepository(Protocol):
    async def add(self, notification: NewNotification) -> bool:
        """Store the notification; return False if its dedupe_key is stored already."""
        ...

    async def get_by_message(self, chat_id: int, message_id: int) -> Notification | None:
        """Return the notification that was sent as this Telegram message, if any."""
        ...


class UnitOfWork(Protocol):
    organisations: OrganisationRepository
    members: MemberRepository
    invites: InviteRepository
    orders: OrderRepository
    audit: AuditRepository
    licenses: LicenseRepository
    cards: CardRepository
    key_attempts: KeyAttemptRepository
    notifications: NotificationRepository
    license_users: LicenseUserRepository
    shortages: ShortageRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
