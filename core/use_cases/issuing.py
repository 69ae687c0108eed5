"""A dealer's side of orders: pending orders, stock, and issuing licenses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from core.audit import AuditEntry
from core.errors import ConcurrentChange, NotFound, StockShort
from core.licenses import LicenseState
from core.members import MemberContext
from core.notifications import NotificationKind
from core.orders import Order
from core.organisations import Organisation, Tier
from core.paging import Page, check_page_number
from core.policy import LicensingPolicy
from core.ports import UnitOfWork
from core.use_cases.access import load_member_of_tier
from core.use_cases.notify import notify_members, order_payload

_ISSUE_ACTION = "issue licenses"


@dataclass(frozen=True, slots=True)
class PendingOrder:
    order: Order
    customer: Organisation


@dataclass(frozen=True, slots=True)
class PendingOrders:
    dealer: Organisation
    stock: int
    page: Page[PendingOrder]


@dataclass(frozen=True, slots=True)
class IssuePreview:
    """An order the dealer may issue now, with the stock before issuing."""

    order: Order
    customer: Organisation
    dealer: Organisation
    stock: int


@dataclass(frozen=True, slots=True)
class IssuedOrder:
    order: Order
    customer: Organisation
    dealer: Organisation
    stock_left: int


async def pending_orders(
    uow: UnitOfWork, *, telegram_user_id: int, page_number: int, policy: LicensingPolicy
) -> PendingOrders:
    """Return one page of the dealer's orders waiting for issuance, oldest first."""
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.DEALER, _ISSUE_ACTION)
        dealer = context.organisation
        total = await uow.orders.count_pending_for_dealer(dealer.id)
        check_page_number(page_number, total, policy.page_size)
        orders = await uow.orders.page_pending_for_dealer(
            dealer.id, offset=(page_number - 1) * policy.page_size, limit=policy.page_size
        )
        rows = [PendingOrder(order, await _customer(uow, order)) for order in orders]
        stock = await uow.licenses.count_in_stock(dealer.id)
    page = Page(items=rows, number=page_number, page_size=policy.page_size, total_items=total)
    return PendingOrders(dealer=dealer, stock=stock, page=page)


async def stock_level(uow: UnitOfWork, *, telegram_user_id: int) -> tuple[Organisation, int]:
    """Return the member's dealer and the number of licenses in its stock."""
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.DEALER, "see stock")
        return context.organisation, await uow.licenses.count_in_stock(context.organisation.id)


async def preview_issue(
    uow: UnitOfWork, *, telegram_user_id: int, order_id: int, now: datetime
) -> IssuePreview:
    """Check that the member may issue the order now, without changing anything."""
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.DEALER, _ISSUE_ACTION)
        order = await _load_dealer_order(uow, context, order_id)
        order.issued(now, context.organisation.timezone)
        stock = await uow.licenses.count_in_stock(context.organisation.id)
        _check_stock(order, stock)
        customer = await _customer(uow, order)
    return IssuePreview(order=order, customer=customer, dealer=context.organisation, stock=stock)


async def issue_order(
    uow: UnitOfWork, *, telegram_user_id: int, order_id: int, now: datetime
) -> IssuedOrder:
    """Move the order's licenses from the dealer's stock to the customer, in one transaction.

    Raises StockShort, naming both numbers, when the stock is too small;
    nothing moves then.
    """
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.DEALER, _ISSUE_ACTION)
        dealer = context.organisation
        order = await _load_dealer_order(uow, context, order_id)
        issued = order.issued(now, dealer.timezone)
        taken = await uow.licenses.take_from_stock(dealer.id, order.quantity)
        if len(taken) < order.quantity:
            _check_stock(order, await uow.licenses.count_in_stock(dealer.id))
            # The stock suffices, but another issuance holds some of it right now.
            raise ConcurrentChange(
                "Another issuance is taking licenses from your stock at this moment, so "
                "nothing was issued. Try again in a moment."
            )
        moved = [
            replace(
                license,
                state=LicenseState.UNUSED,
                customer_id=order.customer_id,
                order_id=order.id,
                version=license.version + 1,
            )
            for license in taken
        ]
        await uow.orders.replace(order, issued)
        await uow.licenses.move(taken, moved)
        customer = await _customer(uow, order)
        await uow.audit.add(
            AuditEntry(
                action="order.issued",
                entity="order",
                entity_id=order.id,
                at=now,
                actor_member_id=context.member.id,
                organisation_id=order.customer_id,
                before={"status": order.status.value, "issued_at": None},
                after={
                    "status": issued.status.value,
                    "issued_at": now.isoformat(),
                    "licenses": len(moved),
                },
            )
        )
        await notify_members(
            uow,
            customer.id,
            NotificationKind.ORDER_ISSUED,
            now=now,
            payload=order_payload(issued, customer, dealer),
            order_id=order.id,
        )
        stock_left = await uow.licenses.count_in_stock(dealer.id)
        await uow.commit()
    return IssuedOrder(order=issued, customer=customer, dealer=dealer, stock_left=stock_left)


async def order_for_reply(
    uow: UnitOfWork, *, telegram_user_id: int, chat_id: int, message_id: int
) -> int | None:
    """Return the order that a replied-to bot message was about, if it announced a new order.

    Returns None when the message is not an order notification, so the bot
    can treat the reply as ordinary text.
    """
    async with uow:
        notification = await uow.notifications.get_by_message(chat_id, message_id)
    if notification is None or notification.kind is not NotificationKind.ORDER_PLACED:
        return None
    return notification.order_id


async def _load_dealer_order(uow: UnitOfWork, context: MemberContext, order_id: int) -> Order:
    order = await uow.orders.get(order_id)
    # An order of another dealer reads exactly like a missing one.
    if order is None or order.dealer_id != context.organisation.id:
        raise NotFound("That order was not found among the orders placed with your dealer.")
    return order


async def _customer(uow: UnitOfWork, order: Order) -> Organisation:
    customer = await uow.organisations.get(order.customer_id)
    if customer is None:
        raise NotFound(f"Customer {order.customer_id} of order {order.id} no longer exists.")
    return customer


def _check_stock(order: Order, stock: int) -> None:
    if stock < order.quantity:
        raise StockShort(
            f"Your stock has {stock} licenses, but order {order.po_number} needs "
            f"{order.quantity}. Nothing was issued; ask for more stock first."
        )
