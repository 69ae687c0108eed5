"""The checks that the harness fixture runs after each test can fail."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest

from bot.offline_api import ApiCall
from tests.bot.conftest import AIKO, Harness, html_rejections, unanswered_queries


async def test_unanswered_query_found(harness: Harness) -> None:
    await harness.command(AIKO, "help")
    update = harness.updates.callback_query(AIKO, harness.last_message(AIKO).message_id, "hp:1:1")
    harness.sent_updates.append(update)
    query_id = update["callback_query"]["id"]

    found = unanswered_queries(harness)

    harness.sent_updates.remove(update)
    assert found == {query_id: 0}


async def test_double_answer_found(harness: Harness) -> None:
    await harness.command(AIKO, "history")
    calls = await harness.press(AIKO, "hp:1:1")
    query_id = calls[0].params["callback_query_id"]
    second = ApiCall("answerCallbackQuery", {"callback_query_id": query_id})
    harness.api.calls.append(second)

    found = unanswered_queries(harness)

    harness.api.calls.remove(second)
    assert found == {query_id: 2}


async def test_broken_html_found(harness: Harness) -> None:
    with pytest.raises(BadRequest):
        await harness.application.bot.send_message(AIKO.id, "<b>unclosed", parse_mode="HTML")
    [call] = harness.api.calls_of("sendMessage")

    found = html_rejections(harness.api.calls)

    harness.api.calls.remove(call)
    [error] = found
    assert error.startswith("sendMessage: Bad Request: can't parse entities")
