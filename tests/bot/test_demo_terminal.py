"""The demo's pure terminal helpers: parsing typed lines and rendering Bot API calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.demo.terminal import (
    AdvanceClock,
    DemoInputError,
    ListPeople,
    PressButton,
    Quit,
    ReplyTo,
    SendText,
    ShowHelp,
    SwitchPerson,
    find_button,
    parse_line,
    prompt,
    render_call,
    render_keyboard,
    render_text,
    welcome_lines,
)
from bot.offline_api import NOT_MODIFIED, ApiCall

CURRENT_CHAT = 5001
NAMES = {6001: "Dana Weber"}

HISTORY_MARKUP = {
    "inline_keyboard": [
        [{"text": "Cancel PO-1", "callback_data": "oc?:1:1"}],
        [{"text": "Cancel PO-2", "callback_data": "oc?:2:1"}],
        [{"text": "‹", "callback_data": "hp:1:2"}, {"text": "›", "callback_data": "hp:3:2"}],
    ]
}


def describe_chat(chat_id: int) -> str | None:
    return None if chat_id == CURRENT_CHAT else NAMES.get(chat_id, f"chat {chat_id}")


# parse_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/help\n", SendText("/help")),
        ("  PO 4711  \n", SendText("PO 4711")),
        ("/start abc-DEF_1", SendText("/start abc-DEF_1")),
        ("::not a command", SendText(":not a command")),
        (":help", ShowHelp()),
        (":?", ShowHelp()),
        (":HELP", ShowHelp()),
        (":who", ListPeople()),
        (":as dealer", SwitchPerson("dealer")),
        (":as  Aiko Tanaka ", SwitchPerson("Aiko Tanaka")),
        (":as 3", SwitchPerson("3")),
        (":press 2", PressButton(number=2)),
        (":press Confirm", PressButton(label="Confirm")),
        (":press Yes, cancel the order", PressButton(label="Yes, cancel the order")),
        (':press "2"', PressButton(label="2")),
        (":press '‹'", PressButton(label="‹")),
        (":reply PO-4711", ReplyTo("PO-4711")),
        (":reply 5", ReplyTo("5")),
        (":reply 12 five licenses", ReplyTo("five licenses", message_id=12)),
        (":advance 15", AdvanceClock(timedelta(days=15))),
        (":quit", Quit()),
        (":exit", Quit()),
        (":q", Quit()),
    ],
)
def test_parse_line(line: str, expected: object) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize("line", ["", "\n", "   \n"])
def test_parse_blank_line(line: str) -> None:
    assert parse_line(line) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (":bogus", "Unknown demo command :bogus. Type :help for the list."),
        (":as", "Missing argument. Use :as PERSON, for example :as dealer."),
        (":press  ", "Missing argument. Use :press N or :press LABEL."),
        (":reply", "Missing argument. Use :reply TEXT or :reply N TEXT."),
        (":advance soon", "Invalid number of days 'soon'"),
        (":advance 0", "Invalid number of days '0'"),
        (":advance 3651", "Invalid number of days '3651'"),
    ],
)
def test_parse_line_errors(line: str, message: str) -> None:
    with pytest.raises(DemoInputError) as raised:
        parse_line(line)
    assert str(raised.value).startswith(message)


# find_button


def test_press_by_number_counts_across_rows() -> None:
    assert find_button(HISTORY_MARKUP, PressButton(number=1))["callback_data"] == "oc?:1:1"
    assert find_button(HISTORY_MARKUP, PressButton(number=4))["callback_data"] == "hp:3:2"


@pytest.mark.parametrize("number", [0, 5])
def test_press_number_out_of_range(number: int) -> None:
    with pytest.raises(DemoInputError, match=r"does not exist\. The message has buttons 1 to 4"):
        find_button(HISTORY_MARKUP, PressButton(number=number))


@pytest.mark.parametrize(
    ("label", "callback_data"),
    [
        ("Cancel PO-2", "oc?:2:1"),
        ("cancel po-2", "oc?:2:1"),
        ("PO-1", "oc?:1:1"),
        ("›", "hp:3:2"),
    ],
)
def test_press_by_label(label: str, callback_data: str) -> None:
    assert find_button(HISTORY_MARKUP, PressButton(label=label))["callback_data"] == callback_data


def test_press_exact_label_beats_substring() -> None:
    markup = {
        "inline_keyboard": [
            [
                {"text": "Cancel", "callback_data": "a"},
                {"text": "Cancel order", "callback_data": "b"},
            ]
        ]
    }
    assert find_button(markup, PressButton(label="Cancel"))["callback_data"] == "a"
    assert find_button(markup, PressButton(label="cancel"))["callback_data"] == "a"


def test_press_number_label_needs_quotes() -> None:
    markup = {
        "inline_keyboard": [
            [{"text": "2", "callback_data": "hp:2:1"}, {"text": "1", "callback_data": "hp:1:1"}]
        ]
    }
    by_number = parse_line(":press 2")
    by_label = parse_line(':press "2"')
    assert isinstance(by_number, PressButton)
    assert isinstance(by_label, PressButton)

    assert find_button(markup, by_number)["callback_data"] == "hp:1:1"
    assert find_button(markup, by_label)["callback_data"] == "hp:2:1"


def test_press_ambiguous_label() -> None:
    with pytest.raises(DemoInputError, match="Several buttons match 'Cancel'"):
        find_button(HISTORY_MARKUP, PressButton(label="Cancel"))


def test_press_unknown_label() -> None:
    with pytest.raises(DemoInputError, match="No button is labelled 'Confirm'"):
        find_button(HISTORY_MARKUP, PressButton(label="Confirm"))


@pytest.mark.parametrize("markup", [None, {}, {"inline_keyboard": []}, {"force_reply": True}])
def test_press_without_buttons(markup: dict | None) -> None:
    with pytest.raises(DemoInputError, match="has no buttons"):
        find_button(markup, PressButton(number=1))


# Rendering


def test_render_keyboard_numbers_rows() -> None:
    assert render_keyboard(HISTORY_MARKUP) == [
        "[1 Cancel PO-1]",
        "[2 Cancel PO-2]",
        "[3 ‹] [4 ›]",
    ]


def test_render_keyboard_marks_links() -> None:
    markup = {"inline_keyboard": [[{"text": "Manual", "url": "https://example.org/manual"}]]}
    assert render_keyboard(markup) == ["[1 Manual ↗]"]
    assert render_keyboard(None) == []
    assert render_keyboard({"force_reply": True}) == []


def test_render_html_text() -> None:
    html_text = "<b>Order history</b> of Clinic &amp; Co\n<i>Page</i> 1 &lt;of&gt; 2"
    assert render_text(html_text, "HTML") == "Order history of Clinic & Co\nPage 1 <of> 2"


def test_render_plain_text_unchanged() -> None:
    assert render_text("<b>not html</b> &amp;", None) == "<b>not html</b> &amp;"


def test_render_invalid_html_unchanged() -> None:
    assert render_text("PO <4711>", "HTML") == "PO <4711>"


def test_render_send_message() -> None:
    call = ApiCall(
        "sendMessage",
        {
            "chat_id": CURRENT_CHAT,
            "text": "<b>Order history</b>\nPage 2 of 3",
            "parse_mode": "HTML",
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "‹", "callback_data": "a"}, {"text": "›", "callback_data": "b"}]
                ]
            },
        },
    )
    assert render_call(call, describe_chat) == [
        "bot > Order history",
        "      Page 2 of 3",
        "      [1 ‹] [2 ›]",
    ]


def test_render_message_to_other_person() -> None:
    call = ApiCall("sendMessage", {"chat_id": 6001, "text": "New order\n\nPO-1"})
    assert render_call(call, describe_chat) == [
        "bot > [to Dana Weber] New order",
        "",
        "      PO-1",
    ]


def test_render_edit_text() -> None:
    call = ApiCall(
        "editMessageText",
        {
            "chat_id": CURRENT_CHAT,
            "message_id": 7,
            "text": "Order <b>PO-1</b> placed",
            "parse_mode": "HTML",
        },
    )
    assert render_call(call, describe_chat) == ["bot > (edited message 7) Order PO-1 placed"]


def test_render_edit_markup() -> None:
    call = ApiCall(
        "editMessageReplyMarkup",
        {"chat_id": CURRENT_CHAT, "message_id": 7, "reply_markup": HISTORY_MARKUP},
    )
    removed = ApiCall("editMessageReplyMarkup", {"chat_id": CURRENT_CHAT, "message_id": 7})
    assert render_call(call, describe_chat) == [
        "bot > (edited the buttons of message 7)",
        "      [1 Cancel PO-1]",
        "      [2 Cancel PO-2]",
        "      [3 ‹] [4 ›]",
    ]
    assert render_call(removed, describe_chat) == [
        "bot > (edited the buttons of message 7)",
        "      (no buttons)",
    ]


def test_render_callback_answers() -> None:
    notice = ApiCall("answerCallbackQuery", {"callback_query_id": "1", "text": "Order placed"})
    alert = ApiCall(
        "answerCallbackQuery",
        {"callback_query_id": "2", "text": "That form is closed", "show_alert": True},
    )
    silent = ApiCall("answerCallbackQuery", {"callback_query_id": "3"})
    assert render_call(notice, describe_chat) == ["  (notice) Order placed"]
    assert render_call(alert, describe_chat) == ["  (alert) That form is closed"]
    assert render_call(silent, describe_chat) == []


def test_render_menu_changes() -> None:
    commands = [{"command": "order", "description": "x"}, {"command": "help", "description": "y"}]
    default = ApiCall("setMyCommands", {"commands": commands, "scope": {"type": "default"}})
    own = ApiCall(
        "setMyCommands", {"commands": commands, "scope": {"type": "chat", "chat_id": CURRENT_CHAT}}
    )
    other = ApiCall(
        "setMyCommands", {"commands": commands, "scope": {"type": "chat", "chat_id": 6001}}
    )
    assert render_call(default, describe_chat) == ["demo > (default menu now: /order /help)"]
    assert render_call(own, describe_chat) == ["demo > (menu now: /order /help)"]
    assert render_call(other, describe_chat) == ["demo > (menu for Dana Weber now: /order /help)"]


def test_render_delete_and_silent_calls() -> None:
    deleted = ApiCall("deleteMessage", {"chat_id": CURRENT_CHAT, "message_id": 4})
    assert render_call(deleted, describe_chat) == ["bot > (deleted message 4)"]
    assert render_call(ApiCall("getMe", {}), describe_chat) == []
    assert render_call(ApiCall("setChatMenuButton", {}), describe_chat) == []


def test_render_rejected_call() -> None:
    rejected = ApiCall(
        "sendMessage",
        {"chat_id": CURRENT_CHAT, "text": "x"},
        error="Forbidden: bot was blocked by the user",
    )
    not_modified = ApiCall(
        "editMessageText", {"chat_id": CURRENT_CHAT, "message_id": 1}, error=NOT_MODIFIED
    )
    assert render_call(rejected, describe_chat) == [
        "demo > (Telegram rejected sendMessage: Forbidden: bot was blocked by the user)"
    ]
    assert render_call(not_modified, describe_chat) == []


def test_prompt_names_person_and_organisation() -> None:
    assert prompt("Aiko", "Clinic Am See") == "you (Aiko, Clinic Am See) > "
    assert prompt("New user", None) == "you (New user) > "


def test_welcome_lines_show_invite_and_commands() -> None:
    lines = welcome_lines(
        people=["Aiko Tanaka (customer), member of Clinic Am See"],
        invite_code="abc123",
        invite_organisation_name="Clinic Am See",
        database_note="Demo data is stored in /tmp/x.",
    )
    text = "\n".join(lines)
    assert "  1. Aiko Tanaka (customer), member of Clinic Am See" in lines
    assert "send '/start abc123'" in text
    assert "Demo data is stored in /tmp/x." in lines
    for command in (":help", ":who", ":as", ":press", ":reply", ":advance", ":quit"):
        assert f"  {command}" in text
