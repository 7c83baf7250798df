"""A stage for the real bot: fake Bot API server + migrated database + BotRunner.

The demo and the end-to-end tests both use it, so what the demo shows is what is tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from bot.app import BotRunner
from bot.config import Settings
from bot.db.migrate import upgrade_async
from bot.fakeapi.records import BotMessage, FakeUser
from bot.fakeapi.server import FakeBotAPI
from bot.services.context import AppContext, system_clock

TOKEN = "123456:DEMO-TOKEN-not-a-real-one"
GRIDS = [
    {"code": "G01", "name": "第一网格（1-6栋）"},
    {"code": "G02", "name": "第二网格（7-12栋）"},
    {"code": "G03", "name": "第三网格（13-18栋）"},
]


def stage_settings(
    db_url: str, api_base: str, admins: list[int], **sections: dict[str, Any]
) -> Settings:
    data: dict[str, Any] = {
        # Scripted people type faster than anyone can: the per-person throttle (10 messages
        # in 10 s by default) would cut the demo short. Tests of the throttle set their own.
        "telegram": {
            "token": TOKEN,
            "api_base": api_base,
            "polling_timeout": 10,
            "throttle_burst": 100,
        },
        "database": {"url": db_url},
        "community": {"name": "幸福社区", "grids": GRIDS},
        "staff": {"admins": admins},
        "logging": {"level": "WARNING"},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Settings(**data)


@dataclass
class Person:
    """Someone on stage: says things, presses buttons, reads their chat."""

    stage: Stage
    user: FakeUser

    @property
    def id(self) -> int:
        return self.user.id

    async def say(self, text: str, expect: str | None = None, timeout: float = 10.0) -> BotMessage:
        fake = self.stage.fake
        mark = fake.mark()
        await fake.send_text(self.user, text)
        return await fake.expect(self.user.id, expect, after=mark, timeout=timeout)

    async def share_contact(self, phone: str, expect: str | None = None) -> BotMessage:
        fake = self.stage.fake
        mark = fake.mark()
        await fake.send_contact(self.user, phone)
        return await fake.expect(self.user.id, expect, after=mark, timeout=10)

    async def share_location(
        self, latitude: float, longitude: float, expect: str | None = None
    ) -> BotMessage:
        fake = self.stage.fake
        mark = fake.mark()
        await fake.send_location(self.user, latitude, longitude)
        return await fake.expect(self.user.id, expect, after=mark, timeout=10)

    async def press(
        self,
        text: str | None = None,
        *,
        data: str | None = None,
        message_id: int | None = None,
        expect: str | None = None,
        timeout: float = 10.0,
    ) -> BotMessage | None:
        fake = self.stage.fake
        mark = fake.mark()
        query_id = await fake.press(self.user, self.user.id, message_id, text=text, data=data)
        if expect is None:
            # The answer first: "settled" alone can come before a slow handler has answered.
            await fake.answered(query_id, timeout=timeout)
            await fake.settle(timeout=timeout)
            return None
        return await fake.expect(self.user.id, expect, after=mark, timeout=timeout)

    def last(self) -> BotMessage:
        return self.stage.fake.last(self.user.id)

    def inbox(self) -> list[BotMessage]:
        return self.stage.fake.messages(self.user.id)

    async def expect(
        self, contains: str | None = None, *, after: int | None = None, timeout: float = 10.0
    ) -> BotMessage:
        return await self.stage.fake.expect(self.user.id, contains, after=after, timeout=timeout)


class Stage:
    def __init__(
        self,
        db_url: str,
        *,
        admins: tuple[int, ...] = (9001,),
        clock: Callable[[], datetime] = system_clock,
        fake: FakeBotAPI | None = None,
        **sections: dict[str, Any],
    ) -> None:
        self.db_url = db_url
        self.admins = list(admins)
        self.clock = clock
        self.sections = sections
        self.fake = fake or FakeBotAPI(token=TOKEN)
        self.runner: BotRunner | None = None

    @property
    def app(self) -> AppContext:
        assert self.runner is not None and self.runner.app is not None
        return self.runner.app

    async def __aenter__(self) -> Stage:
        await self.fake.start()
        await upgrade_async(self.db_url)
        await self.start_bot()
        return self

    async def start_bot(self) -> None:
        settings = stage_settings(self.db_url, self.fake.base_url, self.admins, **self.sections)
        # A manual clock (tests) means timers are fired by the test, not by APScheduler.
        self.runner = BotRunner(settings, clock=self.clock, run_clock=self.clock is system_clock)
        await self.runner.setup()
        self.runner.start_in_background()
        # Listening: a long poll waiting, or (webhook mode) the webhook set.
        webhook = settings.telegram.mode == "webhook"
        await self.fake.wait_for(
            lambda: self.fake.webhook.active if webhook else self.fake.bot_is_polling, timeout=10
        )

    async def stop_bot(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
            self.runner = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.stop_bot()
        finally:
            await self.fake.stop()

    def person(self, user_id: int, name: str, lang: str | None = "zh-hans") -> Person:
        return Person(self, self.fake.user(user_id, name, language_code=lang))
