"""`wishbot web`: the dashboard alone, without polling Telegram (the bot may run elsewhere).

With a token it still edits the bot's review cards and tells residents, like the bot does.
It serves /healthz and /metrics too (database, Redis and Bot API health; outbox and timer
gauges; its own process's counters stay at zero, as it handles no updates)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from bot.web.app import WebServer


async def serve_alone(settings: Settings) -> None:
    from bot.app import check_schema, make_bot
    from bot.tg.notifier import TelegramNotifier

    await check_schema(settings.database.url)
    db = settings.database
    engine = make_engine(db.url, busy_timeout_ms=db.busy_timeout_ms, inline=db.sqlite_inline)
    app = AppContext(
        settings=settings, sessions=make_session_factory(engine), notifier=RecordingNotifier()
    )
    bot = make_bot(settings) if settings.telegram.token is not None else None
    username = ""
    if bot is not None:
        app.notifier = TelegramNotifier(bot, app)
        username = (await bot.get_me()).username or ""
    from bot.ops import Metrics, Ops

    ops = Ops(Metrics(), engine, bot=bot, redis_url=settings.redis.url)
    server = WebServer(app, username, ops=ops)
    print(f"wishbot web: {await server.start()}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
        await ops.close()
        if bot is not None:
            await bot.session.close()
        await engine.dispose()
