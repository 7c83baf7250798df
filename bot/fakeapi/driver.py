"""The users' side: people, groups, and what they do (send, press, block).

Each action becomes a real Bot API update for the bot to fetch with getUpdates, and an event
for the transcript. Misuse (an unknown chat, a missing button) raises AssertionError, since
the caller is a test or a scripted demo and the message should say what was there instead.
"""

from __future__ import annotations

import time

from bot.fakeapi.entities import command_entities
from bot.fakeapi.images import tiny_png
from bot.fakeapi.records import JSON, Button, FakeChat, FakeUser, StoredMessage
from bot.fakeapi.state import MEMBER_STATUSES, ChatRecord, TelegramState


class UserDriver:
    _state: TelegramState

    # --- people and groups ----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = "zh-hans",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """A person who has started the bot; their private chat id is their user id."""
        if user_id <= 0:
            raise ValueError(f"user ids are positive, got {user_id}")
        user = FakeUser(user_id, first_name, last_name, username, language_code)
        self._state.add_user(user)
        return user

    def group(self, chat_id: int, title: str, *, creator: FakeUser | None = None) -> FakeChat:
        """A group the bot is an administrator of (change with set_member)."""
        record = self._state.add_group(chat_id, title, creator.id if creator else None)
        return record.chat

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set a status for getChatMember: creator, administrator, member, left, kicked..."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {sorted(MEMBER_STATUSES)}")
        self._group_record(chat_id).members[user_id] = status

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403 from now on."""
        self._set_blocked(self._private_record(user_id), blocked=True)

    def unblock(self, user_id: int) -> None:
        self._set_blocked(self._private_record(user_id), blocked=False)

    # --- messages -------------------------------------------------------------------------

    async def send_text(
        self, user: FakeUser, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> int:
        """The user sends text; a leading /command gets its bot_command entity."""
        message = self._new_user_message(user, chat_id, "text", reply_to)
        message.text = text
        message.entities = command_entities(text)
        return self._deliver(message, "user_text", text)

    async def send_contact(
        self,
        user: FakeUser,
        phone_number: str,
        *,
        own: bool = True,
        first_name: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        """Share a contact; own=True is the "share my phone number" button (user_id set)."""
        contact: JSON = {
            "phone_number": phone_number,
            "first_name": first_name or (user.first_name if own else "联系人"),
        }
        if own:
            contact["user_id"] = user.id
            if user.last_name:
                contact["last_name"] = user.last_name
        message = self._new_user_message(user, chat_id, "contact", None)
        message.media = {"contact": contact}
        return self._deliver(message, "user_contact", phone_number)

    async def send_location(
        self, user: FakeUser, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> int:
        """Share a location (attach → Location, or a request_location button)."""
        message = self._new_user_message(user, chat_id, "location", None)
        message.media = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._deliver(message, "user_location", f"[location {latitude:.5f},{longitude:.5f}]")

    async def send_photo(
        self,
        user: FakeUser,
        caption: str | None = None,
        *,
        content: bytes | None = None,
        chat_id: int | None = None,
    ) -> int:
        content = content if content is not None else tiny_png()
        stored = self._state.store_file("photo", content, "photo.png", "image/png")
        message = self._new_user_message(user, chat_id, "photo", None)
        message.file, message.text = stored, caption or ""
        message.media = {
            "photo": [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(content),
                    "width": 4,
                    "height": 3,
                }
            ]
        }
        return self._deliver(message, "user_photo", f"[photo] {caption or ''}".rstrip())

    async def send_voice(
        self, user: FakeUser, *, duration: int = 3, chat_id: int | None = None
    ) -> int:
        stored = self._state.store_file("voice", b"OggS\x00fake-voice", None, "audio/ogg")
        message = self._new_user_message(user, chat_id, "voice", None)
        message.file = stored
        message.media = {
            "voice": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": duration,
                "mime_type": "audio/ogg",
                "file_size": len(stored.content),
            }
        }
        return self._deliver(message, "user_voice", f"[voice {duration}s]")

    async def send_sticker(
        self, user: FakeUser, *, emoji: str = "👍", chat_id: int | None = None
    ) -> int:
        stored = self._state.store_file("sticker", b"RIFF\x00\x00\x00\x00WEBP", None, "image/webp")
        message = self._new_user_message(user, chat_id, "sticker", None)
        message.file = stored
        message.media = {
            "sticker": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
                "file_size": len(stored.content),
            }
        }
        return self._deliver(message, "user_sticker", f"[sticker {emoji}]")

    async def send_document(
        self,
        user: FakeUser,
        filename: str,
        content: bytes,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> int:
        stored = self._state.store_file("document", content, filename)
        message = self._new_user_message(user, chat_id, "document", None)
        message.file, message.text = stored, caption or ""
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "file_size": len(content),
        }
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        message.media = {"document": document}
        return self._deliver(message, "user_document", f"[document {filename}] {caption or ''}")

    # --- buttons --------------------------------------------------------------------------

    async def press(
        self,
        user: FakeUser,
        chat_id: int,
        message_id: int | None = None,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> str:
        """Press an inline button; returns the callback query id.

        The message defaults to the latest bot message in the chat with an inline keyboard.
        The button is the one whose callback_data equals `data`, or whose text equals or
        else (uniquely) contains `text`.
        """
        if (text is None) == (data is None):
            raise ValueError("press() needs exactly one of text= or data=")
        record = self._known_record(chat_id)
        message = self._message_to_press(record, message_id)
        button = _find_button(message, text, data)
        query = self._state.new_callback_query(user, record.chat, message.message_id)
        self._state.emit(
            "user_press",
            chat=record.chat,
            user=user,
            text=button.text,
            message_id=message.message_id,
        )
        self._state.push_update(
            "callback_query",
            {
                "id": query.id,
                "from": user.to_json(),
                "message": message.to_json(),
                "chat_instance": f"{record.chat.id * 7 + 1000003}",
                "data": button.data,
            },
        )
        return query.id

    async def forge_press(self, user: FakeUser, chat_id: int, message_id: int, data: str) -> str:
        """A press carrying any callback data on a bot message, as a modified client can send.

        Unlike press(), the data need not be on any of the message's buttons; returns the
        callback query id.
        """
        record = self._known_record(chat_id)
        message = self._message_to_press(record, message_id)
        query = self._state.new_callback_query(user, record.chat, message.message_id)
        self._state.emit(
            "user_press",
            chat=record.chat,
            user=user,
            text=f"[forged] {data}",
            message_id=message.message_id,
        )
        self._state.push_update(
            "callback_query",
            {
                "id": query.id,
                "from": user.to_json(),
                "message": message.to_json(),
                "chat_instance": f"{record.chat.id * 7 + 1000003}",
                "data": data,
            },
        )
        return query.id

    # --- redelivery ------------------------------------------------------------------------

    async def redeliver_last(self, user: FakeUser) -> None:
        """The last update from this user comes again, payload unchanged (a retry, a replay)."""
        for update in reversed(self._state.history):
            sender = update.payload.get("from")
            if isinstance(sender, dict) and sender.get("id") == user.id:
                self._state.push_update(update.kind, update.payload)
                return
        raise AssertionError(f"user {user.id} has sent nothing to redeliver")

    # --- helpers --------------------------------------------------------------------------

    def _known_record(self, chat_id: int) -> ChatRecord:
        record = self._state.chats.get(chat_id)
        if record is None:
            known = sorted(self._state.chats)
            raise AssertionError(f"chat {chat_id} is unknown to the fake; known chats: {known}")
        return record

    def _private_record(self, user_id: int) -> ChatRecord:
        record = self._known_record(user_id)
        if record.chat.type != "private":
            raise AssertionError(f"{user_id} is a group, not a user")
        return record

    def _group_record(self, chat_id: int) -> ChatRecord:
        record = self._known_record(chat_id)
        if record.chat.type == "private":
            raise AssertionError(f"{chat_id} is a private chat, not a group")
        return record

    def _new_user_message(
        self, user: FakeUser, chat_id: int | None, kind: str, reply_to: int | None
    ) -> StoredMessage:
        if user.id not in self._state.users:
            raise AssertionError(f"user {user.id} was not created with fake.user()")
        record = self._known_record(user.id if chat_id is None else chat_id)
        if record.chat.type == "private":
            if record.chat.id != user.id:
                raise AssertionError(f"user {user.id} cannot write in {record.chat.id}'s chat")
            if user.id in self._state.blocked:
                # Writing to a blocked bot means pressing "Restart": Telegram unblocks it.
                self._set_blocked(record, blocked=False)
        else:
            status = record.members.get(user.id, "left")
            if status == "kicked":
                raise AssertionError(f"user {user.id} is banned from {record.chat.id}")
            if status == "left":
                record.members[user.id] = "member"
        message = self._state.add_message(record, user, kind)
        if reply_to is not None:
            target = record.messages.get(reply_to)
            if target is None or target.deleted:
                raise AssertionError(f"no message {reply_to} to reply to in {record.chat.id}")
            message.reply_to = target
        return message

    def _deliver(self, message: StoredMessage, event_kind: str, summary: str) -> int:
        event = self._state.emit(
            event_kind,
            chat=message.chat,
            user=message.sender,
            text=summary,
            message_id=message.message_id,
        )
        message.seq = event.seq
        if self._bot_sees(message):
            self._state.push_update("message", message.to_json())
        return message.message_id

    def _bot_sees(self, message: StoredMessage) -> bool:
        """Group privacy mode: a non-admin bot only gets commands, replies and mentions."""
        state = self._state
        if message.chat.type == "private" or not state.privacy_mode:
            return True
        record = state.chats[message.chat.id]
        if state.member_status(record, state.bot_user.id) in ("administrator", "creator"):
            return True
        replied_to_bot = (
            message.reply_to is not None and message.reply_to.sender.id == state.bot_user.id
        )
        mentioned = f"@{state.bot_user.username}".lower() in message.text.lower()
        return message.text.startswith("/") or replied_to_bot or mentioned

    def _message_to_press(self, record: ChatRecord, message_id: int | None) -> StoredMessage:
        bot_id = self._state.bot_user.id
        if message_id is not None:
            message = record.messages.get(message_id)
            if message is None or message.sender.id != bot_id:
                raise AssertionError(f"no bot message {message_id} in chat {record.chat.id}")
            if message.deleted:
                raise AssertionError(f"message {message_id} in {record.chat.id} was deleted")
            return message
        for message in reversed(record.messages.values()):
            if message.sender.id == bot_id and not message.deleted and message.inline_buttons():
                return message
        raise AssertionError(
            f"no bot message with an inline keyboard in chat {record.chat.id}; "
            f"last bot messages:\n{_recent(record)}"
        )

    def _set_blocked(self, record: ChatRecord, *, blocked: bool) -> None:
        state = self._state
        if (record.chat.id in state.blocked) == blocked:
            return
        (state.blocked.add if blocked else state.blocked.discard)(record.chat.id)
        user = state.users[record.chat.id]
        statuses = ("member", "kicked") if blocked else ("kicked", "member")
        state.emit(
            "user_block" if blocked else "user_unblock", chat=record.chat, user=user, text=""
        )
        bot = state.bot_user.to_json()
        state.push_update(
            "my_chat_member",
            {
                "chat": record.chat.to_json(),
                "from": user.to_json(),
                "date": int(time.time()),
                "old_chat_member": _member_json(statuses[0], bot),
                "new_chat_member": _member_json(statuses[1], bot),
            },
        )


def _member_json(status: str, user: JSON) -> JSON:
    member: JSON = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member


def _find_button(message: StoredMessage, text: str | None, data: str | None) -> Button:
    buttons = [button for row in message.inline_buttons() for button in row]
    if data is not None:
        matches = [b for b in buttons if b.data == data]
    else:
        assert text is not None
        matches = [b for b in buttons if b.text == text] or [b for b in buttons if text in b.text]
    wanted = f"data={data!r}" if data is not None else f"text containing {text!r}"
    listing = "\n".join(f"  {b.text!r} data={b.data!r} url={b.url!r}" for b in buttons)
    if not matches:
        raise AssertionError(
            f"no button with {wanted} on message {message.message_id} in chat "
            f"{message.chat.id}; its buttons:\n{listing}"
        )
    if len(matches) > 1:
        raise AssertionError(f"several buttons with {wanted}; say which:\n{listing}")
    if matches[0].data is None:
        raise AssertionError(f"button {matches[0].text!r} is a URL button; it cannot be pressed")
    return matches[0]


def _recent(record: ChatRecord, count: int = 8) -> str:
    bot_messages = [m for m in record.messages.values() if m.sender.is_bot][-count:]
    if not bot_messages:
        return "  (none)"
    return "\n".join(f"  {m.snapshot().describe()}" for m in bot_messages)
