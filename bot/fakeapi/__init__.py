"""A fake Telegram Bot API server with scripted users, for tests, the demo and CI.

async with FakeBotAPI() as fake:
    alice = fake.user(1001, "Alice")
    bot = fake.make_bot()            # or AiohttpSession(api=TelegramAPIServer.from_base(...))
    await fake.send_text(alice, "/start")
    reply = await fake.expect(alice.id, "欢迎")
"""

from bot.fakeapi.errors import ApiError
from bot.fakeapi.records import (
    BotCommandEntry,
    BotMessage,
    Button,
    CallbackAnswer,
    Delivery,
    Event,
    FakeChat,
    FakeUser,
)
from bot.fakeapi.server import DEFAULT_TOKEN, FakeBotAPI

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotCommandEntry",
    "BotMessage",
    "Button",
    "CallbackAnswer",
    "Delivery",
    "Event",
    "FakeBotAPI",
    "FakeChat",
    "FakeUser",
]
