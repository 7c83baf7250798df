"""Whose turn an update takes (bot.tg.pump.chat_key).

Before: a button pressed on a group post took the group's turn, so 50 volunteers pressing
Claim on the grid group's post were handled one after another and the last waited ~2 s.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import Update

from bot.tg.pump import chat_key

GROUP = {"id": -100_777, "type": "supergroup", "title": "G01"}


def _user(uid: int) -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": f"u{uid}"}


def _press(update_id: int, uid: int, chat: dict[str, Any]) -> Update:
    message = {"message_id": 5, "date": 0, "chat": chat, "text": "post"}
    query = {"id": str(update_id), "from": _user(uid), "chat_instance": "c", "data": "t:claim:1:"}
    return Update.model_validate(
        {"update_id": update_id, "callback_query": {**query, "message": message}}
    )


def _message(update_id: int, uid: int, chat: dict[str, Any]) -> Update:
    message = {"message_id": update_id, "date": 0, "chat": chat, "from": _user(uid), "text": "hi"}
    return Update.model_validate({"update_id": update_id, "message": message})


def test_presses_on_a_group_post_take_each_pressers_turn() -> None:
    assert chat_key(_press(1, 201, GROUP)) == 201
    assert chat_key(_press(2, 202, GROUP)) == 202


def test_a_pressers_group_press_and_private_messages_share_one_turn() -> None:
    private = {"id": 201, "type": "private"}
    assert chat_key(_press(1, 201, GROUP)) == chat_key(_message(2, 201, private)) == 201


def test_group_messages_and_private_presses_keep_their_chats_turn() -> None:
    assert chat_key(_message(1, 201, GROUP)) == GROUP["id"]
    assert chat_key(_press(2, 201, {"id": 201, "type": "private"})) == 201


def test_a_new_name_is_stored_on_private_updates_only() -> None:
    """A burst of presses on a group post (fifty volunteers on one Claim) queued fifty
    rename writes behind the claim; their next private update stores a new name instead."""
    from bot.tg.middlewares import _in_private

    private = {"id": 201, "type": "private"}
    assert _in_private(_message(1, 201, private))
    assert _in_private(_press(2, 201, private))
    assert not _in_private(_press(3, 201, GROUP))
    assert not _in_private(_message(4, 201, GROUP))
