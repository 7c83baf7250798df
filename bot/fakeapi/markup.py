"""reply_markup checks: the keyboard limits Telegram enforces, most of all 64-byte callback_data."""

from __future__ import annotations

from typing import Any

from bot.fakeapi.errors import bad_request
from bot.fakeapi.records import JSON

MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
_URL_SCHEMES = ("http://", "https://", "tg://")
# Any one of these makes an inline button valid; the fake only presses callback_data ones.
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def validate_reply_markup(markup: Any) -> JSON | None:
    """Return the markup as Telegram stores it, or raise the error Telegram gives."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _inline_rows(markup["inline_keyboard"])}
    if "keyboard" in markup:
        rows = _rows(markup["keyboard"], "keyboard")
        normalised = [[_reply_button(button) for button in row] for row in rows]
        return {**markup, "keyboard": normalised}
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return dict(markup)
    raise bad_request("can't parse reply keyboard markup JSON object")


def _rows(rows: Any, field: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" of the reply markup must be an Array of Arrays')
    return rows


def _inline_rows(rows: Any) -> list[list[JSON]]:
    checked = [[_inline_button(button) for button in row] for row in _rows(rows, "inline_keyboard")]
    if sum(len(row) for row in checked) > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    return [row for row in checked if row]


def _inline_button(button: Any) -> JSON:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [action for action in _INLINE_ACTIONS if action in button]
    if len(actions) != 1:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).startswith(_URL_SCHEMES):
        raise bad_request(
            f"inline keyboard button URL '{button['url']}' is invalid: Unsupported URL protocol"
        )
    return dict(button)


def _reply_button(button: Any) -> JSON:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not str(button.get("text", "")).strip():
        raise bad_request("can't parse keyboard button: Text must be non-empty")
    return dict(button)
