"""The notification outbox: adding in a unit of work, then claiming and marking deliveries."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from core.notifications import (
    NewNotification,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from storage import Database, Outbox

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STALE_AFTER = timedelta(minutes=5)


@pytest.fixture
def outbox(database: Database) -> Outbox:
    return Outbox(database)


@pytest.fixture
def notify(database: Database, tree):
    """Return a function that adds notifications to the tree's member and commits."""

    async def add(count: int = 1, *, urgent: bool = False, order_id: int | None = None) -> None:
        async with database.unit_of_work() as uow:
            for number in range(count):
                await uow.notifications.add(
                    NewNotification(
                        kind=NotificationKind.ORDER_PLACED,
                        member_id=tree.member_id,
                        chat_id=tree.member_telegram_user_id,
                        created_at=NOW,
                        order_id=order_id,
                        payload={"po_number": f"PO-{number}", "quantity": 3, "note": "Grüße"},
                        urgent=urgent,
                    )
                )
            await uow.commit()

    return add


async def _claim(outbox: Outbox, claimer: str, now: datetime = NOW, limit: int = 10):
    return await outbox.claim_due(now=now, limit=limit, claimer=claimer, stale_after=STALE_AFTER)


async def _claim_one(outbox: Outbox, claimer: str = "a", now: datetime = NOW) -> Notification:
    (notification,) = await _claim(outbox, claimer, now)
    return notification


async def test_added_notification_round_trip(outbox: Outbox, notify, tree, new_order, database):
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order("PO-1"))
        await uow.commit()
    await notify(order_id=order.id)

    claimed = await _claim_one(outbox)

    assert claimed.kind is NotificationKind.ORDER_PLACED
    assert claimed.member_id == tree.member_id
    assert claimed.chat_id == tree.member_telegram_user_id
    assert claimed.order_id == order.id
    assert claimed.created_at == NOW
    assert claimed.payload == {"po_number": "PO-0", "quantity": 3, "note": "Grüße"}
    assert claimed.urgent is False
    assert claimed.status is NotificationStatus.SENDING
    assert claimed.attempts == 0
    assert claimed.sent_message_id is None


async def test_claim_nothing_due(outbox: Outbox) -> None:
    assert await _claim(outbox, "a") == []


async def test_claim_respects_limit(outbox: Outbox, notify) -> None:
    await notify(5)

    first = await _claim(outbox, "a", limit=3)
    second = await _claim(outbox, "a", limit=3)
    third = await _claim(outbox, "a", limit=3)

    assert len(first) == 3
    assert len(second) == 2
    assert third == []


async def test_claim_bad_limit_rejected(outbox: Outbox) -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        await _claim(outbox, "a", limit=0)


async def test_claim_urgent_first(outbox: Outbox, notify) -> None:
    await notify(2)
    await notify(1, urgent=True)
    await notify(1)

    claimed = await _claim(outbox, "a")

    assert [notification.urgent for notification in claimed] == [True, False, False, False]
    assert [notification.id for notification in claimed[1:]] == sorted(
        notification.id for notification in claimed[1:]
    )


async def test_concurrent_claims_disjoint(database: Database, outbox: Outbox, notify) -> None:
    await notify(1_000)
    other_database = Database(database.engine.url.render_as_string(hide_password=False))
    other_outbox = Outbox(other_database)

    async def drain(box: Outbox, claimer: str) -> list[int]:
        ids: list[int] = []
        while claimed := await _claim(box, claimer, limit=25):
            ids.extend(notification.id for notification in claimed)
            await asyncio.sleep(0)
        return ids

    try:
        first, second = await asyncio.gather(drain(outbox, "a"), drain(other_outbox, "b"))
    finally:
        await other_database.dispose()
    counts = Counter(first + second)

    # Which claimer gets how many depends on timing: on SQLite one of them
    # may take every batch. Each notification is claimed exactly once either way.
    assert len(counts) == 1_000
    assert set(counts.values()) == {1}


async def test_claimed_not_claimed_again(outbox: Outbox, notify) -> None:
    await notify()
    await _claim_one(outbox, "a")

    assert await _claim(outbox, "b", NOW + STALE_AFTER) == []


async def test_stale_claim_reclaimed(outbox: Outbox, notify) -> None:
    await notify()
    first = await _claim_one(outbox, "a")

    second = await _claim_one(outbox, "b", NOW + STALE_AFTER + timedelta(seconds=1))

    assert second.id == first.id
    assert second.status is NotificationStatus.SENDING


async def test_mark_sent_by_loser_rejected(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox, "a")
    later = NOW + STALE_AFTER + timedelta(seconds=1)
    await _claim_one(outbox, "b", later)

    lost = await outbox.mark_sent(claimed.id, claimer="a", message_id=10, now=later)
    won = await outbox.mark_sent(claimed.id, claimer="b", message_id=11, now=later)

    assert lost is False
    assert won is True


async def test_get_by_message_after_sent(database: Database, outbox: Outbox, notify, tree):
    await notify()
    claimed = await _claim_one(outbox)
    sent_at = NOW + timedelta(seconds=2)
    await outbox.mark_sent(claimed.id, claimer="a", message_id=42, now=sent_at)

    async with database.unit_of_work() as uow:
        found = await uow.notifications.get_by_message(tree.member_telegram_user_id, 42)
        other_message = await uow.notifications.get_by_message(tree.member_telegram_user_id, 43)
        other_chat = await uow.notifications.get_by_message(1, 42)

    assert found.id == claimed.id
    assert found.status is NotificationStatus.SENT
    assert found.sent_message_id == 42
    assert found.sent_at == sent_at
    assert found.attempts == 1
    assert other_message is None
    assert other_chat is None


async def test_sent_not_claimed_again(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)
    await outbox.mark_sent(claimed.id, claimer="a", message_id=42, now=NOW)

    assert await _claim(outbox, "a", NOW + timedelta(days=1)) == []


async def test_same_message_twice_rejected(outbox: Outbox, notify) -> None:
    await notify(2)
    first, second = await _claim(outbox, "a")
    await outbox.mark_sent(first.id, claimer="a", message_id=42, now=NOW)

    with pytest.raises(IntegrityError):
        await outbox.mark_sent(second.id, claimer="a", message_id=42, now=NOW)


async def test_mark_unclaimed_rejected(outbox: Outbox, notify) -> None:
    await notify()
    (pending,) = await outbox.list([NotificationStatus.PENDING], limit=10)

    assert await outbox.mark_sent(pending.id, claimer="a", message_id=1, now=NOW) is False
    assert await outbox.mark_failed(pending.id, claimer="a", error="x") is False


async def test_retry_due_at_retry_time(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)
    retry_at = NOW + timedelta(seconds=30)
    await outbox.mark_retry(claimed.id, claimer="a", error="timed out", retry_at=retry_at)

    early = await _claim(outbox, "a", retry_at - timedelta(seconds=1))
    due = await _claim_one(outbox, "a", retry_at)

    assert early == []
    assert due.id == claimed.id
    assert due.attempts == 1
    assert due.last_error == "timed out"
    assert due.next_attempt_at == retry_at


async def test_retry_by_loser_rejected(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)

    retried = await outbox.mark_retry(claimed.id, claimer="b", error="x", retry_at=NOW)

    assert retried is False


@pytest.mark.parametrize(
    ("status", "method"),
    [
        (NotificationStatus.FAILED, "mark_failed"),
        (NotificationStatus.UNREACHABLE, "mark_unreachable"),
    ],
)
async def test_final_states_not_claimed(outbox: Outbox, notify, status, method) -> None:
    await notify()
    claimed = await _claim_one(outbox)

    marked = await getattr(outbox, method)(claimed.id, claimer="a", error="Forbidden")
    again = await _claim(outbox, "a", NOW + timedelta(days=1))
    (listed,) = await outbox.list([status], limit=10)

    assert marked is True
    assert again == []
    assert listed.id == claimed.id
    assert listed.status is status
    assert listed.attempts == 1
    assert listed.last_error == "Forbidden"


async def test_requeue_failed(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)
    await outbox.mark_failed(claimed.id, claimer="a", error="Bad Request")

    requeued = await outbox.requeue(claimed.id)
    reclaimed = await _claim_one(outbox, "b")

    assert requeued is True
    assert reclaimed.id == claimed.id
    assert reclaimed.attempts == 0


async def test_requeue_pending_rejected(outbox: Outbox, notify) -> None:
    await notify()
    (pending,) = await outbox.list([NotificationStatus.PENDING], limit=10)

    assert await outbox.requeue(pending.id) is False
    assert await outbox.requeue(999_999) is False


async def test_list_filters_and_limits(outbox: Outbox, notify) -> None:
    await notify(3)
    (claimed,) = await _claim(outbox, "a", limit=1)
    await outbox.mark_unreachable(claimed.id, claimer="a", error="blocked")

    pending = await outbox.list([NotificationStatus.PENDING], limit=10)
    newest_pending = await outbox.list([NotificationStatus.PENDING], limit=1)
    either = await outbox.list(
        [NotificationStatus.PENDING, NotificationStatus.UNREACHABLE], limit=10
    )
    every = await outbox.list()
    nothing = await outbox.list([], limit=10)

    assert len(pending) == 2
    assert newest_pending == pending[:1]
    assert [notification.id for notification in either] == sorted(
        (notification.id for notification in either), reverse=True
    )
    assert len(either) == 3
    assert either[-1].id == claimed.id
    assert either[-1].last_error == "blocked"
    assert every == either
    assert nothing == []


async def test_list_newest_first(outbox: Outbox, notify) -> None:
    await notify(3)

    every = await outbox.list(limit=10)
    newest_two = await outbox.list(limit=2)
    ids = [notification.id for notification in every]

    assert len(ids) == 3
    assert ids == sorted(ids, reverse=True)
    assert newest_two == every[:2]


async def test_list_bad_limit_rejected(outbox: Outbox) -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        await outbox.list(limit=0)


async def test_get_round_trip(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)
    await outbox.mark_failed(claimed.id, claimer="a", error="Bad Request: chat not found")

    found = await outbox.get(claimed.id)

    assert found.id == claimed.id
    assert found.status is NotificationStatus.FAILED
    assert found.attempts == 1
    assert found.last_error == "Bad Request: chat not found"
    assert found.timezone == "UTC"


async def test_get_missing_is_none(outbox: Outbox) -> None:
    assert await outbox.get(999_999) is None


async def test_postpone_counts_no_attempt(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)
    until = NOW + timedelta(hours=9)

    postponed = await outbox.postpone(claimed.id, claimer="a", until=until)
    stored = await outbox.get(claimed.id)

    assert postponed is True
    assert stored.status is NotificationStatus.PENDING
    assert stored.next_attempt_at == until
    assert stored.attempts == 0


async def test_postpone_keeps_last_error(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)
    await outbox.mark_retry(claimed.id, claimer="a", error="timed out", retry_at=NOW)
    reclaimed = await _claim_one(outbox)

    await outbox.postpone(reclaimed.id, claimer="a", until=NOW + timedelta(hours=1))
    stored = await outbox.get(claimed.id)

    assert stored.attempts == 1
    assert stored.last_error == "timed out"


async def test_postponed_due_at_until(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)
    until = NOW + timedelta(hours=9)
    await outbox.postpone(claimed.id, claimer="a", until=until)

    early = await _claim(outbox, "b", until - timedelta(microseconds=1))
    due = await _claim_one(outbox, "b", until)

    assert early == []
    assert due.id == claimed.id
    assert due.attempts == 0


async def test_postpone_by_loser_rejected(outbox: Outbox, notify) -> None:
    await notify()
    claimed = await _claim_one(outbox)

    postponed = await outbox.postpone(claimed.id, claimer="b", until=NOW + timedelta(hours=1))
    stored = await outbox.get(claimed.id)

    assert postponed is False
    assert stored.status is NotificationStatus.SENDING


async def test_postpone_unclaimed_rejected(outbox: Outbox, notify) -> None:
    await notify()
    (pending,) = await outbox.list([NotificationStatus.PENDING], limit=10)

    assert await outbox.postpone(pending.id, claimer="a", until=NOW) is False


async def test_abandoned_claim_taken_over(outbox: Outbox, notify) -> None:
    # Dispatcher "a" claims and then crashes: it never marks the notification.
    await notify()
    abandoned = await _claim_one(outbox, "a")

    at_timeout = await _claim(outbox, "b", NOW + STALE_AFTER)
    taken_over = await _claim_one(outbox, "b", NOW + STALE_AFTER + timedelta(microseconds=1))
    sent = await outbox.mark_sent(taken_over.id, claimer="b", message_id=7, now=NOW + STALE_AFTER)
    late_mark = await outbox.mark_sent(abandoned.id, claimer="a", message_id=8, now=NOW)
    stored = await outbox.get(abandoned.id)

    assert at_timeout == []
    assert taken_over.id == abandoned.id
    assert sent is True
    assert late_mark is False
    assert stored.status is NotificationStatus.SENT
    assert stored.sent_message_id == 7
    assert stored.attempts == 1


async def test_two_dispatchers_send_once(database: Database, outbox: Outbox, notify) -> None:
    # Two bot processes on one database: separate engines, and so separate
    # connection pools, each looping claim, send and mark until nothing is due.
    await notify(1_000)
    other_database = Database(database.engine.url.render_as_string(hide_password=False))
    other_outbox = Outbox(other_database)
    message_ids = iter(range(1, 1_000_000))

    async def dispatch(box: Outbox, claimer: str) -> list[int]:
        sent: list[int] = []
        while claimed := await _claim(box, claimer, limit=20):
            for notification in claimed:
                await asyncio.sleep(0)  # stands in for the send, while the other claims
                marked = await box.mark_sent(
                    notification.id, claimer=claimer, message_id=next(message_ids), now=NOW
                )
                assert marked, f"{claimer} lost its claim on notification {notification.id}"
                sent.append(notification.id)
        return sent

    try:
        first, second = await asyncio.gather(dispatch(outbox, "a"), dispatch(other_outbox, "b"))
    finally:
        await other_database.dispose()
    counts = Counter(first + second)
    left = await outbox.list([NotificationStatus.PENDING, NotificationStatus.SENDING], limit=1_000)
    sent = await outbox.list([NotificationStatus.SENT], limit=2_000)

    assert len(counts) == 1_000
    assert set(counts.values()) == {1}
    assert left == []
    assert len(sent) == 1_000
    assert {notification.attempts for notification in sent} == {1}
