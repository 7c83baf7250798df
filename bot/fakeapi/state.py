"""The fake Telegram world: chats, messages, pending updates, files and the event log.

No HTTP here. Both sides act on this state: the Bot API methods (bot_methods.py, polling.py)
and the user-side driver (driver.py). Every change notifies `signal`, so waiters (long polls,
`expect`, `settle`) wake on the change instead of polling with sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.fakeapi.errors import bad_request
from bot.fakeapi.records import (
    JSON,
    BotCommandEntry,
    Button,
    CallbackAnswer,
    Delivery,
    Event,
    FakeChat,
    FakeUser,
    StoredFile,
    StoredMessage,
)

log = logging.getLogger(__name__)

# Telegram's default when a bot never named its allowed_updates.
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})


class ChangeSignal:
    """Wakes every waiter on each change; a waiter re-checks its own condition."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, at_most: float) -> None:
        """Return on the next change, or after `at_most` seconds, whichever is first."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait({waiter}, timeout=max(at_most, 0.0))
        finally:
            self._waiters.discard(waiter)


@dataclass
class ChatRecord:
    chat: FakeChat
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0
    members: dict[int, str] = field(default_factory=dict)  # user id -> status, groups only
    creator_id: int | None = None


@dataclass
class PendingUpdate:
    update_id: int
    kind: str
    payload: JSON

    def to_json(self) -> JSON:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class CallbackQueryRecord:
    id: str
    user: FakeUser
    chat: FakeChat
    message_id: int
    answered: bool = False


class TelegramState:
    def __init__(self, bot_user: FakeUser, *, privacy_mode: bool = False) -> None:
        self.bot_user = bot_user
        self.privacy_mode = privacy_mode
        self.signal = ChangeSignal()
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.blocked: set[int] = set()
        self.updates: list[PendingUpdate] = []
        self.history: list[PendingUpdate] = []  # every update ever pushed, for redelivery
        self.fetched_upto = 0  # the highest update_id ever returned to the bot
        self.allowed_updates = DEFAULT_ALLOWED_UPDATES
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[BotCommandEntry]] = {}
        self.webhook_url = ""
        self.deliveries: list[Delivery] = []
        self.events: list[Event] = []
        self.on_event: Callable[[Event], Any] | None = None
        self.inflight = 0  # API requests being answered, long polls excluded
        self.waiting_polls = 0  # getUpdates requests being answered
        self.last_activity = time.monotonic()
        self.stopping = False
        self._seq = 0
        self._next_update_id = 100_000_001
        self._next_file = 1
        self._next_callback = 1

    # --- identities and chats -------------------------------------------------------------

    def add_user(self, user: FakeUser) -> ChatRecord:
        self.users[user.id] = user
        chat = FakeChat(
            id=user.id,
            type="private",
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
        )
        existing = self.chats.get(user.id)
        if existing is not None:
            existing.chat = chat
            return existing
        record = self.chats[user.id] = ChatRecord(chat)
        return record

    def add_group(self, chat_id: int, title: str, creator_id: int | None) -> ChatRecord:
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        record = self.chats.setdefault(chat_id, ChatRecord(FakeChat(chat_id, kind, title=title)))
        record.chat = FakeChat(chat_id, kind, title=title)
        record.creator_id = creator_id
        record.members.setdefault(self.bot_user.id, "administrator")
        if creator_id is not None:
            record.members[creator_id] = "creator"
        return record

    def chat_record(self, chat_id: int) -> ChatRecord:
        record = self.chats.get(chat_id)
        if record is None:
            raise bad_request("chat not found")
        return record

    def member_status(self, record: ChatRecord, user_id: int) -> str:
        if record.chat.type == "private":
            return "member" if user_id in (record.chat.id, self.bot_user.id) else "left"
        return record.members.get(user_id, "left")

    def user_by_id(self, user_id: int) -> FakeUser | None:
        return self.bot_user if user_id == self.bot_user.id else self.users.get(user_id)

    # --- messages and events --------------------------------------------------------------

    def add_message(self, record: ChatRecord, sender: FakeUser, kind: str) -> StoredMessage:
        record.last_message_id += 1
        message = StoredMessage(
            chat=record.chat,
            message_id=record.last_message_id,
            date=int(time.time()),
            sender=sender,
            kind=kind,
        )
        record.messages[message.message_id] = message
        return message

    def emit(
        self,
        kind: str,
        *,
        chat: FakeChat | None,
        user: FakeUser | None,
        text: str,
        buttons: list[list[Button]] | None = None,
        message_id: int | None = None,
    ) -> Event:
        self._seq += 1
        event = Event(self._seq, kind, chat, user, text, buttons or [], message_id)
        self.events.append(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                # A broken transcript printer must not turn into a failed API call.
                log.exception("on_event callback failed for %s", event)
        self.signal.notify()
        return event

    @property
    def seq(self) -> int:
        return self._seq

    # --- updates --------------------------------------------------------------------------

    def push_update(self, kind: str, payload: JSON) -> PendingUpdate:
        update = PendingUpdate(self._next_update_id, kind, payload)
        self._next_update_id += 1
        self.updates.append(update)
        self.history.append(update)
        self.signal.notify()
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates offset: forget the confirmed updates (negative: keep the last -offset)."""
        if offset > 0:
            self.updates = [u for u in self.updates if u.update_id >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def take_updates(self, limit: int) -> list[JSON]:
        # Telegram never stores updates of types the bot did not ask for.
        self.updates = [u for u in self.updates if u.kind in self.allowed_updates]
        batch = self.updates[:limit]
        if batch:
            self.fetched_upto = max(self.fetched_upto, batch[-1].update_id)
            self.touch()
        return [update.to_json() for update in batch]

    @property
    def unfetched_updates(self) -> int:
        return sum(1 for update in self.updates if update.update_id > self.fetched_upto)

    # --- files and callback queries -------------------------------------------------------

    def store_file(
        self, kind: str, content: bytes, file_name: str | None = None, mime: str | None = None
    ) -> StoredFile:
        number = self._next_file
        self._next_file += 1
        if file_name and (not mime or mime == "application/octet-stream"):
            # Clients upload everything as octet-stream; Telegram goes by the file name.
            mime = mimetypes.guess_type(file_name)[0] or mime
        extension = mimetypes.guess_extension(mime) if mime else None
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"FAKE-{kind}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{kind}s/file_{number}{extension or ''}",
            content=content,
            file_name=file_name,
            mime_type=mime,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    def new_callback_query(
        self, user: FakeUser, chat: FakeChat, message_id: int
    ) -> CallbackQueryRecord:
        query_id = str(4_000_000_000_000_000_000 + self._next_callback)
        self._next_callback += 1
        query = CallbackQueryRecord(query_id, user, chat, message_id)
        self.callback_queries[query_id] = query
        return query

    # --- request accounting for settle() --------------------------------------------------

    def touch(self) -> None:
        self.last_activity = time.monotonic()
        self.signal.notify()

    def request_started(self) -> None:
        self.inflight += 1
        self.touch()

    def request_finished(self) -> None:
        self.inflight -= 1
        self.touch()
