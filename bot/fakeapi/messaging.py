"""Bot API methods that create, change or remove messages, and answer callback queries."""

from __future__ import annotations

import time

from bot.fakeapi.entities import parse_html
from bot.fakeapi.errors import bad_request, forbidden, too_many_requests
from bot.fakeapi.faults import limit_retry_after
from bot.fakeapi.images import image_size
from bot.fakeapi.markup import validate_reply_markup
from bot.fakeapi.params import Params, Upload
from bot.fakeapi.records import JSON, CallbackAnswer, Delivery, StoredFile, StoredMessage
from bot.fakeapi.state import ChatRecord, TelegramState

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


class FormattedText:
    """Text or caption after parse_mode, with what is needed to compare and store it."""

    def __init__(self, params: Params, field: str, entities_field: str, limit: int) -> None:
        self.raw = params.get_str(field) or ""
        self.parse_mode = params.get_str("parse_mode") or None
        mode = (self.parse_mode or "").lower()
        if mode == "html":
            self.text, self.entities = parse_html(self.raw)
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is stored unparsed: the project renders HTML, so only HTML is checked.
            self.text = self.raw
            self.entities = list(params.get_json(entities_field) or []) if not mode else []
        else:
            raise bad_request("unsupported parse_mode")
        if len(self.text) > limit:
            raise bad_request(
                "message is too long" if field == "text" else "message caption is too long"
            )


class Messaging:
    def __init__(self, state: TelegramState) -> None:
        self._state = state
        self.enforce_limits = False

    # --- sending --------------------------------------------------------------------------

    async def send_message(self, params: Params) -> JSON:
        record = self._writable_chat(params)
        formatted = FormattedText(params, "text", "entities", MAX_TEXT)
        if not formatted.text.strip():
            raise bad_request("message text is empty")
        markup = validate_reply_markup(params.get_json("reply_markup"))
        reply_to = self._reply_target(params, record)
        message = self._new_bot_message(record, "sendMessage", "text")
        self._apply_text(message, formatted)
        message.reply_markup, message.reply_to = markup, reply_to
        return self._announce(message, "bot_send")

    async def send_photo(self, params: Params) -> JSON:
        record = self._writable_chat(params)
        stored = self._input_file(params, "photo", "photo")
        size = image_size(stored.content)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return self._send_media(
            params,
            record,
            "sendPhoto",
            stored,
            {
                "photo": [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "file_size": len(stored.content),
                        "width": size[0],
                        "height": size[1],
                    }
                ]
            },
        )

    async def send_document(self, params: Params) -> JSON:
        record = self._writable_chat(params)
        stored = self._input_file(params, "document", "document")
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_size": len(stored.content),
        }
        media = {"document": {key: value for key, value in document.items() if value is not None}}
        return self._send_media(params, record, "sendDocument", stored, media)

    def _send_media(
        self, params: Params, record: ChatRecord, method: str, stored: StoredFile, media: JSON
    ) -> JSON:
        formatted = FormattedText(params, "caption", "caption_entities", MAX_CAPTION)
        markup = validate_reply_markup(params.get_json("reply_markup"))
        reply_to = self._reply_target(params, record)
        message = self._new_bot_message(record, method, next(iter(media)))
        self._apply_text(message, formatted)
        message.media, message.file = media, stored
        message.reply_markup, message.reply_to = markup, reply_to
        return self._announce(message, "bot_send")

    async def send_chat_action(self, params: Params) -> bool:
        self._writable_chat(params)
        if params.get_str("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # --- editing and deleting -------------------------------------------------------------

    async def edit_message_text(self, params: Params) -> JSON:
        message = self._editable_message(params)
        if message.has_caption_slot:
            raise bad_request("there is no text in the message to edit")
        formatted = FormattedText(params, "text", "entities", MAX_TEXT)
        if not formatted.text.strip():
            raise bad_request("message text is empty")
        markup = validate_reply_markup(params.get_json("reply_markup"))
        self._refuse_unchanged(message, formatted, markup)
        self._apply_text(message, formatted)
        message.reply_markup = markup
        return self._mark_edited(message)

    async def edit_message_caption(self, params: Params) -> JSON:
        message = self._editable_message(params)
        if not message.has_caption_slot:
            raise bad_request("there is no caption in the message to edit")
        formatted = FormattedText(params, "caption", "caption_entities", MAX_CAPTION)
        markup = validate_reply_markup(params.get_json("reply_markup"))
        self._refuse_unchanged(message, formatted, markup)
        self._apply_text(message, formatted)
        message.reply_markup = markup
        return self._mark_edited(message)

    async def edit_message_reply_markup(self, params: Params) -> JSON:
        message = self._editable_message(params)
        markup = validate_reply_markup(params.get_json("reply_markup"))
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.reply_markup = markup
        return self._mark_edited(message)

    async def delete_message(self, params: Params) -> bool:
        record = self._state.chat_record(self._chat_id(params))
        message = record.messages.get(params.get_int("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        event = self._state.emit(
            "bot_delete",
            chat=record.chat,
            user=None,
            text=message.text,
            message_id=message.message_id,
        )
        message.seq = event.seq
        return True

    # --- callback queries -----------------------------------------------------------------

    async def answer_callback_query(self, params: Params) -> bool:
        query = self._state.callback_queries.get(params.get_str("callback_query_id") or "")
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get_str("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        answer = CallbackAnswer(
            query.id, text, params.get_bool("show_alert"), params.get_str("url")
        )
        self._state.callback_answers.append(answer)
        self._state.emit(
            "callback_answer",
            chat=query.chat,
            user=query.user,
            text=("[alert] " if answer.show_alert else "") + (text or ""),
            message_id=query.message_id,
        )
        return True

    # --- files ----------------------------------------------------------------------------

    async def get_file(self, params: Params) -> JSON:
        stored = self._state.files.get(params.get_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.to_json()

    # --- helpers --------------------------------------------------------------------------

    def _chat_id(self, params: Params) -> int:
        raw = params.raw("chat_id")
        if raw in (None, ""):
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            username = raw[1:].lower()
            for record in self._state.chats.values():
                if (record.chat.username or "").lower() == username:
                    return record.chat.id
            raise bad_request("chat not found")
        chat_id = params.get_int("chat_id")
        assert chat_id is not None  # emptiness was refused above
        return chat_id

    def _writable_chat(self, params: Params) -> ChatRecord:
        """The target chat, refused as Telegram refuses chats the bot cannot write to."""
        record = self._state.chat_record(self._chat_id(params))
        if record.chat.type == "private":
            if record.chat.id in self._state.blocked:
                raise forbidden("bot was blocked by the user")
            return record
        status = self._state.member_status(record, self._state.bot_user.id)
        if status == "kicked":
            raise forbidden("bot was kicked from the group chat")
        if status == "left":
            raise forbidden("bot is not a member of the group chat")
        return record

    def _editable_message(self, params: Params) -> StoredMessage:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not part of the fake
        record = self._writable_chat(params)
        message_id = params.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = record.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if message.sender.id != self._state.bot_user.id:
            raise bad_request("message can't be edited")
        return message

    def _reply_target(self, params: Params, record: ChatRecord) -> StoredMessage | None:
        message_id = params.get_int("reply_to_message_id")
        allow_missing = params.get_bool("allow_sending_without_reply")
        reply_parameters = params.get_json("reply_parameters")
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = bool(reply_parameters.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = record.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _input_file(self, params: Params, field: str, kind: str) -> StoredFile:
        value = params.get_file(field)
        if isinstance(value, Upload):
            if not value.content:
                raise bad_request("file must be non-empty")
            return self._state.store_file(kind, value.content, value.filename, value.content_type)
        if value is None:
            raise bad_request(f"there is no {field} in the request")
        if value in self._state.files:
            return self._state.files[value]
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")  # the fake never goes online
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _new_bot_message(self, record: ChatRecord, method: str, kind: str) -> StoredMessage:
        now = time.monotonic()
        if self.enforce_limits:
            wait = limit_retry_after(self._state.deliveries, record.chat.id, record.chat.type, now)
            if wait is not None:
                raise too_many_requests(wait)
        message = self._state.add_message(record, self._state.bot_user, kind)
        self._state.deliveries.append(Delivery(now, record.chat.id, message.message_id, method))
        return message

    @staticmethod
    def _apply_text(message: StoredMessage, formatted: FormattedText) -> None:
        message.text = formatted.text
        message.raw_text = formatted.raw
        message.parse_mode = formatted.parse_mode
        message.entities = formatted.entities

    @staticmethod
    def _refuse_unchanged(
        message: StoredMessage, formatted: FormattedText, markup: JSON | None
    ) -> None:
        if (
            formatted.text == message.text
            and formatted.entities == message.entities
            and markup == message.reply_markup
        ):
            raise bad_request(NOT_MODIFIED)

    def _mark_edited(self, message: StoredMessage) -> JSON:
        message.edit_date = int(time.time())
        return self._announce(message, "bot_edit")

    def _announce(self, message: StoredMessage, kind: str) -> JSON:
        text = message.text
        if message.file is not None:
            name = f" {message.file.file_name}" if message.file.file_name else ""
            text = f"[{message.kind}{name}] {text}".rstrip()
        event = self._state.emit(
            kind,
            chat=message.chat,
            user=None,
            text=text,
            buttons=message.inline_buttons(),
            message_id=message.message_id,
        )
        message.seq = event.seq
        return message.to_json()
