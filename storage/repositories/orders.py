"""Orders table access, with the PO uniqueness and lost-update guards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.errors import ConcurrentChange, DuplicatePoNumber
from core.orders import NewOrder, Order, OrderStatus, po_number_key
from storage.tables import LicenseRow, OrderRow

# Fields that stay as the order was placed. replace() rejects a change to them.
_FIXED_FIELDS = ("id", "customer_id", "ordered_at", "placed_by_member_id")


class SqlOrderRepository:
    """Implements ``core.ports.OrderRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: int) -> Order | None:
        statement = select(OrderRow).where(OrderRow.id == order_id)
        row = (await self._session.scalars(statement)).one_or_none()
        return _to_order(row) if row else None

    async def po_number_used(self, customer_id: int, po_key: str) -> bool:
        """Return whether the customer has an order, in any status, with ``po_key``."""
        statement = select(OrderRow.id).where(
            OrderRow.customer_id == customer_id, OrderRow.po_key == po_key
        )
        return (await self._session.scalars(statement.limit(1))).first() is not None

    async def add(self, new_order: NewOrder) -> Order:
        """Insert ``new_order`` with status ON_ORDER and version 1.

        Raises DuplicatePoNumber if the customer used the PO number before.
        The unique index on (customer_id, po_key) decides, so the second of two
        concurrent inserts fails even when both passed the check in core.
        """
        row = OrderRow(
            customer_id=new_order.customer_id,
            dealer_id=new_order.dealer_id,
            po_number=new_order.po_number,
            po_key=po_number_key(new_order.po_number),
            quantity=new_order.quantity,
            status=OrderStatus.ON_ORDER.value,
            ordered_at=new_order.ordered_at,
            window_opened_at=new_order.ordered_at,
            placed_by_member_id=new_order.placed_by_member_id,
            version=1,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as error:
            await self._raise_if_po_used(error, new_order.customer_id, new_order.po_number)
            raise
        return _to_order(row)

    async def replace(self, current: Order, changed: Order) -> None:
        """Store ``changed`` if the stored order is still at ``current.version``.

        Raises ConcurrentChange when another request changed the order first,
        and ValueError when ``changed`` alters a fixed field or does not
        advance the version by exactly one.
        """
        _check_change(current, changed)
        statement = (
            update(OrderRow)
            .where(OrderRow.id == current.id, OrderRow.version == current.version)
            .values(
                dealer_id=changed.dealer_id,
                po_number=changed.po_number,
                po_key=po_number_key(changed.po_number),
                quantity=changed.quantity,
                status=changed.status.value,
                window_opened_at=changed.window_opened_at,
                issued_at=changed.issued_at,
                cancelled_at=changed.cancelled_at,
                version=changed.version,
            )
        )
        try:
            async with self._session.begin_nested():
                result = await self._session.execute(statement)
        except IntegrityError as error:
            await self._raise_if_po_used(
                error, changed.customer_id, changed.po_number, order_id=changed.id
            )
            raise
        if result.rowcount != 1:
            raise ConcurrentChange(
                "Someone else changed this order at the same moment; nothing was "
                "changed. Look at it again and retry."
            )

    async def count_for_customer(self, customer_id: int) -> int:
        statement = (
            select(func.count()).select_from(OrderRow).where(OrderRow.customer_id == customer_id)
        )
        return (await self._session.scalars(statement)).one()

    async def page_for_customer(self, customer_id: int, *, offset: int, limit: int) -> list[Order]:
        """Return at most ``limit`` orders after the first ``offset``, newest first.

        Orders placed at the same moment come in descending id order, so
        pages never overlap or skip one.
        """
        _check_page(offset, limit)
        statement = (
            select(OrderRow)
            .where(OrderRow.customer_id == customer_id)
            .order_by(OrderRow.ordered_at.desc(), OrderRow.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = await self._session.scalars(statement)
        return [_to_order(row) for row in rows]

    async def find_by_po(self, po_key: str, customer_ids: Sequence[int] | None) -> list[Order]:
        """Return the orders whose PO key is ``po_key``, of these customers or of any if None.

        Orders come in id order, which is the order they were placed in.
        """
        statement = select(OrderRow).where(OrderRow.po_key == po_key)
        if customer_ids is not None:
            statement = statement.where(OrderRow.customer_id.in_(customer_ids))
        rows = await self._session.scalars(statement.order_by(OrderRow.id))
        return [_to_order(row) for row in rows]

    async def count_pending_for_dealer(self, dealer_id: int) -> int:
        statement = select(func.count()).select_from(OrderRow).where(*_pending_for(dealer_id))
        return (await self._session.scalars(statement)).one()

    async def list_on_order_window_opened(self, after: datetime, before: datetime) -> list[Order]:
        """Return orders on order whose cancel window opened in [after, before), oldest first."""
        statement = (
            select(OrderRow)
            .where(
                OrderRow.status == OrderStatus.ON_ORDER.value,
                OrderRow.window_opened_at >= after,
                OrderRow.window_opened_at < before,
            )
            .order_by(OrderRow.window_opened_at, OrderRow.id)
        )
        rows = await self._session.scalars(statement)
        return [_to_order(row) for row in rows]

    async def list_issued_between(self, after: datetime, before: datetime) -> list[Order]:
        """Return issued orders whose issue date is in [after, before), oldest issue first."""
        statement = (
            select(OrderRow)
            .where(
                OrderRow.status == OrderStatus.ISSUED.value,
                OrderRow.issued_at >= after,
                OrderRow.issued_at < before,
            )
            .order_by(OrderRow.issued_at, OrderRow.id)
        )
        rows = await self._session.scalars(statement)
        return [_to_order(row) for row in rows]

    async def page_pending_for_dealer(
        self, dealer_id: int, *, offset: int, limit: int
    ) -> list[Order]:
        """Return at most ``limit`` orders on order with this dealer, oldest first."""
        _check_page(offset, limit)
        statement = (
            select(OrderRow)
            .where(*_pending_for(dealer_id))
            .order_by(OrderRow.ordered_at, OrderRow.id)
            .offset(offset)
            .limit(limit)
        )
        rows = await self._session.scalars(statement)
        return [_to_order(row) for row in rows]

    async def count_cancellable_issuances(
        self, dealer_ids: Sequence[int] | None, issued_after: datetime
    ) -> int:
        statement = (
            select(func.count())
            .select_from(OrderRow)
            .where(*_cancellable_issuances(dealer_ids, issued_after))
        )
        return (await self._session.scalars(statement)).one()

    async def page_cancellable_issuances(
        self,
        dealer_ids: Sequence[int] | None,
        issued_after: datetime,
        *,
        offset: int,
        limit: int,
    ) -> list[Order]:
        """Return issued orders of these dealers (any dealer if None), newest issue first.

        Only orders issued after ``issued_after`` none of whose licenses was
        ever assigned are returned.
        """
        _check_page(offset, limit)
        statement = (
            select(OrderRow)
            .where(*_cancellable_issuances(dealer_ids, issued_after))
            .order_by(OrderRow.issued_at.desc(), OrderRow.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = await self._session.scalars(statement)
        return [_to_order(row) for row in rows]

    async def _raise_if_po_used(
        self,
        error: IntegrityError,
        customer_id: int,
        po_number: str,
        order_id: int | None = None,
    ) -> None:
        # The IntegrityError may come from another constraint, such as a
        # foreign key. Only another stored order with this PO proves that the
        # unique index fired.
        if await self._po_number_used_elsewhere(customer_id, po_number, order_id):
            raise DuplicatePoNumber(
                f"PO number {po_number} was used on an earlier order (cancelled "
                "orders count too). Send a PO number you have not used before."
            ) from error

    async def _po_number_used_elsewhere(
        self, customer_id: int, po_number: str, order_id: int | None
    ) -> bool:
        statement = select(OrderRow.id).where(
            OrderRow.customer_id == customer_id,
            OrderRow.po_key == po_number_key(po_number),
        )
        if order_id is not None:
            statement = statement.where(OrderRow.id != order_id)
        return (await self._session.scalars(statement.limit(1))).first() is not None


def _pending_for(dealer_id: int) -> tuple[Any, ...]:
    return (OrderRow.dealer_id == dealer_id, OrderRow.status == OrderStatus.ON_ORDER.value)


def _cancellable_issuances(
    dealer_ids: Sequence[int] | None, issued_after: datetime
) -> tuple[Any, ...]:
    # A license that was ever assigned has an expiry date, even once it is
    # unassigned again, and then its issuance can no longer be cancelled.
    ever_assigned = exists().where(
        LicenseRow.order_id == OrderRow.id, LicenseRow.expires_at.is_not(None)
    )
    conditions = (
        OrderRow.status == OrderStatus.ISSUED.value,
        OrderRow.issued_at > issued_after,
        ~ever_assigned,
    )
    if dealer_ids is None:
        return conditions
    return (*conditions, OrderRow.dealer_id.in_(dealer_ids))


def _check_page(offset: int, limit: int) -> None:
    if offset < 0 or limit < 1:
        raise ValueError(f"Expected offset >= 0 and limit >= 1, got {offset} and {limit}.")


def _check_change(current: Order, changed: Order) -> None:
    for field in _FIXED_FIELDS:
        if getattr(changed, field) != getattr(current, field):
            raise ValueError(
                f"Order {current.id}: {field} cannot change, but the new value is "
                f"{getattr(changed, field)!r} instead of {getattr(current, field)!r}."
            )
    if changed.version != current.version + 1:
        raise ValueError(
            f"Order {current.id}: the changed order must have version "
            f"{current.version + 1}, not {changed.version}."
        )


def _to_order(row: OrderRow) -> Order:
    assert row.id is not None
    return Order(
        id=row.id,
        customer_id=row.customer_id,
        dealer_id=row.dealer_id,
        po_number=row.po_number,
        quantity=row.quantity,
        status=OrderStatus(row.status),
        ordered_at=row.ordered_at,
        window_opened_at=row.window_opened_at,
        placed_by_member_id=row.placed_by_member_id,
        issued_at=row.issued_at,
        cancelled_at=row.cancelled_at,
        version=row.version,
    )
