"""The demo's read-process-print loop: the terminal is the chat with the bot."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application

from bot.clock import ShiftedClock
from bot.delivery import deliver_due
from bot.demo.seed import GERMAN_TIMEZONE, DemoData, DemoPerson
from bot.demo.terminal import (
    DEMO_PREFIX,
    HELP_LINES,
    AdvanceClock,
    DemoCommand,
    DemoInputError,
    ListPeople,
    PressButton,
    Quit,
    ReplyTo,
    SendText,
    ShowClock,
    ShowHelp,
    SwitchPerson,
    describe_duration,
    find_button,
    parse_line,
    prompt,
    render_call,
    unread_notice,
)
from bot.offline_api import ApiCall, OfflineBotApi, SentMessage
from bot.offline_updates import UpdateFactory
from bot.scheduling import ScanCounts, run_scheduled_work
from bot.services import SERVICES_KEY, Services
from core.use_cases.membership import describe_member
from storage.database import Database
from storage.outbox import Outbox

# After an update, the loop waits until the bot has made no Bot API call for
# one interval, so that work the handlers started in the background is shown
# with the update that caused it. The wait ends after the maximum in any case.
_QUIET_INTERVAL_SECONDS = 0.02
_MAX_QUIET_CHECKS = 50
# Claimer id of the demo's notification dispatcher, which runs after each step.
DEMO_CLAIMER = "demo-session"
# One delivery run sends one batch of notifications. The demo runs it again
# until nothing is due, and stops after this many runs in any case.
_MAX_DELIVERY_RUNS = 20


async def read_line(stream: TextIO) -> str:
    """Read one line in a background thread, so the bot's tasks keep running meanwhile.

    The thread is a daemon, unlike those of asyncio.to_thread. After Ctrl-C,
    asyncio.run waits for the default executor's threads, so one blocked in
    readline() would keep the program running until Enter is pressed.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(result: str | BaseException) -> None:
        if future.done():
            return
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)

    def read() -> None:
        try:
            result: str | BaseException = stream.readline()
        except Exception as error:
            result = error
        # The loop is closed when the demo ended while this thread waited.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, result)

    threading.Thread(target=read, name="demo-input", daemon=True).start()
    return await future


class DemoSession:
    """State of one demo run: the current person, and which Bot API calls were shown.

    A call to the chat of another demo person is kept back and shown when
    the terminal switches to that person, as that person's chat would show it.
    """

    def __init__(
        self,
        *,
        application: Application,
        api: OfflineBotApi,
        database: Database,
        outbox: Outbox,
        clock: ShiftedClock,
        data: DemoData,
        output: TextIO,
    ) -> None:
        self._application = application
        self._api = api
        self._database = database
        self._outbox = outbox
        self._clock = clock
        self._data = data
        self._output = output
        self._factory = UpdateFactory(api)
        self._current = data.people[0]
        self._printed_calls = 0
        self._unread: dict[int, list[ApiCall]] = {}

    async def run(self, input_stream: TextIO, *, echo_input: bool) -> None:
        """Read lines until :quit or end of input, and print what the bot does.

        ``echo_input`` repeats each line after the prompt, so that a transcript
        of scripted input reads like a typed session.
        """
        # The session sends notifications itself after each step, so that they
        # appear in a fixed order. NOTE: pausing the JobQueue also stops the
        # 30-minute timeout of forms in the demo.
        if self._application.job_queue is not None:
            self._application.job_queue.scheduler.pause()
        while True:
            self.print_new_calls()
            self._output.write(await self._prompt())
            self._output.flush()
            line = await read_line(input_stream)
            if not line:
                self._write("")
                return
            if echo_input:
                self._output.write(line if line.endswith("\n") else line + "\n")
            try:
                command = parse_line(line)
                if isinstance(command, Quit):
                    return
                if command is not None:
                    await self._execute(command)
            except DemoInputError as error:
                self._write(f"{DEMO_PREFIX}{error}")

    def print_help(self) -> None:
        for line in HELP_LINES:
            self._write(f"{DEMO_PREFIX}{line}")

    async def print_people(self) -> None:
        self._write(f"{DEMO_PREFIX}People in this demo (switch with :as NUMBER or :as ROLE):")
        for number, person in enumerate(self._data.people, start=1):
            organisation = await self._organisation_name(person)
            where = f"member of {organisation}" if organisation else "not linked yet"
            marker = "   <- you" if person is self._current else ""
            self._write(
                f"{DEMO_PREFIX}  {number}. {person.user.full_name} ({person.role}), "
                f"Telegram user {person.user.id}, {where}{marker}"
            )

    async def _execute(self, command: DemoCommand) -> None:
        if isinstance(command, ShowHelp):
            self.print_help()
        elif isinstance(command, ListPeople):
            await self.print_people()
        elif isinstance(command, SwitchPerson):
            self._current = self._find_person(command.target)
            self._write(f"{DEMO_PREFIX}You are now {self._current.user.full_name}.")
            self._print_unread()
        elif isinstance(command, AdvanceClock):
            await self._advance_clock(command.delta)
        elif isinstance(command, ShowClock):
            self._write(f"{DEMO_PREFIX}The demo clock reads {_describe_time(self._clock.now())}.")
        elif isinstance(command, SendText):
            await self._deliver(self._factory.message(self._current.user, command.text))
        elif isinstance(command, ReplyTo):
            await self._reply(command)
        elif isinstance(command, PressButton):
            await self._press(command)

    async def _advance_clock(self, delta: timedelta) -> None:
        """Move the clock, run the scheduler once at the new time and send what it added.

        A real bot scans every minute. One scan after the jump finds the same
        reminders, because each scan derives what is due from the database.
        A reminder whose time came and went during the jump is sent late,
        once, as after a day offline.
        """
        self._clock.advance(delta)
        now = self._clock.now()
        self._write(
            f"{DEMO_PREFIX}The demo clock moved {describe_duration(delta)} forward "
            f"and now reads {_describe_time(now)}."
        )
        services: Services = self._application.bot_data[SERVICES_KEY]
        counts = await run_scheduled_work(services, now)
        self._write(f"{DEMO_PREFIX}{_describe_scan(counts)}")
        await self._send_outbox()
        self.print_new_calls()

    async def _reply(self, command: ReplyTo) -> None:
        try:
            data = self._factory.reply(
                self._current.user, command.text, to_message_id=command.message_id
            )
        except LookupError as error:
            raise DemoInputError(str(error)) from None
        await self._deliver(data)

    async def _press(self, press: PressButton) -> None:
        message = self._latest_message_with_buttons()
        button = find_button(message.reply_markup, press)
        data = button.get("callback_data")
        if data is None:
            raise DemoInputError(
                f"Button {button.get('text')!r} opens a link, which the demo cannot follow. "
                "Press a button that sends data to the bot."
            )
        await self._deliver(
            self._factory.callback_query(self._current.user, message.message_id, data)
        )

    def _latest_message_with_buttons(self) -> SentMessage:
        for message in reversed(self._api.messages_to(self._current.user.id)):
            if message.inline_keyboard:
                return message
        raise DemoInputError(f"No message to {self._current.user.full_name} has buttons to press.")

    async def _deliver(self, data: dict) -> None:
        """Feed one update through the handlers, then send the notifications it caused."""
        update = Update.de_json(data, self._application.bot)
        await self._application.process_update(update)
        await self._wait_until_quiet()
        await self._send_outbox()
        self.print_new_calls()

    async def _send_outbox(self) -> None:
        """Send every notification that is due at the demo clock's time."""
        for _ in range(_MAX_DELIVERY_RUNS):
            report = await deliver_due(
                self._application.bot, self._outbox, now=self._clock.now(), claimer=DEMO_CLAIMER
            )
            if report.claimed == 0:
                return

    async def _wait_until_quiet(self) -> None:
        seen = len(self._api.calls)
        for _ in range(_MAX_QUIET_CHECKS):
            await asyncio.sleep(_QUIET_INTERVAL_SECONDS)
            if len(self._api.calls) == seen:
                break
            seen = len(self._api.calls)

    def print_new_calls(self) -> None:
        """Print the Bot API calls that the bot made since the last print.

        Messages to another demo person are kept for that person, and one line
        per person reports that something arrived.
        """
        new_calls = self._api.calls[self._printed_calls :]
        self._printed_calls = len(self._api.calls)
        arrived: dict[int, int] = {}
        for call in new_calls:
            recipient = self._other_person(call)
            if recipient is not None:
                self._unread.setdefault(recipient.user.id, []).append(call)
                if call.method == "sendMessage" and call.error is None:
                    arrived[recipient.user.id] = arrived.get(recipient.user.id, 0) + 1
                continue
            for line in render_call(call, self._describe_chat):
                self._write(line)
        for person in self._data.people:
            count = arrived.get(person.user.id)
            if count:
                self._write(
                    f"{DEMO_PREFIX}{unread_notice(person.user.full_name, person.role, count)}"
                )

    def _print_unread(self) -> None:
        for call in self._unread.pop(self._current.user.id, []):
            for line in render_call(call, self._describe_chat):
                self._write(line)

    def _other_person(self, call: ApiCall) -> DemoPerson | None:
        """Return the demo person, other than the current one, whose chat ``call`` changes."""
        if call.method == "setMyCommands":
            return None
        chat_id = call.params.get("chat_id")
        if chat_id == self._current.user.id:
            return None
        for person in self._data.people:
            if person.user.id == chat_id:
                return person
        return None

    def _describe_chat(self, chat_id: int) -> str | None:
        """Name the person of a chat, or return None for the current person's own chat."""
        if chat_id == self._current.user.id:
            return None
        for person in self._data.people:
            if person.user.id == chat_id:
                return person.user.full_name
        return f"chat {chat_id}"

    def _find_person(self, target: str) -> DemoPerson:
        people = self._data.people
        key = target.strip().casefold()
        if key.isdigit() and 1 <= int(key) <= len(people):
            return people[int(key) - 1]
        for person in people:
            names = {
                person.role,
                person.user.first_name.casefold(),
                person.user.full_name.casefold(),
            }
            if key in names:
                return person
        choices = ", ".join(
            f"{number} or {person.role}" for number, person in enumerate(people, start=1)
        )
        raise DemoInputError(f"No person matches {target!r}. Use {choices}.")

    async def _prompt(self) -> str:
        organisation = await self._organisation_name(self._current)
        return prompt(self._current.user.first_name, organisation)

    async def _organisation_name(self, person: DemoPerson) -> str | None:
        member = await describe_member(
            self._database.unit_of_work(), telegram_user_id=person.user.id
        )
        return member.organisation.name if member else None

    def _write(self, line: str) -> None:
        self._output.write(line + "\n")
        self._output.flush()


def _describe_time(moment: datetime) -> str:
    """Return ``moment`` in the time zone of the demo's German organisations and in UTC."""
    local = moment.astimezone(ZoneInfo(GERMAN_TIMEZONE))
    return f"{local:%Y-%m-%d %H:%M %Z} in {GERMAN_TIMEZONE} ({moment:%Y-%m-%d %H:%M} UTC)"


def _describe_scan(counts: ScanCounts) -> str:
    found = [
        _count(count, noun)
        for count, noun in (
            (counts.reminders, "reminder message"),
            (counts.expired, "expired license"),
            (counts.shortages, "shortage warning"),
        )
        if count
    ]
    if not found:
        return "The scheduler ran once at the new time and found nothing due."
    return f"The scheduler ran once at the new time and found {', '.join(found)}."


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
