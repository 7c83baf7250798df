"""Log lines carry the update context: update, internal user, wish id; never a Telegram id."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot import logs
from bot.tg.log_context import LogContextMiddleware, wish_of

TG_ID = 777000111


def _press(data: str, update_id: int = 5) -> Update:
    user = User(id=TG_ID, is_bot=False, first_name="张阿姨")
    message = Message.model_validate(
        {"message_id": 1, "date": 0, "chat": Chat(id=TG_ID, type="private"), "text": "x"}
    )
    query = CallbackQuery(id="1", from_user=user, chat_instance="c", data=data, message=message)
    return Update(update_id=update_id, callback_query=query)


def _record(msg: str = "hello") -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, None, None)
    logs.ContextFilter().filter(record)
    return record


def test_wish_id_is_read_from_wish_and_task_buttons_only() -> None:
    assert wish_of(_press("w:view:12:")) == 12
    assert wish_of(_press("t:claim:7:")) == 7
    assert wish_of(_press("st:why:3")) == 3
    assert wish_of(_press("pb:1")) is None
    assert wish_of(_press("w:view:notanumber")) is None


async def test_middleware_binds_update_user_and_wish_for_the_handler() -> None:
    class _Actor:
        user_id = 42

    seen: dict[str, Any] = {}

    async def handler(event: Any, data: dict[str, Any]) -> None:
        record = _record()
        seen["ctx"] = record.ctx
        seen["json"] = json.loads(logs.JsonFormatter().format(record))

    await LogContextMiddleware()(handler, _press("t:done:9:", update_id=31), {"actor": _Actor()})
    assert seen["ctx"] == " update=31 user=42 wish=9"
    assert seen["json"]["update"] == 31 and seen["json"]["user"] == 42
    assert seen["json"]["wish"] == 9
    assert str(TG_ID) not in seen["ctx"] and str(TG_ID) not in json.dumps(seen["json"])


async def test_each_update_starts_with_a_clean_context() -> None:
    logs.bind(update=1, user=2, wish=3)
    seen: list[str] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        seen.append(_record().ctx)

    await LogContextMiddleware()(handler, _press("lang:en", update_id=8), {"actor": None})
    assert seen == [" update=8"]


def test_plain_format_shows_the_context() -> None:
    logs.clear()
    logs.bind(update=4, wish=11)
    line = logging.Formatter(logs.PLAIN_FORMAT).format(_record("round offered"))
    assert line.endswith("INFO t: update=4 wish=11 round offered")
    logs.clear()


async def test_start_up_chatter_is_quiet_at_info(tmp_path: Any, capsys: Any) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.config import LoggingConfig
    from bot.db import migrate

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup_logging(LoggingConfig(level="INFO"))
        await migrate.current_revision(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
        AsyncIOScheduler().add_job(print, "interval", seconds=60)  # "Adding job tentatively"
        logging.getLogger("bot.app").info("bot starting")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "bot starting" in err  # our own INFO lines still show
    assert "Context impl" not in err and "tentatively" not in err
