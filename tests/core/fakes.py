"""In-memory unit of work for the core tests, with the transaction rules of a database.

``FakeDatabase`` stores the committed rows. Each ``async with`` block of a
``FakeUnitOfWork`` works on its own copy of them, and ``commit()`` writes the
rows that the block changed or deleted back to the database. Leaving a block
without ``commit()`` discards its changes. Several units of work may share
one database, which is how a test plays two requests at once.

The repositories enforce what the SQL schema enforces: unique organisation
names, Telegram users, card keys and notification dedupe keys, the unique
(customer_id, po_key) index of orders, and the version checks of
``OrderRepository.replace`` and ``LicenseRepository.move``. Conditional
writes (``replace``, ``move``, ``mark_used``, ``CardRepository.activate``)
see the latest committed row, as an UPDATE with a WHERE clause does under
READ COMMITTED. Time ranges such as ``list_issued_between`` include the start
and exclude the end, as core.ports specifies.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self

from core.audit import AuditEntry
from core.errors import (
    AlreadyLinked,
    ConcurrentChange,
    DuplicatePoNumber,
    InvalidInput,
    InvalidOrganisation,
    NotFound,
)
from core.licenses import License, LicenseState
from core.members import Invite, Member
from core.notifications import NewNotification, Notification, NotificationStatus
from core.orders import NewOrder, Order, OrderStatus, po_number_key
from core.organisations import Organisation, Tier, name_key

# Tables of rows keyed by id or another unique key, which commit() copies or
# deletes row by row.
_ROW_TABLES = (
    "organisations",
    "members",
    "invites",
    "orders",
    "licenses",
    "cards",
    "notifications",
    "notification_keys",
    "license_users",
    "shortages",
)
# Append-only tables, which commit() extends with the rows the block added.
_LOG_TABLES = ("audit", "key_attempts")

# Order fields that never change, so replace() rejects a change to any of them.
_FIXED_ORDER_FIELDS = ("id", "customer_id", "ordered_at", "placed_by_member_id")


@dataclass(frozen=True, slots=True)
class FakeCard:
    """A stored license card key. ``activated_at`` is None until a customer activates it."""

    key: str
    created_at: datetime
    activated_at: datetime | None = None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class FakeKeyAttempt:
    """One wrong license key typed by a member."""

    member_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class FakeShortage:
    """The shortage a customer was warned about: how many licenses are missing, and since when."""

    missing: int
    since: datetime


@dataclass
class FakeState:
    """Rows of every table, keyed by id, and the logs.

    Invites are keyed by code, cards by key, notification dedupe keys by the
    key (the value is the notification id), license users by (customer id,
    e-mail address) and shortages by customer id.
    """

    organisations: dict[int, Organisation] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    licenses: dict[int, License] = field(default_factory=dict)
    cards: dict[str, FakeCard] = field(default_factory=dict)
    notifications: dict[int, Notification] = field(default_factory=dict)
    notification_keys: dict[str, int] = field(default_factory=dict)
    license_users: dict[tuple[int, str], bool] = field(default_factory=dict)
    shortages: dict[int, FakeShortage] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    key_attempts: list[FakeKeyAttempt] = field(default_factory=list)

    def copy(self) -> FakeState:
        # Rows are frozen dataclasses, so copying the containers is enough to
        # keep one transaction's changes away from another's.
        return FakeState(
            organisations=dict(self.organisations),
            members=dict(self.members),
            invites=dict(self.invites),
            orders=dict(self.orders),
            licenses=dict(self.licenses),
            cards=dict(self.cards),
            notifications=dict(self.notifications),
            notification_keys=dict(self.notification_keys),
            license_users=dict(self.license_users),
            shortages=dict(self.shortages),
            audit=list(self.audit),
            key_attempts=list(self.key_attempts),
        )


class FakeDatabase:
    """Committed state shared by the units of work of one test.

    One id sequence serves every table, so an id passed to the wrong
    repository finds nothing. Like a database sequence, it does not go back
    on rollback.
    """

    def __init__(self) -> None:
        self.committed = FakeState()
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)


class FakeUnitOfWork:
    """Implements ``core.ports.UnitOfWork`` on a ``FakeDatabase``.

    ``commit_count`` and ``block_count`` record how often the use case
    committed and how often it opened an ``async with`` block.
    """

    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database if database is not None else FakeDatabase()
        self.commit_count = 0
        self.block_count = 0
        self._working: FakeState | None = None
        # Keys of the rows that the open block wrote, per table name.
        self._written: dict[str, set[Any]] = {}
        # Rows that the open block appended, per append-only table name.
        self._appended: dict[str, list[Any]] = {}
        self.organisations = FakeOrganisationRepository(self)
        self.members = FakeMemberRepository(self)
        self.invites = FakeInviteRepository(self)
        self.orders = FakeOrderRepository(self)
        self.audit = FakeAuditRepository(self)
        self.licenses = FakeLicenseRepository(self)
        self.cards = FakeCardRepository(self)
        self.key_attempts = FakeKeyAttemptRepository(self)
        self.notifications = FakeNotificationRepository(self)
        self.license_users = FakeLicenseUserRepository(self)
        self.shortages = FakeShortageRepository(self)

    @property
    def committed(self) -> FakeState:
        """The rows that a later block or another unit of work would read."""
        return self.database.committed

    async def __aenter__(self) -> Self:
        if self._working is not None:
            raise RuntimeError(
                "This unit of work is already open. Enter it again only after its "
                "'async with' block has ended."
            )
        self._working = self.database.committed.copy()
        self._written = {table: set() for table in _ROW_TABLES}
        self._appended = {table: [] for table in _LOG_TABLES}
        self.block_count += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Dropping the working copy is the rollback of whatever was not committed.
        self._working = None
        self._written = {}
        self._appended = {}

    async def commit(self) -> None:
        working = self.working()
        committed = self.database.committed
        for table, keys in self._written.items():
            rows = getattr(working, table)
            target = getattr(committed, table)
            for key in keys:
                if key in rows:
                    target[key] = rows[key]
                else:
                    target.pop(key, None)
            keys.clear()
        for table, rows in self._appended.items():
            getattr(committed, table).extend(rows)
            rows.clear()
        self.commit_count += 1

    def working(self) -> FakeState:
        """Return the working copy of the open block, or raise RuntimeError outside a block."""
        if self._working is None:
            raise RuntimeError("Repositories are usable only inside 'async with uow:'.")
        return self._working

    def write(self, table: str, key: Any, row: Any) -> None:
        getattr(self.working(), table)[key] = row
        self._written[table].add(key)

    def delete(self, table: str, key: Any) -> None:
        getattr(self.working(), table).pop(key, None)
        self._written[table].add(key)

    def latest(self, table: str, key: Any) -> Any:
        """Return the row that a conditional UPDATE would check.

        That is this block's own uncommitted version if it wrote the row,
        else the latest committed version, even one committed after the
        block began.
        """
        if key in self._written[table]:
            return getattr(self.working(), table).get(key)
        return getattr(self.database.committed, table).get(key)

    def append(self, table: str, row: Any) -> None:
        getattr(self.working(), table).append(row)
        self._appended[table].append(row)


class FakeOrganisationRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, organisation_id: int) -> Organisation | None:
        return self._uow.working().organisations.get(organisation_id)

    async def get_by_name(self, name: str) -> Organisation | None:
        try:
            key = name_key(name)
        except InvalidInput:
            return None
        return _find_by_name_key(self._uow.working().organisations.values(), key)

    async def add(
        self,
        *,
        name: str,
        tier: Tier,
        parent_id: int | None,
        timezone: str,
        dealer_id: int | None,
    ) -> Organisation:
        key = name_key(name)
        # A unique index also covers rows that another request committed meanwhile.
        rows = [
            *self._uow.working().organisations.values(),
            *self._uow.committed.organisations.values(),
        ]
        existing = _find_by_name_key(rows, key)
        if existing is not None:
            raise InvalidOrganisation(
                f"The name {name!r} is already taken by the organisation {existing.name!r}."
            )
        organisation = Organisation(
            id=self._uow.database.next_id(),
            name=name,
            tier=tier,
            parent_id=parent_id,
            timezone=timezone,
            dealer_id=dealer_id,
        )
        self._uow.write("organisations", organisation.id, organisation)
        return organisation

    async def lock(self, organisation_id: int) -> None:
        """Do nothing: the fake runs one unit of work at a time."""

    async def set_dealer(self, customer_id: int, dealer_id: int) -> None:
        customer = self._uow.working().organisations.get(customer_id)
        if customer is None:
            raise NotFound(f"Organisation {customer_id} does not exist.")
        self._uow.write("organisations", customer_id, replace(customer, dealer_id=dealer_id))

    async def list_children(self, parent_id: int) -> list[Organisation]:
        children = [
            organisation
            for organisation in self._uow.working().organisations.values()
            if organisation.parent_id == parent_id
        ]
        return sorted(children, key=lambda organisation: organisation.id)

    async def list_by_tier(self, tier: Tier) -> list[Organisation]:
        organisations = [
            organisation
            for organisation in self._uow.working().organisations.values()
            if organisation.tier is tier
        ]
        return sorted(organisations, key=lambda organisation: organisation.id)


class FakeMemberRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get_by_telegram_user(self, telegram_user_id: int) -> Member | None:
        return _find_member(self._uow.working().members.values(), telegram_user_id)

    async def list_by_organisation(self, organisation_id: int) -> list[Member]:
        members = [
            member
            for member in self._uow.working().members.values()
            if member.organisation_id == organisation_id
        ]
        return sorted(members, key=lambda member: member.id)

    async def set_reachable(self, telegram_user_id: int, reachable: bool) -> bool:
        member = _find_member(self._uow.working().members.values(), telegram_user_id)
        if member is None:
            return False
        self._uow.write("members", member.id, replace(member, reachable=reachable))
        return True

    async def add(
        self, *, telegram_user_id: int, organisation_id: int, name: str, now: datetime
    ) -> Member:
        rows = [*self._uow.working().members.values(), *self._uow.committed.members.values()]
        if _find_member(rows, telegram_user_id) is not None:
            raise AlreadyLinked(
                f"Telegram user {telegram_user_id} is already a member of an organisation."
            )
        member = Member(
            id=self._uow.database.next_id(),
            telegram_user_id=telegram_user_id,
            organisation_id=organisation_id,
            name=name,
        )
        self._uow.write("members", member.id, member)
        return member


class FakeInviteRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, code: str) -> Invite | None:
        return self._uow.working().invites.get(code)

    async def add(self, invite: Invite) -> None:
        if (
            invite.code in self._uow.working().invites
            or invite.code in self._uow.committed.invites
        ):
            raise ValueError(f"Invite code {invite.code!r} is already stored.")
        self._uow.write("invites", invite.code, invite)

    async def mark_used(self, code: str, *, telegram_user_id: int, now: datetime) -> bool:
        invite = self._uow.latest("invites", code)
        if invite is None or invite.used_at is not None:
            return False
        used = replace(invite, used_at=now, used_by_telegram_user_id=telegram_user_id)
        self._uow.write("invites", code, used)
        return True


class FakeOrderRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, order_id: int) -> Order | None:
        return self._uow.working().orders.get(order_id)

    async def po_number_used(self, customer_id: int, po_key: str) -> bool:
        return _po_key_taken(self._uow.working().orders.values(), customer_id, po_key)

    async def add(self, new_order: NewOrder) -> Order:
        po_key = po_number_key(new_order.po_number)
        rows = [*self._uow.working().orders.values(), *self._uow.committed.orders.values()]
        if _po_key_taken(rows, new_order.customer_id, po_key):
            raise DuplicatePoNumber(
                f"PO number {new_order.po_number} was used on an earlier order of "
                f"customer {new_order.customer_id}."
            )
        order = Order(
            id=self._uow.database.next_id(),
            customer_id=new_order.customer_id,
            dealer_id=new_order.dealer_id,
            po_number=new_order.po_number,
            quantity=new_order.quantity,
            status=OrderStatus.ON_ORDER,
            ordered_at=new_order.ordered_at,
            window_opened_at=new_order.ordered_at,
            placed_by_member_id=new_order.placed_by_member_id,
        )
        self._uow.write("orders", order.id, order)
        return order

    async def replace(self, current: Order, changed: Order) -> None:
        for name in _FIXED_ORDER_FIELDS:
            if getattr(changed, name) != getattr(current, name):
                raise ValueError(f"Order {current.id}: field {name} cannot change.")
        if changed.version != current.version + 1:
            raise ValueError(
                f"Order {current.id}: expected version {current.version + 1}, "
                f"got {changed.version}."
            )
        stored = self._uow.latest("orders", current.id)
        if stored is None or stored.version != current.version:
            raise ConcurrentChange(f"Order {current.id} was changed by another request.")
        self._uow.write("orders", current.id, changed)

    async def count_for_customer(self, customer_id: int) -> int:
        return len(self._orders_of(customer_id))

    async def page_for_customer(self, customer_id: int, *, offset: int, limit: int) -> list[Order]:
        _check_slice(offset, limit)
        newest_first = sorted(
            self._orders_of(customer_id),
            key=lambda order: (order.ordered_at, order.id),
            reverse=True,
        )
        return newest_first[offset : offset + limit]

    async def find_by_po(self, po_key: str, customer_ids: Sequence[int] | None) -> list[Order]:
        orders = [
            order
            for order in self._uow.working().orders.values()
            if po_number_key(order.po_number) == po_key
            and (customer_ids is None or order.customer_id in customer_ids)
        ]
        return sorted(orders, key=lambda order: order.id)

    async def count_pending_for_dealer(self, dealer_id: int) -> int:
        return len(self._pending_for(dealer_id))

    async def list_on_order_window_opened(self, after: datetime, before: datetime) -> list[Order]:
        orders = [
            order
            for order in self._uow.working().orders.values()
            if order.status is OrderStatus.ON_ORDER and after <= order.window_opened_at < before
        ]
        return sorted(orders, key=lambda order: (order.window_opened_at, order.id))

    async def list_issued_between(self, after: datetime, before: datetime) -> list[Order]:
        orders = [
            order
            for order in self._uow.working().orders.values()
            if order.status is OrderStatus.ISSUED
            and order.issued_at is not None
            and after <= order.issued_at < before
        ]
        return sorted(orders, key=lambda order: (order.issued_at, order.id))

    async def page_pending_for_dealer(
        self, dealer_id: int, *, offset: int, limit: int
    ) -> list[Order]:
        _check_slice(offset, limit)
        oldest_first = sorted(
            self._pending_for(dealer_id), key=lambda order: (order.ordered_at, order.id)
        )
        return oldest_first[offset : offset + limit]

    async def count_cancellable_issuances(
        self, dealer_ids: Sequence[int] | None, issued_after: datetime
    ) -> int:
        return len(self._cancellable_issuances(dealer_ids, issued_after))

    async def page_cancellable_issuances(
        self,
        dealer_ids: Sequence[int] | None,
        issued_after: datetime,
        *,
        offset: int,
        limit: int,
    ) -> list[Order]:
        _check_slice(offset, limit)
        newest_first = sorted(
            self._cancellable_issuances(dealer_ids, issued_after),
            key=lambda order: (order.issued_at, order.id),
            reverse=True,
        )
        return newest_first[offset : offset + limit]

    def _orders_of(self, customer_id: int) -> list[Order]:
        orders = self._uow.working().orders.values()
        return [order for order in orders if order.customer_id == customer_id]

    def _pending_for(self, dealer_id: int) -> list[Order]:
        orders = self._uow.working().orders.values()
        return [
            order
            for order in orders
            if order.dealer_id == dealer_id and order.status is OrderStatus.ON_ORDER
        ]

    def _cancellable_issuances(
        self, dealer_ids: Sequence[int] | None, issued_after: datetime
    ) -> list[Order]:
        working = self._uow.working()
        # An order is out once any of its licenses was ever assigned, which
        # expires_at records even after the license was unassigned again.
        used_orders = {
            license.order_id
            for license in working.licenses.values()
            if license.order_id is not None and license.ever_assigned
        }
        return [
            order
            for order in working.orders.values()
            if order.status is OrderStatus.ISSUED
            and order.issued_at is not None
            and order.issued_at > issued_after
            and (dealer_ids is None or order.dealer_id in dealer_ids)
            and order.id not in used_orders
        ]


class FakeAuditRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, entry: AuditEntry) -> None:
        # The SQL table stores before and after as JSON, so a value that JSON
        # cannot encode, such as a datetime, fails there. json.dumps raises TypeError.
        json.dumps(entry.before)
        json.dumps(entry.after)
        self._uow.append("audit", entry)

    async def list_for_entity(self, entity: str, entity_id: int) -> list[AuditEntry]:
        entries = [
            entry
            for entry in self._uow.working().audit
            if entry.entity == entity and entry.entity_id == entity_id
        ]
        # sorted() is stable, so entries of the same moment keep the insertion order.
        return sorted(entries, key=lambda entry: entry.at)

    async def list_for_organisation(
        self, organisation_id: int, since: datetime | None
    ) -> list[AuditEntry]:
        """Return entries filed under the organisation or about orders it placed or received."""
        working = self._uow.working()
        order_ids = {
            order.id
            for order in working.orders.values()
            if organisation_id in (order.customer_id, order.dealer_id)
        }
        entries = [
            entry
            for entry in working.audit
            if (since is None or entry.at >= since)
            and (
                entry.organisation_id == organisation_id
                or (entry.entity == "order" and entry.entity_id in order_ids)
            )
        ]
        return sorted(entries, key=lambda entry: entry.at)


class FakeLicenseRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add_to_stock(self, dealer_id: int, count: int) -> None:
        _check_count(count)
        for _ in range(count):
            license = License(
                id=self._uow.database.next_id(),
                state=LicenseState.IN_STOCK,
                dealer_id=dealer_id,
                customer_id=None,
            )
            self._uow.write("licenses", license.id, license)

    async def count_in_stock(self, dealer_id: int) -> int:
        return len(self._stock_of(dealer_id))

    async def take_from_stock(self, dealer_id: int, count: int) -> list[License]:
        """Return at most ``count`` licenses of the stock, lowest id first.

        Nothing is locked, so two concurrent takers get the same licenses and
        the version check of ``move()`` rejects the second. PostgreSQL would
        instead hand the second taker other rows (FOR UPDATE SKIP LOCKED).
        """
        _check_count(count)
        stock = sorted(self._stock_of(dealer_id), key=lambda license: license.id)
        return stock[:count]

    async def move(self, licenses: Sequence[License], changed: Sequence[License]) -> None:
        if len(licenses) != len(changed):
            raise ValueError(
                f"Expected as many changed licenses as current ones, "
                f"got {len(changed)} for {len(licenses)}."
            )
        # Check every pair before writing one, so a failure writes nothing.
        seen: set[int] = set()
        for current, new in zip(licenses, changed, strict=True):
            if new.id != current.id:
                raise ValueError(f"License {current.id} cannot become license {new.id}.")
            if current.id in seen:
                raise ValueError(f"License {current.id} is given twice.")
            seen.add(current.id)
            if new.version != current.version + 1:
                raise ValueError(
                    f"License {current.id}: expected version {current.version + 1}, "
                    f"got {new.version}."
                )
            stored = self._uow.latest("licenses", current.id)
            if stored is None or stored.version != current.version:
                raise ConcurrentChange(f"License {current.id} was changed by another request.")
        for new in changed:
            self._uow.write("licenses", new.id, new)

    async def add_to_inventory(self, customer_id: int) -> License:
        license = License(
            id=self._uow.database.next_id(),
            state=LicenseState.UNUSED,
            dealer_id=None,
            customer_id=customer_id,
        )
        self._uow.write("licenses", license.id, license)
        return license

    async def list_for_order(self, order_id: int) -> list[License]:
        licenses = self._uow.working().licenses.values()
        return sorted(
            (license for license in licenses if license.order_id == order_id),
            key=lambda license: license.id,
        )

    async def get(self, license_id: int) -> License | None:
        return self._uow.working().licenses.get(license_id)

    async def count_inventory(self, customer_id: int, now: datetime) -> tuple[int, int]:
        inventory = self._inventory_of(customer_id)
        assignable = sum(1 for license in inventory if _assignable(license, now))
        assigned = sum(1 for license in inventory if license.state is LicenseState.ASSIGNED)
        return assignable, assigned

    async def page_assigned(self, customer_id: int, *, offset: int, limit: int) -> list[License]:
        _check_slice(offset, limit)
        assigned = [
            license
            for license in self._inventory_of(customer_id)
            if license.state is LicenseState.ASSIGNED
        ]
        assigned.sort(key=lambda license: (license.expires_at, license.id))
        return assigned[offset : offset + limit]

    async def pick_assignable(self, customer_id: int, now: datetime) -> License | None:
        candidates = [
            license for license in self._inventory_of(customer_id) if _assignable(license, now)
        ]
        reusable = [license for license in candidates if license.reusable]
        if reusable:
            # The latest expiry first, then the lowest id.
            return min(reusable, key=lambda license: (-license.expires_at.timestamp(), license.id))
        fresh = [license for license in candidates if license.expires_at is None]
        return min(fresh, key=lambda license: license.id, default=None)

    async def find_assigned(self, customer_id: int, email: str) -> License | None:
        assigned = [
            license
            for license in self._inventory_of(customer_id)
            if license.state is LicenseState.ASSIGNED and license.email == email
        ]
        return max(assigned, key=lambda license: (license.expires_at, license.id), default=None)

    async def list_assigned_expiring(self, before: datetime) -> list[License]:
        """Return assigned licenses that expire before ``before``, soonest first."""
        expiring = [
            license
            for license in self._uow.working().licenses.values()
            if license.state is LicenseState.ASSIGNED
            and license.expires_at is not None
            and license.expires_at < before
        ]
        return sorted(expiring, key=lambda license: (license.expires_at, license.id))

    def _stock_of(self, dealer_id: int) -> list[License]:
        return [
            license
            for license in self._uow.working().licenses.values()
            if license.state is LicenseState.IN_STOCK and license.dealer_id == dealer_id
        ]

    def _inventory_of(self, customer_id: int) -> list[License]:
        return [
            license
            for license in self._uow.working().licenses.values()
            if license.state is not LicenseState.IN_STOCK and license.customer_id == customer_id
        ]


class FakeCardRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, key: str, now: datetime) -> None:
        if key in self._uow.working().cards or key in self._uow.committed.cards:
            raise ValueError(f"Card key {key!r} is already stored.")
        self._uow.write("cards", key, FakeCard(key=key, created_at=now))

    async def exists(self, key: str) -> bool:
        return key in self._uow.working().cards

    async def activate(self, key: str, customer_id: int, now: datetime) -> bool:
        card = self._uow.latest("cards", key)
        if card is None or card.activated_at is not None:
            return False
        self._uow.write("cards", key, replace(card, activated_at=now, customer_id=customer_id))
        return True


class FakeKeyAttemptRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add_failure(self, member_id: int, now: datetime) -> None:
        self._uow.append("key_attempts", FakeKeyAttempt(member_id=member_id, at=now))

    async def failures_since(self, member_id: int, since: datetime) -> list[datetime]:
        times = [
            attempt.at
            for attempt in self._uow.working().key_attempts
            if attempt.member_id == member_id and attempt.at > since
        ]
        return sorted(times)


class FakeNotificationRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, notification: NewNotification) -> bool:
        # The SQL table stores the payload as JSON, so json.dumps raises
        # TypeError here for a value that fails there, such as a datetime.
        json.dumps(notification.payload)
        key = notification.dedupe_key
        # A unique index also covers keys that another request committed meanwhile.
        # NOTE: of two open blocks that add the same key, both are stored when
        # both commit. PostgreSQL would make the second wait for the first and
        # then store nothing, which the fake cannot play without blocking.
        if key is not None and (
            key in self._uow.working().notification_keys
            or key in self._uow.committed.notification_keys
        ):
            return False
        stored = Notification(
            id=self._uow.database.next_id(),
            kind=notification.kind,
            member_id=notification.member_id,
            chat_id=notification.chat_id,
            created_at=notification.created_at,
            status=NotificationStatus.PENDING,
            order_id=notification.order_id,
            payload=dict(notification.payload),
            urgent=notification.urgent,
            timezone=notification.timezone,
        )
        self._uow.write("notifications", stored.id, stored)
        if key is not None:
            self._uow.write("notification_keys", key, stored.id)
        return True

    async def get_by_message(self, chat_id: int, message_id: int) -> Notification | None:
        for notification in self._uow.working().notifications.values():
            if notification.chat_id == chat_id and notification.sent_message_id == message_id:
                return notification
        return None

    async def record_sent(self, notification_id: int, message_id: int, now: datetime) -> None:
        """Mark a notification as sent as ``message_id``, as the dispatcher does.

        This method is not part of ``core.ports``. The tests use it to play the dispatcher.
        """
        notification = self._uow.working().notifications[notification_id]
        sent = replace(
            notification,
            status=NotificationStatus.SENT,
            attempts=notification.attempts + 1,
            sent_message_id=message_id,
            sent_at=now,
        )
        self._uow.write("notifications", notification_id, sent)


class FakeLicenseUserRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def auto_assign(self, customer_id: int, email: str) -> bool:
        return self._uow.working().license_users.get((customer_id, email), True)

    async def set_auto_assign(self, customer_id: int, email: str, enabled: bool) -> None:
        self._uow.write("license_users", (customer_id, email), enabled)


class FakeShortageRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, customer_id: int) -> int | None:
        shortage = self._uow.working().shortages.get(customer_id)
        return shortage.missing if shortage is not None else None

    async def set(self, customer_id: int, missing: int, now: datetime) -> None:
        """Insert the customer's shortage, or update the missing number of a recorded one.

        An update keeps the original ``since``. Like the CHECK constraint of
        the SQL table, a missing number below 1 raises ValueError.
        """
        if missing < 1:
            raise ValueError(f"Expected a missing number >= 1, got {missing}.")
        recorded = self._uow.working().shortages.get(customer_id)
        since = recorded.since if recorded is not None else now
        self._uow.write("shortages", customer_id, FakeShortage(missing=missing, since=since))

    async def clear(self, customer_id: int) -> None:
        self._uow.delete("shortages", customer_id)

    async def list_customers(self) -> list[int]:
        return sorted(self._uow.working().shortages)


def _find_by_name_key(organisations: Iterable[Organisation], key: str) -> Organisation | None:
    for organisation in organisations:
        if name_key(organisation.name) == key:
            return organisation
    return None


def _find_member(members: Iterable[Member], telegram_user_id: int) -> Member | None:
    for member in members:
        if member.telegram_user_id == telegram_user_id:
            return member
    return None


def _po_key_taken(orders: Iterable[Order], customer_id: int, po_key: str) -> bool:
    return any(
        order.customer_id == customer_id and po_number_key(order.po_number) == po_key
        for order in orders
    )


def _check_slice(offset: int, limit: int) -> None:
    if offset < 0 or limit < 1:
        raise ValueError(f"Expected offset >= 0 and limit >= 1, got {offset} and {limit}.")


def _check_count(count: int) -> None:
    if count < 0:
        raise ValueError(f"Expected a count >= 0, got {count}.")


def _assignable(license: License, now: datetime) -> bool:
    return license.state is LicenseState.UNUSED and not license.is_expired(now)
