"""The bot's session keeps aiogram's Response[T] models alive, so they are built once."""

from __future__ import annotations

import gc

from aiogram.methods.base import Response
from aiogram.types import User

from bot.app import make_bot
from bot.config import Settings
from bot.fakeapi import FakeBotAPI
from bot.tg import session as bot_session


async def test_response_models_survive_garbage_collection() -> None:
    async with FakeBotAPI() as fake:
        settings = Settings.model_validate(
            {"telegram": {"token": fake.token, "api_base": fake.base_url}}
        )
        bot = make_bot(settings)
        try:
            await bot.get_me()
            gc.collect()
            first = Response[User]
            await bot.get_me()
            gc.collect()
        finally:
            await bot.session.close()
    # Without the kept reference pydantic's weak cache lets the class go and rebuilds it.
    assert Response[User] is first is bot_session._KEPT[User]
