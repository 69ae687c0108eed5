"""In-memory unit of work for the core tests, with the transaction rules of a database.

``FakeDatabase`` stores the committed rows. Each ``async with`` block of a
``FakeUnitOfWork`` works on its own copy of them, and ``commit()`` writes the
rows that the block changed back to the database. Leaving a block without
``commit()`` discards its changes. Several units of work may share one
database, which is how a test plays two requests at once.

The repositories enforce what the SQL schema enforces: unique organisation
names and Telegram users, the unique (customer_id, po_key) index of orders,
and the version check of ``replace``. Conditional writes (``replace``,
``mark_used``) see the latest committed row, as an UPDATE with a WHERE
clause does under READ COMMITTED.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
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
from core.members import Invite, Member
from core.orders import NewOrder, Order, OrderStatus, po_number_key
from core.organisations import Organisation, Tier, name_key

_ROW_TABLES = ("organisations", "members", "invites", "orders")

# Order fields that never change, so replace() rejects a change to any of them.
_FIXED_ORDER_FIELDS = ("id", "customer_id", "ordered_at", "placed_by_member_id")


@dataclass
class FakeState:
    """Rows of every table, keyed by id (invites by code), and the audit trail."""

    organisations: dict[int, Organisation] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)

    def copy(self) -> FakeState:
        # Rows are frozen dataclasses, so copying the containers is enough to
        # keep one transaction's changes away from another's.
        return FakeState(
            organisations=dict(self.organisations),
            members=dict(self.members),
            invites=dict(self.invites),
            orders=dict(self.orders),
            audit=list(self.audit),
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
        self._new_audit: list[AuditEntry] = []
        self.organisations = FakeOrganisationRepository(self)
        self.members = FakeMemberRepository(self)
        self.invites = FakeInviteRepository(self)
        self.orders = FakeOrderRepository(self)
        self.audit = FakeAuditRepository(self)

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
        self._written = {
            "organisations": set(),
            "members": set(),
            "invites": set(),
            "orders": set(),
        }
        self._new_audit = []
        self.block_count += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Dropping the working copy is the rollback of whatever was not committed.
        self._working = None
        self._written = {}
        self._new_audit = []

    async def commit(self) -> None:
        working = self.working()
        committed = self.database.committed
        for table, keys in self._written.items():
            rows = getattr(working, table)
            target = getattr(committed, table)
            for key in keys:
                target[key] = rows[key]
            keys.clear()
        committed.audit.extend(self._new_audit)
        self._new_audit = []
        self.commit_count += 1

    def working(self) -> FakeState:
        """Return the working copy of the open block, or raise RuntimeError outside a block."""
        if self._working is None:
            raise RuntimeError("Repositories are usable only inside 'async with uow:'.")
        return self._working

    def write(self, table: str, key: Any, row: Any) -> None:
        getattr(self.working(), table)[key] = row
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

    def add_audit(self, entry: AuditEntry) -> None:
        self.working().audit.append(entry)
        self._new_audit.append(entry)


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
        if offset < 0 or limit < 1:
            raise ValueError(f"Expected offset >= 0 and limit >= 1, got {offset} and {limit}.")
        newest_first = sorted(
            self._orders_of(customer_id),
            key=lambda order: (order.ordered_at, order.id),
            reverse=True,
        )
        return newest_first[offset : offset + limit]

    def _orders_of(self, customer_id: int) -> list[Order]:
        orders = self._uow.working().orders.values()
        return [order for order in orders if order.customer_id == customer_id]


class FakeAuditRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, entry: AuditEntry) -> None:
        # The SQL table stores before and after as JSON, so a value that JSON
        # cannot encode, such as a datetime, fails there. json.dumps raises TypeError.
        json.dumps(entry.before)
        json.dumps(entry.after)
        self._uow.add_audit(entry)


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
