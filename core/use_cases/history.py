"""A customer's order history, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.orders import Order
from core.organisations import Organisation, Tier
from core.paging import Page, check_page_number
from core.policy import LicensingPolicy
from core.ports import UnitOfWork
from core.use_cases.access import load_member_of_tier


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """An order and, while it can still be cancelled, the end of its cancel window."""

    order: Order
    cancel_deadline: datetime | None

    @property
    def can_cancel(self) -> bool:
        return self.cancel_deadline is not None


@dataclass(frozen=True, slots=True)
class OrderHistory:
    customer: Organisation
    page: Page[HistoryRow]


async def order_history(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    page_number: int,
    policy: LicensingPolicy,
    now: datetime,
) -> OrderHistory:
    """Return one page of the customer's orders, newest first.

    Raises InvalidInput for a page number outside 1 to the number of pages.
    """
    async with uow:
        context = await load_member_of_tier(
            uow, telegram_user_id, Tier.CUSTOMER, "see the order history"
        )
        customer_id = context.organisation.id
        total = await uow.orders.count_for_customer(customer_id)
        check_page_number(page_number, total, policy.page_size)
        orders = await uow.orders.page_for_customer(
            customer_id,
            offset=(page_number - 1) * policy.page_size,
            limit=policy.page_size,
        )
    rows = [
        HistoryRow(
            order,
            order.cancel_deadline(policy.cancel_window)
            if order.can_cancel(now, policy.cancel_window)
            else None,
        )
        for order in orders
    ]
    page = Page(items=rows, number=page_number, page_size=policy.page_size, total_items=total)
    return OrderHistory(customer=context.organisation, page=page)
