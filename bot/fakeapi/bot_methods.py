"""The Bot API method table, plus the methods about the bot itself and about chats."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.fakeapi.errors import bad_request
from bot.fakeapi.messaging import Messaging
from bot.fakeapi.params import Params
from bot.fakeapi.polling import UpdatePoller
from bot.fakeapi.records import JSON, BotCommandEntry
from bot.fakeapi.state import DEFAULT_ALLOWED_UPDATES, ChatRecord, TelegramState
from bot.fakeapi.webhook import WebhookDelivery, loopback

Handler = Callable[[Params], Awaitable[Any]]

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_COMMANDS = 100
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": False,
    "can_pin_messages": True,
}
_RESTRICTED_RIGHTS = {
    "is_member": True,
    **{
        f"can_{right}": True
        for right in (
            "send_messages",
            "send_audios",
            "send_documents",
            "send_photos",
            "send_videos",
            "send_video_notes",
            "send_voice_notes",
            "send_polls",
            "send_other_messages",
            "add_web_page_previews",
            "react_to_messages",
            "edit_tag",
            "change_info",
            "invite_users",
            "pin_messages",
            "manage_topics",
        )
    },
    "until_date": 0,
}


class BotApi:
    """Maps method names (case-insensitive, as in Telegram) to their implementations."""

    def __init__(self, state: TelegramState) -> None:
        self._state = state
        self.messaging = Messaging(state)
        self.poller = UpdatePoller(state)
        self.webhook = WebhookDelivery(state)
        m = self.messaging
        table: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.poller.get_updates,
            "sendMessage": m.send_message,
            "sendPhoto": m.send_photo,
            "sendDocument": m.send_document,
            "sendChatAction": m.send_chat_action,
            "editMessageText": m.edit_message_text,
            "editMessageCaption": m.edit_message_caption,
            "editMessageReplyMarkup": m.edit_message_reply_markup,
            "deleteMessage": m.delete_message,
            "answerCallbackQuery": m.answer_callback_query,
            "getFile": m.get_file,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
        }
        self._handlers = {name.lower(): handler for name, handler in table.items()}

    def lookup(self, method: str) -> Handler | None:
        return self._handlers.get(method.lower())

    # --- the bot --------------------------------------------------------------------------

    async def get_me(self, params: Params) -> JSON:
        return {
            **self._state.bot_user.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self._state.privacy_mode,
            "supports_inline_queries": False,
        }

    async def set_my_commands(self, params: Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        entries = [_command_entry(command) for command in commands]
        self._state.commands[self._commands_key(params)] = entries
        return True

    async def get_my_commands(self, params: Params) -> list[JSON]:
        entries = self._state.commands.get(self._commands_key(params), [])
        return [{"command": e.command, "description": e.description} for e in entries]

    async def delete_my_commands(self, params: Params) -> bool:
        self._state.commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        language = params.get_str("language_code") or ""
        if language and not _LANGUAGE.fullmatch(language):
            raise bad_request("invalid language code specified")  # ISO 639-1: two letters
        return scope_key(params.get_json("scope")), language

    # --- webhook (delivery in bot/fakeapi/webhook.py) -------------------------------------

    async def set_webhook(self, params: Params) -> bool:
        url = params.get_str("url") or ""
        if url and not (
            url.startswith("https://") or (url.startswith("http://") and loopback(url))
        ):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get_str("secret_token") or None
        if secret is not None and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        connections = params.get_int("max_connections") or 40
        if not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._state.allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        self._state.webhook_url = url
        self._drop_pending_if_asked(params)
        self.webhook.configure(url, secret, connections)
        return True

    async def delete_webhook(self, params: Params) -> bool:
        self._state.webhook_url = ""
        self._drop_pending_if_asked(params)
        await self.webhook.stop()
        return True

    async def get_webhook_info(self, params: Params) -> JSON:
        info: JSON = {
            "url": self._state.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._state.updates),
        }
        if self._state.webhook_url:
            info["max_connections"] = self.webhook.max_connections
            info["allowed_updates"] = sorted(self._state.allowed_updates)
        if self.webhook.last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook.last_error
        return info

    def _drop_pending_if_asked(self, params: Params) -> None:
        if params.get_bool("drop_pending_updates"):
            self._state.updates.clear()
            self._state.signal.notify()

    # --- chats ----------------------------------------------------------------------------

    async def get_chat(self, params: Params) -> JSON:
        record = self._chat(params)
        return {
            **record.chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def get_chat_member(self, params: Params) -> JSON:
        record = self._chat(params)
        user = self._state.user_by_id(params.get_int("user_id") or 0)
        if user is None:
            raise bad_request("user not found")
        status = self._state.member_status(record, user.id)
        member: JSON = {"status": status, "user": user.to_json()}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(_ADMIN_RIGHTS)
        elif status == "restricted":
            member.update(_RESTRICTED_RIGHTS)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _chat(self, params: Params) -> ChatRecord:
        chat_id = params.get_int("chat_id")
        if chat_id is None:
            raise bad_request("chat_id is empty")
        return self._state.chat_record(chat_id)


def scope_key(scope: Any) -> str:
    """A BotCommandScope as a readable key: "default", "chat:-100123", "chat_member:-1:42"..."""
    if scope is None:
        return "default"
    kind = scope.get("type") if isinstance(scope, dict) else None
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return str(kind)
    if kind in ("chat", "chat_administrators") and "chat_id" in scope:
        return f"{kind}:{scope['chat_id']}"
    if kind == "chat_member" and "chat_id" in scope and "user_id" in scope:
        return f"chat_member:{scope['chat_id']}:{scope['user_id']}"
    raise bad_request("wrong bot command scope type specified")


def _command_entry(command: Any) -> BotCommandEntry:
    if not isinstance(command, dict):
        raise bad_request("BOT_COMMAND_INVALID")
    name, description = command.get("command"), command.get("description")
    if not isinstance(name, str) or not _COMMAND.fullmatch(name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return BotCommandEntry(name, description)
