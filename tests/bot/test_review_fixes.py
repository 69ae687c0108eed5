"""Regression tests for problems found by trying to break the bot."""

from __future__ import annotations

from typing import Any

from bot.handlers.private_only import PRIVATE_CHAT_ONLY
from core.orders import OrderStatus
from tests.bot.conftest import (
    AIKO,
    GROUP_CHAT_ID,
    Harness,
    alerts,
    group_command,
    methods,
    place_orders,
    sent_texts,
    stored_orders,
)


def group_button_press(harness: Harness, data: str, message: dict[str, Any]) -> dict[str, Any]:
    """Build a press with forged ``data`` on the bot's message in a group."""
    return {
        "update_id": 900_000 + len(harness.sent_updates),
        "callback_query": {
            "id": "group-press-1",
            "from": AIKO.user_json(),
            "message": message,
            "chat_instance": "-777",
            "data": data,
        },
    }


async def test_group_button_press_refused(harness: Harness) -> None:
    orders = await place_orders(harness, AIKO, 1)
    await harness.send(group_command(harness, AIKO, "history"))
    bot_message = {
        "message_id": 4_001,
        "from": harness.api.bot_user_json(),
        "chat": {"id": GROUP_CHAT_ID, "type": "supergroup", "title": "Clinic Staff"},
        "date": harness.api.now_timestamp(),
        "text": "I only work in a private chat",
    }

    calls = await harness.send(group_button_press(harness, f"oc!:{orders[0].id}:1", bot_message))

    assert alerts(calls) == [PRIVATE_CHAT_ONLY]
    assert "editMessageText" not in methods(calls)
    stored = await stored_orders(harness, "Clinic Am See")
    assert stored[0].status is OrderStatus.ON_ORDER


async def test_confirm_closes_form_when_edit_fails(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO-429")
    await harness.text(AIKO, "2")
    harness.api.fail_next(
        "editMessageText",
        error_code=400,
        description="Bad Request: message to edit not found",
    )

    await harness.press_label(AIKO, "Confirm")
    calls = await harness.text(AIKO, "PO-NEXT")

    assert len(await stored_orders(harness, "Clinic Am See")) == 1
    assert sent_texts(calls) == ["I did not understand that. Send /help to see what you can do."]


async def test_long_unknown_command_echo_is_cut(harness: Harness) -> None:
    calls = await harness.text(AIKO, "/zz" + "x" * 4000)

    texts = sent_texts(calls)
    assert len(texts) == 1
    assert len(texts[0]) < 1000


async def test_dealer_issue_without_reply_gets_hint(harness: Harness) -> None:
    from bot.handlers.fallback import ISSUE_NEEDS_REPLY
    from tests.bot.conftest import DANA

    calls = await harness.text(DANA, "issue")

    assert sent_texts(calls) == [ISSUE_NEEDS_REPLY]


async def test_customer_issue_word_not_understood(harness: Harness) -> None:
    calls = await harness.text(AIKO, "issue")

    assert sent_texts(calls) == ["I did not understand that. Send /help to see what you can do."]
