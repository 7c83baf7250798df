"""Plain records of the fake Telegram world, and their Bot API JSON shapes.

Public ones (FakeUser, FakeChat, Button, BotMessage, CallbackAnswer, Event, Delivery,
BotCommandEntry) are what tests read; StoredMessage and StoredFile are the state's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_json(self) -> JSON:
        return _without_none(
            {
                "id": self.id,
                "is_bot": self.is_bot,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": self.language_code,
            }
        )


@dataclass(frozen=True)
class FakeChat:
    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None

    @property
    def name(self) -> str:
        return self.title or self.first_name or str(self.id)

    def to_json(self) -> JSON:
        return _without_none(
            {
                "id": self.id,
                "type": self.type,
                "title": self.title,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
            }
        )


@dataclass(frozen=True)
class Button:
    """An inline keyboard button as the user sees it."""

    text: str
    data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class BotMessage:
    """A snapshot of one bot message, as it is at the moment it was read."""

    chat_id: int
    message_id: int
    text: str  # the text or the caption, after entity parsing ("" for a bare photo)
    raw_text: str  # as the bot sent it, with markup
    parse_mode: str | None
    kind: str  # "text", "photo" or "document"
    buttons: list[list[Button]]
    keyboard: list[list[str]] | None  # a reply keyboard, when the message set one
    photo: bytes | None
    document: bytes | None
    filename: str | None
    reply_to: int | None
    edited: bool
    deleted: bool
    date: int
    marker: int  # the event counter value of its last change (see FakeBotAPI.mark)

    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    def describe(self) -> str:
        flags = "".join(
            f" [{flag}]" for flag, on in (("edited", self.edited), ("deleted", self.deleted)) if on
        )
        head = f"#{self.message_id} {self.kind}{flags}: {self.text!r}"
        buttons = " | ".join(f"{b.text}={b.data or b.url}" for row in self.buttons for b in row)
        return f"{head}  buttons: {buttons}" if buttons else head


@dataclass(frozen=True)
class CallbackAnswer:
    id: str
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One message the fake accepted from the bot; ts is time.monotonic()."""

    ts: float
    chat_id: int
    message_id: int
    method: str


@dataclass(frozen=True)
class BotCommandEntry:
    command: str
    description: str


@dataclass(frozen=True)
class Event:
    """One step of the conversation, for transcripts.

    kind is one of: user_text, user_contact, user_location, user_photo, user_voice, user_sticker,
    user_document, user_press, user_block, user_unblock, bot_send, bot_edit, bot_delete,
    callback_answer.
    """

    seq: int
    kind: str
    chat: FakeChat | None
    user: FakeUser | None
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    message_id: int | None = None

    def describe(self) -> str:
        who = self.user.full_name if self.user else "bot"
        where = self.chat.name if self.chat else "-"
        line = f"[{self.seq}] {self.kind} {who} @ {where}: {self.text}"
        buttons = " | ".join(b.text for row in self.buttons for b in row)
        return f"{line}  [{buttons}]" if buttons else line


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def to_json(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class StoredMessage:
    """One message of a chat, sent by the bot or by a user; mutable (edits, deletion)."""

    chat: FakeChat
    message_id: int
    date: int
    sender: FakeUser
    kind: str  # text, photo, document, contact, voice, sticker
    text: str = ""  # text or caption, after entity parsing
    raw_text: str = ""
    parse_mode: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    media: JSON = field(default_factory=dict)  # the photo/document/contact/... JSON fields
    file: StoredFile | None = None
    reply_to: StoredMessage | None = None
    edit_date: int | None = None
    deleted: bool = False
    seq: int = 0

    @property
    def has_caption_slot(self) -> bool:
        return self.kind in ("photo", "document")

    def to_json(self, *, with_reply: bool = True) -> JSON:
        body: JSON = {
            "message_id": self.message_id,
            "from": self.sender.to_json(),
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if self.edit_date is not None:
            body["edit_date"] = self.edit_date
        if with_reply and self.reply_to is not None:
            body["reply_to_message"] = self.reply_to.to_json(with_reply=False)
        body.update(self.media)
        text_key, entities_key = (
            ("caption", "caption_entities") if self.has_caption_slot else ("text", "entities")
        )
        if self.text:
            body[text_key] = self.text
        if self.entities:
            body[entities_key] = self.entities
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            body["reply_markup"] = self.reply_markup  # Telegram echoes inline keyboards only
        return body

    def inline_buttons(self) -> list[list[Button]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row] for row in rows
        ]

    def snapshot(self) -> BotMessage:
        keyboard = None
        if self.reply_markup is not None and "keyboard" in self.reply_markup:
            keyboard = [[b["text"] for b in row] for row in self.reply_markup["keyboard"]]
        content = self.file.content if self.file is not None else None
        return BotMessage(
            chat_id=self.chat.id,
            message_id=self.message_id,
            text=self.text,
            raw_text=self.raw_text,
            parse_mode=self.parse_mode,
            kind=self.kind,
            buttons=self.inline_buttons(),
            keyboard=keyboard,
            photo=content if self.kind == "photo" else None,
            document=content if self.kind == "document" else None,
            filename=self.file.file_name if self.file is not None else None,
            reply_to=self.reply_to.message_id if self.reply_to is not None else None,
            edited=self.edit_date is not None,
            deleted=self.deleted,
            date=self.date,
            marker=self.seq,
        )


def _without_none(values: JSON) -> JSON:
    return {key: value for key, value in values.items() if value is not None}
