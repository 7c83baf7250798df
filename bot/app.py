"""The running bot: wiring of config, database, Telegram, dispatcher and clock.

`wishbot run`, the demo and the end-to-end tests all go through :class:`BotRunner`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import User
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db import migrate
from bot.db.engine import make_engine, make_session_factory
from bot.delivery import DeliveryOptions
from bot.delivery.engine import DeliveryEngine
from bot.delivery.ratelimit import make_limiter
from bot.ops import Metrics, Ops, OpsServer, SendMetrics
from bot.scheduler.clock import Clock
from bot.scheduler.jobs import calendar_jobs
from bot.services.context import AppContext, system_clock
from bot.services.people import actors, grids
from bot.tg.chatlock import ChatLocks, RedisChatLocks
from bot.tg.commands import set_default_commands
from bot.tg.dispatcher import build_dispatcher
from bot.tg.fsm_storage import SQLStorage
from bot.tg.limits import OutgoingLimits
from bot.tg.notifier import TelegramNotifier
from bot.tg.pump import UpdatePump
from bot.tg.session import BotSession
from bot.tg.taken_press import answer_taken
from bot.tg.throttle import Throttle
from bot.tg.webhook import (
    ChatOrder,
    HandledUpdates,
    RedisChatOrder,
    RedisHandledUpdates,
    WebhookReceiver,
)
from bot.web.app import WebServer

log = logging.getLogger(__name__)


class StartupFault(Exception):
    """Why the bot cannot start, in one line saying what to do; `wishbot run` exits 2."""


class SchemaNotCurrent(StartupFault):
    pass


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def check_schema(url: str) -> None:
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and ":memory:" not in url and not os.path.exists(file):  # noqa: ASYNC240 - one stat
        raise StartupFault(
            f"database file {file} does not exist: "
            "create it with `wishbot migrate` (or fix database.url)"
        )
    try:
        current = await migrate.current_revision(url)
    except Exception as exc:  # driver errors differ (OSError, asyncpg, sqlite3): all one story
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StartupFault(
            f"cannot open the database at {_where(url)} ({reason}): check database.url "
            "and that the database server is running"
        ) from exc
    head = migrate.head_revision()
    if current != head:
        raise SchemaNotCurrent(
            f"database schema is at {current or 'nothing'}, the code needs {head}: "
            "run `wishbot migrate` first"
        )


def make_bot(settings: Settings) -> Bot:
    if settings.telegram.token is None:
        raise StartupFault(
            "telegram.token is not set: put the token from @BotFather in the config file "
            "or WISHBOT__TELEGRAM__TOKEN"
        )
    session = BotSession(
        api=TelegramAPIServer.from_base(settings.telegram.api_base),
        timeout=settings.telegram.request_timeout,
        proxy=settings.telegram.proxy,  # through aiohttp-socks (HTTP CONNECT or SOCKS)
    )
    session.middleware(OutgoingLimits())  # every message, caption and toast within limits
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
        self.started = asyncio.Event()
        self.unfinished = 0  # updates fetched but not finished at the last stop
        self.web: WebServer | None = None
        self.metrics = Metrics()
        self.ops: Ops | None = None
        self.ops_server: OpsServer | None = None
        self.webhook: WebhookReceiver | None = None

    async def setup(self) -> AppContext:
        settings = self.settings
        await check_schema(settings.database.url)
        self.bot = make_bot(settings)
        self.bot.session.middleware(SendMetrics(self.metrics))
        db = settings.database
        self.engine = make_engine(
            db.url,
            echo=db.echo,
            busy_timeout_ms=db.busy_timeout_ms,
            pool_size=db.pool_size,
            max_overflow=db.max_overflow,
            pool_timeout=db.pool_timeout,
            inline=db.sqlite_inline,
        )
        sessions = make_session_factory(self.engine)
        app = AppContext(settings=settings, sessions=sessions, notifier=None, clock=self.clock)  # type: ignore[arg-type]
        app.notifier = TelegramNotifier(self.bot, app)
        from bot.services.intake.classifier import load_classifier

        app.classifier = await load_classifier(app)
        await self._sync_config_rows(app)
        self.app = app
        # Importing the feature services registers their timer handlers and calendar jobs.

        self.clock_jobs = Clock(app, calendar_jobs(settings))
        options = DeliveryOptions.from_settings(settings)
        limiter = make_limiter(options, redis_url=settings.redis.url, namespace=str(self.bot.id))
        self.delivery = DeliveryEngine(app, self.bot, limiter, options=options)
        self.dp = build_dispatcher(app, await make_storage(settings, app))
        tg = settings.telegram
        throttle = Throttle(
            tg.throttle_burst, tg.throttle_window_seconds, tg.throttle_cooldown_seconds
        )
        locks: ChatLocks = (
            RedisChatLocks(
                settings.redis.url,
                lock_seconds=settings.redis.lock_seconds,
                namespace=str(self.bot.id),
            )
            if settings.redis.url
            else ChatLocks()
        )
        self.pump = UpdatePump(
            self.dp,
            self.bot,
            sessions,
            max_concurrent=tg.max_concurrent_updates,
            polling_timeout=tg.polling_timeout,
            allowed_updates=self.dp.resolve_used_update_types(),
            locks=locks,
            throttle=throttle,
            metrics=self.metrics,
            shortcut=answer_taken,  # the other presses on a claimed grid post: "taken"
        )
        if tg.mode == "webhook":
            self.webhook = self._webhook_receiver(locks)
        self.ops = Ops(
            self.metrics,
            self.engine,
            bot=self.bot,
            redis_url=settings.redis.url,
            throttled=throttle.quiet_now,
            now=app.now,
        )
        if settings.web.enabled:
            self.web = WebServer(app, ops=self.ops)
        elif settings.metrics.host is not None:
            self.ops_server = OpsServer(self.ops, settings.metrics.host, settings.metrics.port)
        return app

    async def _sync_config_rows(self, app: AppContext) -> None:
        """Grids and admins from the config into the database. Several workers starting at
        the same moment insert the same rows: the loser of that race finds them next time."""
        for attempt in range(3):
            try:
                async with app.sessions() as session:
                    await grids.sync_grids(session, self.settings.community.grids)
                await actors.bootstrap_admins(app)
                return
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("another worker wrote the grids or admins meanwhile; once more")

    async def run(self, *, handle_signals: bool = True) -> None:
        app = self.app or await self.setup()
        assert self.bot is not None and self.dp is not None
        bot, dp = self.bot, self.dp
        try:
            me = await self._who_am_i()
            log.info(
                "bot @%s (id %s) starting, community %s",
                me.username,
                me.id,
                app.settings.community.name,
            )
            await set_default_commands(bot)
            if self.web is not None:
                self.web.bot_username = me.username or ""
            if handle_signals:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, self.pump.request_stop)
            await self._on_startup()
            await dp.emit_startup(bot=bot, dispatcher=dp, bots=[bot], **dp.workflow_data)
            # What start-up built (routers, classifier, locales, SQLAlchemy's caches, a few
            # hundred thousand objects) lives as long as the process: kept out of the cyclic
            # GC, whose full passes over it took ~0.3-1.5 s each, stalling every update.
            gc.freeze()
            try:
                await self._receive()
            finally:
                gc.unfreeze()
                await self._drain()
                await dp.emit_shutdown(bot=bot, dispatcher=dp, bots=[bot], **dp.workflow_data)
        finally:
            await bot.session.close()
            if self.engine is not None:
                await self.engine.dispose()

    def _webhook_receiver(self, locks: ChatLocks) -> WebhookReceiver:
        assert self.bot is not None
        settings, hook = self.settings, self.settings.webhook
        redis_url, namespace = settings.redis.url, str(self.bot.id)
        ttl, wait = hook.dedup_hours * 3600, settings.redis.lock_seconds
        handled = (
            RedisHandledUpdates(redis_url, ttl, namespace) if redis_url else HandledUpdates(ttl)
        )
        order = RedisChatOrder(redis_url, wait, namespace) if redis_url else ChatOrder(wait)
        return WebhookReceiver(
            self.pump,
            self.bot,
            path=hook.path,
            secret=hook.secret.get_secret_value() if hook.secret else None,
            handled=handled,
            order=order,
            locks=locks,
            drain_seconds=settings.telegram.drain_seconds,
        )

    async def _receive(self) -> None:
        """Polling: our getUpdates loop. Webhook: serve the endpoint, tell Telegram, wait."""
        assert self.bot is not None and self.dp is not None
        if self.webhook is None:
            info = await self.bot.get_webhook_info()
            if info.url:  # getUpdates is refused (409) while a webhook is set
                log.warning("a webhook was set (%s): deleting it to poll", info.url)
                await self.bot.delete_webhook(drop_pending_updates=False)
            await self.pump.run()
            return
        hook = self.settings.webhook
        try:
            await self.webhook.start(hook.host, hook.port)
        except OSError as exc:
            raise StartupFault(
                f"cannot listen for the webhook on {hook.host}:{hook.port} ({exc.strerror}): "
                "another worker on this port? give each one its own webhook.port"
            ) from exc
        url = hook.url or f"http://{hook.host}:{self.webhook.port}{hook.path}"
        try:
            await self.bot.set_webhook(
                url,
                secret_token=self.webhook.secret,
                max_connections=hook.max_connections,
                allowed_updates=hook.allowed_updates or self.dp.resolve_used_update_types(),
                drop_pending_updates=False,
            )
        except TelegramBadRequest as exc:
            raise StartupFault(
                f"the Bot API refused the webhook {url} ({exc.message}): check webhook.url "
                "(Telegram posts only to https, ports 443, 80, 88 or 8443)"
            ) from exc
        log.info("webhook set: %s (%d connections)", url, hook.max_connections)
        await self.pump.stopped()

    async def _who_am_i(self) -> User:
        assert self.bot is not None
        api = self.settings.telegram.api_base
        try:
            return await self.bot.get_me()
        except TelegramUnauthorizedError as exc:
            raise StartupFault(
                f"the Bot API at {api} refused the token (401 Unauthorized): check "
                "telegram.token (from @BotFather; revoked tokens stop working)"
            ) from exc
        except (TelegramNetworkError, TelegramServerError, TelegramNotFound) as exc:
            raise StartupFault(
                f"cannot reach the Bot API at {api} ({exc.message}): check the network "
                "and telegram.api_base"
            ) from exc

    async def _on_startup(self) -> None:
        await self.delivery.start()
        if self.web is not None:
            await self.web.start()
        if self.ops_server is not None:
            await self.ops_server.start()
        if self.run_clock:
            self.clock_jobs.start()
        self.started.set()

    async def _drain(self) -> None:
        """Let in-flight updates finish (bounded); confirm only the finished ones."""
        self.clock_jobs.stop()
        if self.web is not None:
            await self.web.stop()
        if self.ops_server is not None:
            await self.ops_server.stop()
        if self.ops is not None:
            await self.ops.close()
        if self.webhook is not None:
            # Stop taking requests; those in progress get drain_seconds, the rest go
            # unanswered and Telegram sends them again (to another worker). The webhook
            # stays set: the other workers keep receiving.
            await self.webhook.stop()
        else:
            self.unfinished = await self.pump.drain(self.settings.telegram.drain_seconds)
        await self.pump.locks.close()
        await self.delivery.stop()
        await self.delivery.limiter.close()  # the Redis connection, when there is one

    def start_in_background(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(handle_signals=False))
        return self._task

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self.pump.request_stop()
        if self._task is not None:
            await self._task
