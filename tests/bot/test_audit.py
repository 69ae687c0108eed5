"""/audit PO through the real Application, and the splitting of long trails."""

from __future__ import annotations

from datetime import timedelta

from bot.views.audit import MAX_MESSAGE_LENGTH, MAX_MESSAGES, USAGE, render_trails
from core.audit import AuditEntry
from core.orders import Order, OrderStatus
from core.use_cases.audit_trail import OrderTrail
from core.use_cases.issuances import cancel_issuance
from core.use_cases.issuing import issue_order
from core.use_cases.ordering import cancel_order, place_order
from tests.bot.conftest import (
    AIKO,
    BRUNO,
    CLAIRE,
    DANA,
    HANA,
    LEA,
    START,
    Harness,
    add_other_dealers,
    sent_texts,
)

NOT_ALLOWED = "Only headquarters and business centre administrators can read the audit trail."


async def place(harness: Harness, po_number: str = "PO-1", customer=AIKO) -> Order:
    placed = await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=customer.id,
        po_number=po_number,
        quantity=3,
        policy=harness.policy,
        now=harness.clock.now(),
    )
    return placed.order


async def issue(harness: Harness, order: Order, dealer=DANA, dealer_name="Dealer Berlin") -> None:
    await harness.add_stock(dealer_name, order.quantity)
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=dealer.id,
        order_id=order.id,
        now=harness.clock.now(),
    )


async def cancel_issuance_as(harness: Harness, user, order: Order, reason: str) -> None:
    await cancel_issuance(
        harness.database.unit_of_work(),
        telegram_user_id=user.id,
        order_id=order.id,
        reason=reason,
        policy=harness.policy,
        now=harness.clock.now(),
    )


async def full_sequence(harness: Harness) -> Order:
    """Place PO-1, issue it, cancel the issuance through /issuances, then cancel the order."""
    harness.clock.advance(timedelta(hours=1))
    order = await place(harness)
    harness.clock.advance(timedelta(hours=1))
    await issue(harness, order)
    harness.clock.advance(timedelta(days=1))
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")
    await harness.text(HANA, "Ordered <twice> & more")
    await harness.press_label(HANA, "Yes, cancel the issuance")
    harness.clock.advance(timedelta(days=1))
    await cancel_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        order_id=order.id,
        policy=harness.policy,
        now=harness.clock.now(),
    )
    return order


async def test_trail_shows_each_step(harness: Harness) -> None:
    await full_sequence(harness)

    calls = await harness.command(HANA, "audit", "PO-1")

    [text] = sent_texts(calls)
    assert text.split("\n") == [
        "<b>Audit trail of PO-1</b>, customer Clinic Am See",
        "Status now: Order Canceled. Times in Asia/Tokyo.",
        "2026-12-04 19:00 JST · Aiko Tanaka · <b>placed</b>",
        "    po number: – → PO-1; quantity: – → 3; dealer id: – → "
        f"{harness.organisation_ids['Dealer Berlin']}; status: – → Licenses on Order",
        "2026-12-04 20:00 JST · Dana Weber · <b>issued</b>",
        "    status: Licenses on Order → License Issued; issued at: – → 2026-12-04 20:00 JST; "
        "licenses: – → 3",
        "2026-12-05 20:00 JST · Hana Sato · <b>issuance cancelled</b>",
        "    status: License Issued → Licenses on Order; issued at: 2026-12-04 20:00 JST → –; "
        "licenses returned: – → 3; reason: – → Ordered &lt;twice&gt; &amp; more",
        "2026-12-06 20:00 JST · Aiko Tanaka · <b>cancelled</b>",
        "    status: Licenses on Order → Order Canceled",
    ]


async def test_times_in_reader_timezone(harness: Harness) -> None:
    await full_sequence(harness)

    calls = await harness.command(BRUNO, "audit", "PO-1")

    [text] = sent_texts(calls)
    assert "Times in Europe/Berlin." in text
    assert "2026-12-04 11:00 CET · Aiko Tanaka · <b>placed</b>" in text


async def test_operator_and_unknown_actor(harness: Harness) -> None:
    order = await place(harness)
    trail = OrderTrail(
        order=order,
        customer_name="Clinic Am See",
        entries=[
            AuditEntry("order.placed", "order", order.id, START, None, None),
            AuditEntry("order.cancelled", "order", order.id, START, 77, None),
        ],
        actor_names={},
        timezone="UTC",
    )

    [text] = render_trails([trail])

    assert "2026-12-04 09:00 UTC · operator · <b>placed</b>" in text
    assert "2026-12-04 09:00 UTC · member 77 · <b>cancelled</b>" in text


async def test_po_compared_loosely(harness: Harness) -> None:
    await place(harness, "PO 17")

    calls = await harness.command(HANA, "audit", "po   17")

    assert sent_texts(calls)[0].startswith("<b>Audit trail of PO 17</b>")


async def test_hostile_po_escaped(harness: Harness) -> None:
    await place(harness, "<i>x</i> & 1")

    calls = await harness.command(HANA, "audit", "<i>x</i> & 1")

    assert sent_texts(calls)[0].startswith("<b>Audit trail of &lt;i&gt;x&lt;/i&gt; &amp; 1</b>")


async def test_same_po_two_customers(harness: Harness) -> None:
    await add_other_dealers(harness)
    await place(harness, "PO-1")
    await place(harness, "PO-1", customer=LEA)

    headquarters = await harness.command(HANA, "audit", "PO-1")
    germany = await harness.command(BRUNO, "audit", "PO-1")
    france = await harness.command(CLAIRE, "audit", "PO-1")

    [text] = sent_texts(headquarters)
    assert "customer Clinic Am See" in text
    assert "customer Cabinet Lyon" in text
    assert "customer Cabinet Lyon" not in sent_texts(germany)[0]
    assert "customer Clinic Am See" not in sent_texts(france)[0]


async def test_other_centre_sees_nothing(harness: Harness) -> None:
    await place(harness)

    calls = await harness.command(CLAIRE, "audit", "PO-1")

    assert sent_texts(calls) == ["No order with PO number PO-1 is visible to you."]


async def test_unknown_po(harness: Harness) -> None:
    calls = await harness.command(HANA, "audit", "PO-404")

    assert sent_texts(calls) == ["No order with PO number PO-404 is visible to you."]


async def test_missing_po_usage(harness: Harness) -> None:
    calls = await harness.command(HANA, "audit")

    assert sent_texts(calls) == [USAGE]


async def test_invalid_po_rejected(harness: Harness) -> None:
    calls = await harness.command(HANA, "audit", "x" * 65)

    assert sent_texts(calls) == ["A PO number has at most 64 characters; this one has 65."]


async def test_lower_tiers_refused(harness: Harness) -> None:
    await place(harness)

    for user in (AIKO, DANA):
        for argument in ("", "PO-1"):
            calls = await harness.command(user, "audit", argument)

            assert sent_texts(calls) == [NOT_ALLOWED], (user.first_name, argument)


async def test_long_trail_split(harness: Harness) -> None:
    order = await place(harness)
    for reason in ("&" * 500, "<" * 500):
        harness.clock.advance(timedelta(minutes=1))
        await issue(harness, order)
        harness.clock.advance(timedelta(minutes=1))
        await cancel_issuance_as(harness, HANA, order, reason)

    calls = await harness.command(HANA, "audit", "PO-1")

    texts = sent_texts(calls)
    assert len(texts) == 2
    assert "&amp;" * 500 in texts[0]
    assert "&lt;" * 500 in texts[1]
    assert texts[1].startswith("2026-12-04 18:04 JST · Hana Sato · <b>issuance cancelled</b>\n")


def test_longest_trail_cut() -> None:
    order = Order(
        id=1,
        customer_id=2,
        dealer_id=3,
        po_number="PO-1",
        quantity=1,
        status=OrderStatus.ON_ORDER,
        ordered_at=START,
        window_opened_at=START,
        placed_by_member_id=4,
    )
    entries = [
        AuditEntry(
            "issuance.cancelled",
            "order",
            1,
            START + timedelta(minutes=number),
            4,
            2,
            after={"reason": "🙂" * 500},
        )
        for number in range(40)
    ]
    trail = OrderTrail(order, "Clinic Am See", entries, {4: "Hana Sato"}, "UTC")

    texts = render_trails([trail])

    assert len(texts) == MAX_MESSAGES
    assert max(len(text.encode("utf-16-le")) // 2 for text in texts) <= MAX_MESSAGE_LENGTH
    assert texts[-1].endswith(
        "more lines not shown. The command line shows the whole trail: licensebot audit --org NAME"
    )
    assert "issuance cancelled" in texts[-1]
