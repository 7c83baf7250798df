"""The running bot: wiring of config, database, Telegram, dispatcher and clock.

`wishbot run`, the demo and the end-to-end tests all go through :class:`BotRunner`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db import migrate
from bot.db.engine import make_engine, make_session_factory
from bot.delivery import DeliveryOptions
from bot.delivery.engine import DeliveryEngine
from bot.delivery.ratelimit import make_limiter
from bot.scheduler.clock import Clock
from bot.scheduler.jobs import calendar_jobs
from bot.services.context import AppContext, system_clock
from bot.services.people import actors, grids
from bot.tg.commands import set_default_commands
from bot.tg.dispatcher import build_dispatcher
from bot.tg.fsm_storage import SQLStorage
from bot.tg.notifier import TelegramNotifier
from bot.web.app import WebServer

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0


class SchemaNotCurrent(Exception):
    pass


class _LastUpdate(BaseMiddleware):
    """Remembers the newest update handled, so a clean stop can confirm it to the server."""

    def __init__(self) -> None:
        self.last_id: int | None = None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            if isinstance(event, Update) and (
                self.last_id is None or event.update_id > self.last_id
            ):
                self.last_id = event.update_id


async def check_schema(url: str) -> None:
    current, head = await migrate.current_revision(url), migrate.head_revision()
    if current != head:
        raise SchemaNotCurrent(
            f"database schema is at {current or 'nothing'}, the code needs {head}: "
            "run `wishbot migrate` first"
        )


def make_bot(settings: Settings) -> Bot:
    if settings.telegram.token is None:
        raise SystemExit("telegram.token is not set (config file or WISHBOT__TELEGRAM__TOKEN)")
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram.api_base),
        timeout=settings.telegram.request_timeout,
        proxy=settings.telegram.proxy,  # through aiohttp-socks (HTTP CONNECT or SOCKS)
    )
    return Bot(
        settings.telegram.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=None, link_preview_is_disabled=True),
    )


async def make_storage(settings: Settings, app: AppContext) -> BaseStorage:
    if settings.redis.url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis.url)
    return SQLStorage(app.sessions)


class BotRunner:
    """Start and stop the whole bot in the current event loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = system_clock,
        run_clock: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock
        # Tests drive timers by hand (fire_due with a manual clock) instead of the real clock.
        self.run_clock = run_clock
        self.engine: AsyncEngine | None = None
        self.bot: Bot | None = None
        self.dp: Dispatcher | None = None
        self.app: AppContext | None = None
        self._task: asyncio.Task[None] | None = None
        self._last = _LastUpdate()
        self.started = asyncio.Event()
        self.web: WebServer | None = None

    async def setup(self) -> AppContext:
        settings = self.settings
        await check_schema(settings.database.url)
        self.engine = make_engine(
            settings.database.url,
            echo=settings.database.echo,
            busy_timeout_ms=settings.database.busy_timeout_ms,
        )
        sessions = make_session_factory(self.engine)
        self.bot = make_bot(settings)
        app = AppContext(settings=settings, sessions=sessions, notifier=None, clock=self.clock)  # type: ignore[arg-type]
        app.notifier = TelegramNotifier(self.bot, app)
        from bot.services.intake.classifier import load_classifier

        app.classifier = await load_classifier(app)
        async with sessions() as session:
            await grids.sync_grids(session, settings.community.grids)
        await actors.bootstrap_admins(app)
        self.app = app
        # Importing the feature services registers their timer handlers and calendar jobs.

        self.clock_jobs = Clock(app, calendar_jobs(settings))
        options = DeliveryOptions.from_settings(settings)
        limiter = make_limiter(options, redis_url=settings.redis.url, namespace=str(self.bot.id))
        self.delivery = DeliveryEngine(app, self.bot, limiter, options=options)
        self.dp = build_dispatcher(app, await make_storage(settings, app))
        self.dp.update.outer_middleware(self._last)
        self.dp.shutdown.register(self._drain)
        if settings.web.enabled:
            self.web = WebServer(app)
        return app

    async def run(self, *, handle_signals: bool = True) -> None:
        app = self.app or await self.setup()
        assert self.bot is not None and self.dp is not None
        me = await self.bot.get_me()
        log.info(
            "bot @%s (id %s) starting, community %s",
            me.username,
            me.id,
            app.settings.community.name,
        )
        await set_default_commands(self.bot)
        if self.web is not None:
            self.web.bot_username = me.username or ""
        self.dp.startup.register(self._on_startup)
        try:
            await self.dp.start_polling(
                self.bot,
                handle_signals=handle_signals,
                close_bot_session=True,
                polling_timeout=self.settings.telegram.polling_timeout,
                allowed_updates=self.dp.resolve_used_update_types(),
            )
        finally:
            if self.engine is not None:
                await self.engine.dispose()

    async def _on_startup(self) -> None:
        await self.delivery.start()
        if self.web is not None:
            await self.web.start()
        if self.run_clock:
            self.clock_jobs.start()
        self.started.set()

    async def _drain(self) -> None:
        """Let in-flight handlers finish (bounded), then confirm the handled updates."""
        assert self.dp is not None and self.bot is not None
        self.clock_jobs.stop()
        if self.web is not None:
            await self.web.stop()
        pending = set(self.dp._handle_update_tasks)  # aiogram keeps no public handle on them
        if pending:
            log.info("waiting for %d update(s) in progress", len(pending))
            _, late = await asyncio.wait(pending, timeout=DRAIN_SECONDS)
            if late:
                log.warning(
                    "%d update(s) still running after %ss; stopping anyway",
                    len(late),
                    DRAIN_SECONDS,
                )
        await self.delivery.stop()
        await self.delivery.limiter.close()  # the Redis connection, when there is one
        if self._last.last_id is not None:
            try:  # confirm everything handled; anything newer stays on the server for next time
                await self.bot.get_updates(offset=self._last.last_id + 1, limit=1, timeout=0)
            except (
                Exception
            ) as exc:  # the server is gone: it will resend, handlers are idempotent enough
                log.warning("could not confirm the last update: %s", exc)

    def start_in_background(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(handle_signals=False))
        return self._task

    async def stop(self) -> None:
        if self.dp is not None and self._task is not None and not self._task.done():
            await self.dp.stop_polling()
        if self._task is not None:
            await self._task
