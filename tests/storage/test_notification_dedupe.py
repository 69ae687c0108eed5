"""Adding notifications with a dedupe key: the second one with a stored key is not added."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.notifications import NewNotification, NotificationKind
from core.use_cases.notify import notify_members
from storage import Database, Outbox
from storage.tables import NotificationRow

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STALE_AFTER = timedelta(minutes=5)
KEY = "window_closing:7:2025-03-14T12:00:00+00:00"


def _reminder(tree, dedupe_key: str | None = KEY, timezone: str = "UTC") -> NewNotification:
    return NewNotification(
        kind=NotificationKind.WINDOW_CLOSING,
        member_id=tree.member_id,
        chat_id=tree.member_telegram_user_id,
        created_at=NOW,
        payload={"po_number": "PO-1"},
        urgent=True,
        timezone=timezone,
        dedupe_key=dedupe_key,
    )


async def _add(database: Database, notification: NewNotification) -> bool:
    async with database.unit_of_work() as uow:
        added = await uow.notifications.add(notification)
        await uow.commit()
    return added


async def _count(database: Database) -> int:
    async with database.engine.connect() as connection:
        statement = select(func.count()).select_from(NotificationRow.__table__)
        return (await connection.execute(statement)).scalar_one()


async def test_add_returns_true(database: Database, tree) -> None:
    assert await _add(database, _reminder(tree)) is True


async def test_same_key_added_once(database: Database, tree) -> None:
    first = await _add(database, _reminder(tree))
    second = await _add(database, _reminder(tree))

    assert first is True
    assert second is False
    assert await _count(database) == 1


async def test_same_key_in_one_uow(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        first = await uow.notifications.add(_reminder(tree))
        second = await uow.notifications.add(_reminder(tree))
        await uow.commit()

    assert first is True
    assert second is False
    assert await _count(database) == 1


async def test_other_keys_both_added(database: Database, tree) -> None:
    first = await _add(database, _reminder(tree, KEY))
    second = await _add(database, _reminder(tree, KEY + ":m2"))

    assert first is True
    assert second is True
    assert await _count(database) == 2


async def test_no_key_never_collides(database: Database, tree) -> None:
    first = await _add(database, _reminder(tree, None))
    second = await _add(database, _reminder(tree, None))

    assert first is True
    assert second is True
    assert await _count(database) == 2


async def test_key_kept_after_sent(database: Database, tree) -> None:
    # A reminder that was sent already must not come back on the next scan.
    await _add(database, _reminder(tree))
    outbox = Outbox(database)
    (claimed,) = await outbox.claim_due(now=NOW, limit=10, claimer="a", stale_after=STALE_AFTER)
    await outbox.mark_sent(claimed.id, claimer="a", message_id=1, now=NOW)

    assert await _add(database, _reminder(tree)) is False


async def test_concurrent_same_key_once(database: Database, tree) -> None:
    async def add_in_own_uow() -> bool:
        async with database.unit_of_work() as uow:
            added = await uow.notifications.add(_reminder(tree))
            # Lets the other task run its INSERT before this one commits.
            await asyncio.sleep(0.05)
            await uow.commit()
        return added

    results = await asyncio.gather(add_in_own_uow(), add_in_own_uow())

    assert sorted(results) == [False, True]
    assert await _count(database) == 1


async def test_timezone_round_trip(database: Database, tree) -> None:
    await _add(database, _reminder(tree, timezone="Asia/Tokyo"))

    (stored,) = await Outbox(database).list()

    assert stored.timezone == "Asia/Tokyo"


async def test_notify_members_dedupes(database: Database, tree) -> None:
    async def notify() -> int:
        async with database.unit_of_work() as uow:
            added = await notify_members(
                uow,
                tree.customer_id,
                NotificationKind.WINDOW_CLOSING,
                now=NOW,
                payload={"po_number": "PO-1"},
                dedupe_key=KEY,
            )
            await uow.commit()
        return added

    first = await notify()
    second = await notify()
    (stored,) = await Outbox(database).list()

    assert first == 1
    assert second == 0
    assert stored.timezone == "Europe/Berlin"
