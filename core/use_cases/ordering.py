"""Placing and cancelling orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.audit import AuditEntry
from core.errors import DuplicatePoNumber, NoDealer, NotFound
from core.members import MemberContext
from core.notifications import NotificationKind
from core.orders import (
    NewOrder,
    Order,
    check_quantity,
    normalise_po_number,
    po_number_key,
)
from core.organisations import Organisation, Tier
from core.policy import LicensingPolicy
from core.ports import UnitOfWork
from core.use_cases.access import load_member_of_tier
from core.use_cases.notify import notify_members, order_payload

_ORDER_ACTION = "order licenses"
_CANCEL_ACTION = "cancel orders"


@dataclass(frozen=True, slots=True)
class OrderForm:
    """The customer and the dealer of an order form that is being started."""

    customer: Organisation
    dealer: Organisation


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: Order
    customer: Organisation
    dealer: Organisation


@dataclass(frozen=True, slots=True)
class CancelPreview:
    """An order the customer may cancel now, and when that stops being possible."""

    order: Order
    customer: Organisation
    deadline: datetime


async def start_order(uow: UnitOfWork, *, telegram_user_id: int) -> OrderForm:
    """Check that the member may order and has a dealer to order from."""
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ORDER_ACTION)
        dealer = await _load_dealer(uow, context.organisation)
        return OrderForm(customer=context.organisation, dealer=dealer)


async def check_po_number(uow: UnitOfWork, *, telegram_user_id: int, text: str) -> str:
    """Return the normalised PO number if the customer has not used it before."""
    po_number = normalise_po_number(text)
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ORDER_ACTION)
        await _check_po_unused(uow, context.organisation.id, po_number)
    return po_number


async def place_order(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    po_number: str,
    quantity: int,
    policy: LicensingPolicy,
    now: datetime,
) -> PlacedOrder:
    """Store a new order with the customer's current dealer.

    Every rule is checked again here, because the conversation that gathered
    the values may be old: the PO may have been used since, or the dealer
    removed.
    """
    po_number = normalise_po_number(po_number)
    check_quantity(quantity, policy.max_licenses_per_order)
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ORDER_ACTION)
        customer = context.organisation
        dealer = await _load_dealer(uow, customer)
        await _check_po_unused(uow, customer.id, po_number)
        order = await uow.orders.add(
            NewOrder(
                customer_id=customer.id,
                dealer_id=dealer.id,
                po_number=po_number,
                quantity=quantity,
                ordered_at=now,
                placed_by_member_id=context.member.id,
            )
        )
        await uow.audit.add(
            AuditEntry(
                action="order.placed",
                entity="order",
                entity_id=order.id,
                at=now,
                actor_member_id=context.member.id,
                organisation_id=customer.id,
                after={
                    "po_number": order.po_number,
                    "quantity": order.quantity,
                    "dealer_id": dealer.id,
                    "status": order.status.value,
                },
            )
        )
        await notify_members(
            uow,
            dealer.id,
            NotificationKind.ORDER_PLACED,
            now=now,
            payload=order_payload(order, customer, dealer),
            order_id=order.id,
        )
        await uow.commit()
    return PlacedOrder(order=order, customer=customer, dealer=dealer)


async def cancel_order(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    order_id: int,
    policy: LicensingPolicy,
    now: datetime,
) -> Order:
    """Cancel one of the customer's orders inside its cancel window."""
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _CANCEL_ACTION)
        order = await _load_own_order(uow, context, order_id)
        cancelled = order.cancelled(now, policy.cancel_window)
        await uow.orders.replace(order, cancelled)
        await uow.audit.add(
            AuditEntry(
                action="order.cancelled",
                entity="order",
                entity_id=order.id,
                at=now,
                actor_member_id=context.member.id,
                organisation_id=order.customer_id,
                before={"status": order.status.value},
                after={"status": cancelled.status.value},
            )
        )
        dealer = await uow.organisations.get(order.dealer_id)
        if dealer is not None:
            await notify_members(
                uow,
                dealer.id,
                NotificationKind.ORDER_CANCELLED,
                now=now,
                payload=order_payload(cancelled, context.organisation, dealer),
                order_id=order.id,
            )
        await uow.commit()
    return cancelled


async def preview_cancel(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    order_id: int,
    policy: LicensingPolicy,
    now: datetime,
) -> CancelPreview:
    """Check that the order could be cancelled now, without changing it."""
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _CANCEL_ACTION)
        order = await _load_own_order(uow, context, order_id)
    order.cancelled(now, policy.cancel_window)
    return CancelPreview(
        order=order,
        customer=context.organisation,
        deadline=order.cancel_deadline(policy.cancel_window),
    )


async def _load_own_order(uow: UnitOfWork, context: MemberContext, order_id: int) -> Order:
    order = await uow.orders.get(order_id)
    # Another customer's order is reported exactly like a missing one, so
    # forged callback data learns nothing about other customers.
    if order is None or order.customer_id != context.organisation.id:
        raise NotFound("That order was not found among your orders.")
    return order


async def _load_dealer(uow: UnitOfWork, customer: Organisation) -> Organisation:
    dealer = await uow.organisations.get(customer.dealer_id) if customer.dealer_id else None
    if dealer is None:
        raise NoDealer(f"{customer.name} has no dealer to order from. Choose one with /dealer.")
    return dealer


async def _check_po_unused(uow: UnitOfWork, customer_id: int, po_number: str) -> None:
    if await uow.orders.po_number_used(customer_id, po_number_key(po_number)):
        raise DuplicatePoNumber(
            f"PO number {po_number} was used on an earlier order (cancelled orders "
            "count too). Send a PO number you have not used before."
        )
