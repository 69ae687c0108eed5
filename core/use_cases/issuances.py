"""Cancelling an issuance: headquarters anywhere, a business centre below itself."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from core.audit import AuditEntry
from core.errors import InvalidInput, IssuanceNotCancellable, NotAllowed, NotFound
from core.licenses import LicenseState
from core.members import MemberContext
from core.notifications import NotificationKind
from core.orders import Order
from core.organisations import Organisation, Tier
from core.paging import Page, check_page_number
from core.policy import LicensingPolicy
from core.ports import UnitOfWork
from core.text import has_bidi_control, has_line_break_or_control
from core.use_cases.access import dealers_under, find_ancestor, load_member
from core.use_cases.notify import notify_members, order_payload

MAX_REASON_LENGTH = 500


@dataclass(frozen=True, slots=True)
class Issuance:
    """An issued order with the organisations it concerns and its cancel deadline.

    ``timezone`` is the time zone of the administrator's own organisation,
    in which the bot shows the dates to that administrator.
    """

    order: Order
    customer: Organisation
    dealer: Organisation
    deadline: datetime
    timezone: str


@dataclass(frozen=True, slots=True)
class CancelledIssuance:
    order: Order
    customer: Organisation
    dealer: Organisation
    licenses_returned: int


async def cancellable_issuances(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    page_number: int,
    policy: LicensingPolicy,
    now: datetime,
) -> Page[Issuance]:
    """Return one page of the issuances the member may still cancel, newest first."""
    async with uow:
        context = await _load_administrator(uow, telegram_user_id)
        dealer_ids = await _dealers_in_area(uow, context.organisation)
        issued_after = now - policy.cancel_window
        total = await uow.orders.count_cancellable_issuances(dealer_ids, issued_after)
        check_page_number(page_number, total, policy.page_size)
        orders = await uow.orders.page_cancellable_issuances(
            dealer_ids,
            issued_after,
            offset=(page_number - 1) * policy.page_size,
            limit=policy.page_size,
        )
        rows = [await _issuance(uow, context, order, policy) for order in orders]
    return Page(items=rows, number=page_number, page_size=policy.page_size, total_items=total)


async def preview_cancel_issuance(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    order_id: int,
    policy: LicensingPolicy,
    now: datetime,
) -> Issuance:
    """Check that the member may cancel the issuance now, without changing anything."""
    async with uow:
        context = await _load_administrator(uow, telegram_user_id)
        order = await _load_order_in_area(uow, context, order_id)
        order.issuance_cancelled(now, policy.cancel_window)
        await _check_licenses_unused(uow, order)
        return await _issuance(uow, context, order, policy)


async def cancel_issuance(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    order_id: int,
    reason: str,
    policy: LicensingPolicy,
    now: datetime,
) -> CancelledIssuance:
    """Return the issuance's licenses to the dealer's stock and put the order back on order.

    Both conditions are checked here, at the moment of the change: the
    issuance is younger than the cancel window, and none of its licenses was
    ever assigned.
    """
    reason = normalise_reason(reason)
    async with uow:
        context = await _load_administrator(uow, telegram_user_id)
        order = await _load_order_in_area(uow, context, order_id)
        # Assignments lock the customer's row first too; the same order of
        # locks keeps PostgreSQL from a deadlock between the two.
        await uow.organisations.lock(order.customer_id)
        order = await _load_order_in_area(uow, context, order_id)
        reopened = order.issuance_cancelled(now, policy.cancel_window)
        licenses = await _check_licenses_unused(uow, order)
        returned = [
            replace(
                license,
                state=LicenseState.IN_STOCK,
                customer_id=None,
                order_id=None,
                dealer_id=order.dealer_id,
                version=license.version + 1,
            )
            for license in licenses
        ]
        await uow.orders.replace(order, reopened)
        await uow.licenses.move(licenses, returned)
        customer = await _organisation(uow, order.customer_id)
        dealer = await _organisation(uow, order.dealer_id)
        await uow.audit.add(
            AuditEntry(
                action="issuance.cancelled",
                entity="order",
                entity_id=order.id,
                at=now,
                actor_member_id=context.member.id,
                organisation_id=order.customer_id,
                before={"status": order.status.value, "issued_at": _iso(order.issued_at)},
                after={
                    "status": reopened.status.value,
                    "issued_at": None,
                    "licenses_returned": len(returned),
                    "reason": reason,
                },
            )
        )
        payload = order_payload(reopened, customer, dealer) | {
            "reason": reason,
            "cancelled_by": context.organisation.name,
            "cancel_deadline": reopened.cancel_deadline(policy.cancel_window).isoformat(),
        }
        # The customer is told until when it may cancel the order, the dealer
        # that the licenses are back in stock, so each payload names its side.
        for organisation in (customer, dealer):
            await notify_members(
                uow,
                organisation.id,
                NotificationKind.ISSUANCE_CANCELLED,
                now=now,
                payload=payload | {"recipient_tier": int(organisation.tier)},
                order_id=order.id,
            )
        await uow.commit()
    return CancelledIssuance(
        order=reopened, customer=customer, dealer=dealer, licenses_returned=len(returned)
    )


def normalise_reason(text: str) -> str:
    """Return the reason on one line, or raise InvalidInput when it is empty or too long."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput("A reason is required; the customer and the dealer will read it.")
    if has_line_break_or_control(cleaned) or has_bidi_control(cleaned):
        raise InvalidInput(
            "A reason must be plain text, without control or text-direction characters."
        )
    if len(cleaned) > MAX_REASON_LENGTH:
        raise InvalidInput(
            f"A reason has at most {MAX_REASON_LENGTH} characters; this one has {len(cleaned)}."
        )
    return cleaned


async def _load_administrator(uow: UnitOfWork, telegram_user_id: int) -> MemberContext:
    context = await load_member(uow, telegram_user_id)
    if context.organisation.tier not in (Tier.HEADQUARTERS, Tier.BUSINESS_CENTRE):
        raise NotAllowed(
            "Only headquarters and business centre administrators can cancel issuances."
        )
    return context


async def _dealers_in_area(uow: UnitOfWork, organisation: Organisation) -> list[int] | None:
    """Return the dealers below a business centre, or None (all) for headquarters."""
    if organisation.tier is Tier.HEADQUARTERS:
        return None
    return [dealer.id for dealer in await dealers_under(uow, organisation)]


async def _load_order_in_area(uow: UnitOfWork, context: MemberContext, order_id: int) -> Order:
    order = await uow.orders.get(order_id)
    not_found = NotFound("That issuance was not found among those you may cancel.")
    if order is None:
        raise not_found
    if context.organisation.tier is Tier.BUSINESS_CENTRE:
        dealer = await _organisation(uow, order.dealer_id)
        centre = await find_ancestor(uow, dealer, Tier.BUSINESS_CENTRE)
        if centre is None or centre.id != context.organisation.id:
            raise not_found
    return order


async def _check_licenses_unused(uow: UnitOfWork, order: Order) -> list:
    licenses = await uow.licenses.list_for_order(order.id)
    used = sum(1 for license in licenses if license.ever_assigned)
    if used:
        raise IssuanceNotCancellable(
            f"{used} of the {len(licenses)} licenses of order {order.po_number} "
            "have been assigned, so the issuance can no longer be cancelled."
        )
    return licenses


async def _issuance(
    uow: UnitOfWork, context: MemberContext, order: Order, policy: LicensingPolicy
) -> Issuance:
    deadline = order.issuance_cancel_deadline(policy.cancel_window)
    assert deadline is not None
    return Issuance(
        order=order,
        customer=await _organisation(uow, order.customer_id),
        dealer=await _organisation(uow, order.dealer_id),
        deadline=deadline,
        timezone=context.organisation.timezone,
    )


async def _organisation(uow: UnitOfWork, organisation_id: int) -> Organisation:
    organisation = await uow.organisations.get(organisation_id)
    if organisation is None:
        raise NotFound(f"Organisation {organisation_id} no longer exists.")
    return organisation


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
