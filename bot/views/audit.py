"""The audit trail of orders as chat messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.views.formatting import escape, local_datetime, plural
from core.audit import AuditEntry
from core.orders import OrderStatus
from core.use_cases.audit_trail import OrderTrail

# Telegram rejects messages longer than 4096 characters. The limit is
# checked on the HTML source, which is never shorter than the parsed text,
# and counted in UTF-16 code units, which is what Telegram counts.
MAX_MESSAGE_LENGTH = 4096
# A trail longer than this many messages is cut, so that one command
# cannot flood the chat.
MAX_MESSAGES = 5
# Longer values are shortened. A reason, the longest value stored, has at most
# 500 characters, so one line stays far below the message limit even when
# escaping turns every character into an entity such as "&amp;".
MAX_VALUE_LENGTH = 500

USAGE = (
    "Send /audit followed by a PO number, such as <code>/audit PO-4711</code>, to see "
    "every change of the orders with that PO number."
)
NO_VALUE = "–"

_ACTION_WORDS = {
    "order.placed": "placed",
    "order.cancelled": "cancelled",
    "order.issued": "issued",
    "issuance.cancelled": "issuance cancelled",
}


def render_trails(trails: Sequence[OrderTrail]) -> list[str]:
    """Return the trails as HTML messages, each within Telegram's length limit.

    Entries are never split across messages. When the trails need more than
    MAX_MESSAGES messages, the last one ends with a note on what was left out.
    """
    lines: list[str] = []
    for number, trail in enumerate(trails):
        if number:
            lines.append("")
        lines.extend(_trail_lines(trail))
    return _split(lines)


def describe_action(action: str) -> str:
    """Return the action of an audit entry in words, such as "issuance cancelled"."""
    return _ACTION_WORDS.get(action) or action.replace(".", " ").replace("_", " ")


def _trail_lines(trail: OrderTrail) -> list[str]:
    order = trail.order
    lines = [
        f"<b>Audit trail of {escape(order.po_number)}</b>, customer {escape(trail.customer_name)}",
        f"Status now: {order.status.label}. Times in {escape(trail.timezone)}.",
    ]
    if not trail.entries:
        lines.append("No changes recorded.")
    for entry in trail.entries:
        lines.append(_entry_line(entry, trail))
    return lines


def _entry_line(entry: AuditEntry, trail: OrderTrail) -> str:
    when = local_datetime(entry.at, trail.timezone)
    if entry.actor_member_id is None:
        actor = "operator"
    else:
        actor = trail.actor_names.get(entry.actor_member_id, f"member {entry.actor_member_id}")
    changes = [
        _change(key, entry.before.get(key), entry.after.get(key), trail.timezone)
        for key in _keys(entry)
    ]
    line = f"{when} · {escape(actor)} · <b>{escape(describe_action(entry.action))}</b>"
    if changes:
        line += "\n    " + "; ".join(changes)
    return line


def _keys(entry: AuditEntry) -> list[str]:
    """Return the keys of ``before`` and then the new keys of ``after``, in stored order."""
    keys = list(entry.before)
    keys.extend(key for key in entry.after if key not in entry.before)
    return keys


def _change(key: str, before: Any, after: Any, timezone: str) -> str:
    name = escape(key.replace("_", " "))
    old = _value(key, before, timezone)
    new = _value(key, after, timezone)
    return f"{name}: {old} → {new}"


def _value(key: str, value: Any, timezone: str) -> str:
    """Return a stored JSON value as escaped text: statuses by label, times in ``timezone``."""
    if value is None:
        return NO_VALUE
    if key == "status":
        try:
            return OrderStatus(value).label
        except ValueError:
            pass
    if key.endswith("_at") and isinstance(value, str):
        try:
            return local_datetime(datetime.fromisoformat(value), timezone)
        except ValueError:
            pass
    text = str(value)
    if len(text) > MAX_VALUE_LENGTH:
        text = text[: MAX_VALUE_LENGTH - 1] + "…"
    return escape(text)


def _split(lines: list[str]) -> list[str]:
    """Group whole lines into messages that fit, and cut after MAX_MESSAGES with a note."""
    messages: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if current and _utf16_length("\n".join([*current, line])) > MAX_MESSAGE_LENGTH:
            messages.append(current)
            current = []
        current.append(line)
    if current:
        messages.append(current)
    if len(messages) > MAX_MESSAGES:
        left_out = sum(len(message) for message in messages[MAX_MESSAGES:])
        messages = messages[:MAX_MESSAGES]
        messages[-1] = _end_with_note(messages[-1], left_out)
    return ["\n".join(message) for message in messages]


def _end_with_note(lines: list[str], left_out: int) -> list[str]:
    """Append a note on the lines left out, dropping more lines until the note fits."""
    lines = list(lines)
    while True:
        note = (
            f"… {plural(left_out, 'more line')} not shown. The command line shows the "
            "whole trail: licensebot audit --org NAME"
        )
        if len(lines) == 1 or _utf16_length("\n".join([*lines, note])) <= MAX_MESSAGE_LENGTH:
            return [*lines, note]
        lines.pop()
        left_out += 1


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
