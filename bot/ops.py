"""Health and metrics for operators: ``/healthz`` and ``/metrics`` (Prometheus text).

One :class:`Metrics` per running bot (its own registry, so several bots in one test process do
not mix their figures). Counters move where things happen (the update pump, the Bot API
session for every send); gauges that describe the database (outbox, timers, pool) are read at
scrape time.

Where they are served: on the web dashboard's server when ``web.host`` is set, else on a small
server of their own at ``metrics.host:metrics.port`` when that is set, else nowhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models.delivery import OutboxMessage
from bot.db.models.timers import Timer

log = logging.getLogger(__name__)

# Calls that put a message in someone's chat (what "messages sent" counts).
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
    }
)
LATE_SECONDS = 60  # a pending timer due longer ago than this counts as late
CHECK_TIMEOUT = 5.0  # seconds each health check may take


def send_outcome(exc: BaseException | None) -> str:
    """ok, 429, 403, 400, 5xx, timeout or error: what one Bot API call came to."""
    if exc is None:
        return "ok"
    if isinstance(exc, TelegramRetryAfter):
        return "429"
    if isinstance(exc, TelegramForbiddenError):
        return "403"
    if isinstance(exc, TelegramBadRequest):
        return "400"
    if isinstance(exc, TelegramServerError):
        return "5xx"
    if isinstance(exc, TelegramNetworkError | asyncio.TimeoutError):
        return "timeout"
    return "error"


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.updates = Counter(
            "wishbot_updates",
            "Updates handled, by kind (message, callback_query, ...) and outcome "
            "(ok, error, throttled)",
            ["kind", "outcome"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "wishbot_handler_seconds",
            "Seconds one update took to handle (its turn in the person's queue excluded)",
            ["kind"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.sent = Counter(
            "wishbot_messages_sent",
            "Messages sent to Telegram, by outcome (ok, 429, 403, 400, 5xx, timeout, error)",
            ["outcome"],
            registry=registry,
        )
        self.outbox_depth = Gauge(
            "wishbot_outbox_depth",
            "Outbox rows waiting or being sent",
            registry=registry,
        )
        self.outbox_age = Gauge(
            "wishbot_outbox_oldest_age_seconds",
            "Age of the oldest outbox row waiting or being sent (0 when empty)",
            registry=registry,
        )
        self.timers_due = Gauge(
            "wishbot_timers_due", "Pending timers whose time has come", registry=registry
        )
        self.timers_late = Gauge(
            "wishbot_timers_late",
            f"Pending timers due more than {LATE_SECONDS} s ago (the clock is behind)",
            registry=registry,
        )
        self.pool_in_use = Gauge(
            "wishbot_db_pool_in_use", "Database connections checked out now", registry=registry
        )
        self.throttled_people = Gauge(
            "wishbot_throttled_people",
            "People whose messages are ignored now (past the per-person throttle)",
            registry=registry,
        )

    def update_done(self, kind: str, outcome: str, seconds: float | None = None) -> None:
        self.updates.labels(kind, outcome).inc()
        if seconds is not None:
            self.handler_seconds.labels(kind).observe(seconds)


class SendMetrics(BaseRequestMiddleware):
    """Counts every message the bot sends (delivery engine, notifier, handlers) by outcome."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ not in SEND_METHODS:
            return await make_request(bot, method)
        try:
            response = await make_request(bot, method)
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self.metrics.sent.labels(send_outcome(exc)).inc()
            raise
        self.metrics.sent.labels("ok").inc()
        return response


Check = Callable[[], Awaitable[None]]


class Ops:
    """What ``/healthz`` and ``/metrics`` look at in one running bot."""

    def __init__(
        self,
        metrics: Metrics,
        engine: AsyncEngine,
        *,
        bot: Bot | None = None,
        redis_url: str | None = None,
        throttled: Callable[[], int] | None = None,
        now: Callable[[], Any] | None = None,
    ) -> None:
        from bot.db.base import utcnow

        self.metrics = metrics
        self.engine = engine
        self.bot = bot
        self.redis_url = redis_url
        self.throttled = throttled
        self.now = now or utcnow
        self._redis: Any = None

    # --- health -----------------------------------------------------------------------------

    async def _database(self) -> None:
        for attempt in (1, 2):  # a connection broken by a database restart is dropped, retried
            try:
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                return
            except Exception:
                if attempt == 2:
                    raise

    async def _redis_ping(self) -> None:
        if self._redis is None:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(self.redis_url or "", socket_connect_timeout=CHECK_TIMEOUT)
        await self._redis.ping()

    async def _bot_api(self) -> None:
        assert self.bot is not None
        await self.bot.get_me(request_timeout=int(CHECK_TIMEOUT))

    async def health(self) -> dict[str, str]:
        """Each part's verdict: "ok" or one line saying what failed."""
        checks: dict[str, Check] = {"database": self._database}
        if self.redis_url:
            checks["redis"] = self._redis_ping
        if self.bot is not None:
            checks["bot_api"] = self._bot_api

        async def verdict(check: Check) -> str:
            try:
                await asyncio.wait_for(check(), CHECK_TIMEOUT)
            except TimeoutError:
                return f"no answer in {CHECK_TIMEOUT:g} s"
            except Exception as exc:
                return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            return "ok"

        results = await asyncio.gather(*(verdict(c) for c in checks.values()))
        return dict(zip(checks, results, strict=True))

    # --- gauges read at scrape time ---------------------------------------------------------

    async def refresh(self) -> None:
        m = self.metrics
        pool = self.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        if callable(checked_out):
            m.pool_in_use.set(checked_out())
        if self.throttled is not None:
            m.throttled_people.set(self.throttled())
        now = self.now()
        open_states = ("pending", "sending")
        async with self.engine.connect() as conn:
            depth, oldest = (
                await conn.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.status.in_(open_states)
                    )
                )
            ).one()
            due, late = (
                await conn.execute(
                    select(
                        func.count(),
                        func.count().filter(Timer.due_at <= now - timedelta(seconds=LATE_SECONDS)),
                    ).where(Timer.status == "pending", Timer.due_at <= now)
                )
            ).one()
        m.outbox_depth.set(depth)
        m.outbox_age.set(_age(now, oldest))
        m.timers_due.set(due)
        m.timers_late.set(late)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # --- HTTP -------------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        checks = await self.health()
        failed = [name for name, verdict in checks.items() if verdict != "ok"]
        body = {"status": "ok" if not failed else "failing", "failed": failed, "checks": checks}
        return web.json_response(body, status=503 if failed else 200)

    async def metrics_view(self, request: web.Request) -> web.Response:
        try:
            await self.refresh()
        except Exception:  # the counters are still worth having when the database is away
            log.warning("metrics: cannot read the database gauges", exc_info=True)
        return web.Response(
            body=generate_latest(self.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_get("/healthz", self.healthz)
        web_app.router.add_get("/metrics", self.metrics_view)


def _age(now: Any, oldest: Any) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None and now.tzinfo is not None:
        now = now.replace(tzinfo=None)
    return max(0.0, float((now - oldest).total_seconds()))


class OpsServer:
    """``/healthz`` and ``/metrics`` alone, when the web dashboard is off."""

    def __init__(self, ops: Ops, host: str, port: int) -> None:
        self.ops, self.host, self.port = ops, host, port
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        web_app = web.Application()
        self.ops.add_routes(web_app)
        self.runner = web.AppRunner(web_app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port).start()
        host, port = self.runner.addresses[0][:2]  # the real port when asked for port 0
        url = f"http://{host}:{port}"
        self.url = url
        log.info("health and metrics at %s/healthz and %s/metrics", url, url)
        return url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
