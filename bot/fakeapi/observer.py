"""Reading what the bot did, and waiting for it without blind sleeps.

Waits wake on every state change (ChangeSignal); they also re-check at least every 50 ms so
that a predicate about something outside the fake (a database row) is still seen promptly.
"""

# `timeout=` parameters (ASYNC109) are the documented driver API: kept on purpose.

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.fakeapi.records import BotCommandEntry, BotMessage, CallbackAnswer, Event, StoredMessage
from bot.fakeapi.state import ChatRecord, TelegramState

RECHECK_EVERY = 0.05
SHOWN_ON_FAILURE = 8


class Observer:
    _state: TelegramState

    # --- reading --------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in the chat, in order, as they are now (deleted ones flagged)."""
        return [m.snapshot() for m in self._bot_messages(chat_id)]

    def last(self, chat_id: int) -> BotMessage:
        """The bot's latest message in the chat that is not deleted."""
        for message in reversed(self._bot_messages(chat_id)):
            if not message.deleted:
                return message.snapshot()
        raise AssertionError(f"the bot has no message in chat {chat_id}")

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return list(self._state.callback_answers)

    def answer_for(self, query_id: str) -> CallbackAnswer | None:
        return next((a for a in self._state.callback_answers if a.id == query_id), None)

    async def answered(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        """Wait until the bot answered this button press (answerCallbackQuery)."""
        deadline = time.monotonic() + timeout
        while (answer := self.answer_for(query_id)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the bot never answered button press {query_id}")
            await self._state.signal.wait(min(remaining, RECHECK_EVERY))
        return answer

    @property
    def commands(self) -> dict[tuple[str, str], list[BotCommandEntry]]:
        """setMyCommands results by (scope key, language code); see bot_methods.scope_key."""
        return dict(self._state.commands)

    @property
    def events(self) -> list[Event]:
        return self._state.events

    @property
    def on_event(self) -> Callable[[Event], Any] | None:
        return self._state.on_event

    @on_event.setter
    def on_event(self, callback: Callable[[Event], Any] | None) -> None:
        self._state.on_event = callback

    @property
    def bot_is_polling(self) -> bool:
        """True while a getUpdates request is being answered (the bot is listening)."""
        return self._state.waiting_polls > 0

    def mark(self) -> int:
        """A marker for `expect(after=...)`: the number of events so far."""
        return self._state.seq

    def file_content(self, file_id: str) -> bytes:
        stored = self._state.files.get(file_id)
        if stored is None:
            raise AssertionError(f"no file {file_id!r}")
        return stored.content

    # --- waiting --------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition still false after {timeout} s: {predicate!r}")
            await self._state.signal.wait(min(remaining, RECHECK_EVERY))

    async def expect(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        after: int | None = None,
        timeout: float = 5.0,
    ) -> BotMessage:
        """The first bot message in the chat sent or edited after `after` containing `contains`.

        `after` defaults to the latest user action in that chat, so a stale message from an
        earlier step does not match; pass `fake.mark()` taken before the step to be exact.
        """
        since = self._last_user_action(chat_id) if after is None else after
        found: list[BotMessage] = []

        def seen() -> bool:
            for message in self._bot_messages(chat_id):
                fresh = message.seq > since and not message.deleted
                if fresh and (contains is None or contains in message.text):
                    found.append(message.snapshot())
                    return True
            return False

        try:
            await self.wait_for(seen, timeout)
        except AssertionError:
            shown = "\n".join(
                f"  {m.snapshot().describe()}  (marker {m.seq})"
                for m in self._bot_messages(chat_id)[-SHOWN_ON_FAILURE:]
            )
            raise AssertionError(
                f"no bot message containing {contains!r} in chat {chat_id} after marker "
                f"{since} within {timeout} s; the chat's last bot messages:\n{shown or '  (none)'}"
            ) from None
        return found[0]

    async def settle(self, timeout: float = 5.0, quiet: float = 0.05) -> None:
        """Wait until the bot fetched and confirmed every update and has been idle `quiet` s.

        Confirmation (the next getUpdates offset) means "processed" when the dispatcher runs
        with handle_as_tasks=False, which makes scripted demos fully deterministic.
        """
        state = self._state
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = bool(state.updates) or state.inflight > 0
            idle_for = now - state.last_activity
            if not busy and idle_for >= quiet:
                return
            remaining = deadline - now
            if remaining <= 0:
                raise AssertionError(
                    f"not settled after {timeout} s: {len(state.updates)} updates not yet "
                    f"fetched and confirmed (is the bot polling?), {state.inflight} API "
                    "requests in progress"
                )
            wait = remaining if busy else quiet - idle_for
            await state.signal.wait(min(wait, remaining, RECHECK_EVERY))

    # --- helpers --------------------------------------------------------------------------

    def _record(self, chat_id: int) -> ChatRecord:
        record = self._state.chats.get(chat_id)
        if record is None:
            raise AssertionError(f"chat {chat_id} is unknown to the fake")
        return record

    def _bot_messages(self, chat_id: int) -> list[StoredMessage]:
        bot_id = self._state.bot_user.id
        return [m for m in self._record(chat_id).messages.values() if m.sender.id == bot_id]

    def _last_user_action(self, chat_id: int) -> int:
        for event in reversed(self._state.events):
            in_chat = event.chat is not None and event.chat.id == chat_id
            if in_chat and event.kind.startswith("user_"):
                return event.seq
        return 0
