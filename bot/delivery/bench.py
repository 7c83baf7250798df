"""`wishbot bench broadcast`: one broadcast through the real engine to the fake Bot API server.

The fake runs in its own process, as Telegram would: the bot's process is measured, not the
fake's CPU. It injects faults (429 with retry_after, 403, 400, 5xx, time-outs; ``faults``
split evenly among the five) and records what it accepted; we compare that with the terminal
states in the database:

* duplicates — messages a chat got beyond the first;
* lost — recipients the database calls delivered that the fake never got, or rows left
  without a terminal state;
* achieved_rate — deliveries ÷ (sending time − time the token stood still after 429s), where
  sending time is while a message was ready to go: stretches where every remaining row
  waits for its retry backoff, or only time-outs are awaited, don't count;
* wall_rate — deliveries ÷ wall-clock time from the engine's start to the last terminal
  state, pauses after 429s, retry backoffs and time-outs included: what a sender waits;
* max_rate_1s — the most deliveries the fake saw in any one-second window.

Telegram's ceiling is 30/s; here the ceiling follows the configured rate, so the engine and
limiter can be measured well past it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

import bot.db.models  # noqa: F401  (every table on Base.metadata)
from bot.config import Settings
from bot.db.base import Base
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import User
from bot.db.models.delivery import DELIVERED, OPEN_STATES, OutboxMessage
from bot.delivery import DeliveryOptions
from bot.delivery.engine import DeliveryEngine
from bot.delivery.outbox import enqueue
from bot.delivery.ratelimit import MemoryRateLimiter
from bot.fakeapi import DEFAULT_TOKEN, FakeBotAPI
from bot.fakeapi.faults import max_in_any_window
from bot.services.context import AppContext
from bot.services.notices import Notice, RecordingNotifier

CLIENT_TIMEOUT = 1.0  # seconds before a send counts as timed out (the fake holds it 3×)
FIRST_CHAT = 1_000_000
STATES = ("delivered", "blocked", "invalid", "failed", "unknown")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # where `bot` can be imported from
TEXT = "【社区通知】本周六上午9点在小区广场开展义诊活动，欢迎在职党员报名参加志愿服务。"


async def run_broadcast_bench(
    recipients: int, rate: float, faults: float, *, seed: int = 1
) -> dict[str, Any]:
    if recipients < 1 or rate <= 0 or not 0 <= faults <= 1:
        raise ValueError("need recipients >= 1, rate > 0 and 0 <= faults <= 1")
    options = DeliveryOptions(
        rate=rate,
        max_per_second=max(1, math.floor(rate)),  # the ceiling follows the rate (bench only)
        batch_size=max(50, int(rate // 2)),
        concurrency=max(16, int(rate // 8)),
        lease_seconds=30.0,
        poll_seconds=0.05,
    )
    with tempfile.TemporaryDirectory(prefix="wishbot-bench-") as tmp:
        db = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            async with db.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            app = AppContext(
                settings=Settings(), sessions=make_session_factory(db), notifier=RecordingNotifier()
            )
            engine_log = logging.getLogger("bot.delivery.engine")
            level = engine_log.level
            engine_log.setLevel(logging.ERROR)  # the injected faults are expected here
            try:
                async with _FakeProcess(recipients, faults, seed) as fake:
                    return await _run(app, fake, recipients, options, faults)
            finally:
                engine_log.setLevel(level)
        finally:
            await db.dispose()


async def _run(
    app: AppContext,
    fake: _FakeProcess,
    recipients: int,
    options: DeliveryOptions,
    faults: float,
) -> dict[str, Any]:
    chat_of = await _people(app, recipients)
    async with app.sessions() as session:
        await enqueue(
            session,
            notice=Notice("broadcast.message", {"text": TEXT}),
            user_ids=sorted(chat_of),
            batch_key="bench:1",
        )
        await session.commit()
    bot = Bot(
        DEFAULT_TOKEN,
        session=AiohttpSession(
            api=TelegramAPIServer.from_base(fake.base_url), timeout=CLIENT_TIMEOUT
        ),
    )
    limiter = MemoryRateLimiter.from_options(options)
    engine = DeliveryEngine(app, bot, limiter, options=options)
    try:
        started = time.monotonic()
        await engine.start()
        budget = 60 + recipients / options.rate * 3 + recipients * faults * 2
        await engine.drain(timeout=budget)
        wall = max(time.monotonic() - started, 1e-9)
        await engine.stop()
    finally:
        await bot.session.close()
    deliveries = await fake.deliveries()

    async with app.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.user_id, OutboxMessage.status))).all()
    received = Counter(chat_id for _, chat_id in deliveries)
    states = dict.fromkeys(STATES, 0)
    lost = 0
    for user_id, status in rows:
        if status in states:
            states[status] += 1
        got = received.get(chat_of.get(user_id or 0, 0), 0)
        if status in OPEN_STATES or (status == DELIVERED and got == 0):
            lost += 1
    sending = max(engine.ready_seconds - limiter.paused_seconds, 1e-9)
    return {
        "recipients": recipients,
        **states,
        "duplicates": sum(count - 1 for count in received.values() if count > 1),
        "lost": lost,
        "configured_rate": options.rate,
        "achieved_rate": round(len(deliveries) / sending, 1),
        "wall_rate": round(len(deliveries) / wall, 1),
        "max_rate_1s": max_in_any_window(sorted(ts for ts, _ in deliveries), 1.0),
    }


async def _people(app: AppContext, count: int) -> dict[int, int]:
    """``count`` users (the fake knows them as having started the bot): our id → chat id."""
    async with app.sessions() as session:
        users = [
            User(telegram_id=FIRST_CHAT + n, display_name=f"v{n}", language="zh-CN")
            for n in range(count)
        ]
        session.add_all(users)
        await session.commit()
        return {u.id: u.telegram_id or 0 for u in users}


class _FakeProcess:
    """FakeBotAPI in a child Python process, driven over its stdin/stdout (JSON lines).

    A plain subprocess, not multiprocessing: that would re-run the caller's main module.
    time.monotonic() is one clock for every process on the machine, so the fake's delivery
    times can be compared across processes.
    """

    def __init__(self, recipients: int, faults: float, seed: int) -> None:
        share = faults / 5
        self._config = {
            "recipients": recipients,
            "faults": {
                "rate_429": share,
                "retry_after": 1,
                "rate_403": share,
                "rate_400": share,
                "rate_5xx": share,
                "rate_timeout": share,
                "timeout_delay": CLIENT_TIMEOUT * 3,
                "seed": seed,
            },
        }
        self._child: asyncio.subprocess.Process | None = None
        self.base_url = ""

    async def __aenter__(self) -> _FakeProcess:
        root = str(PACKAGE_ROOT)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self._child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from bot.delivery.bench import serve_fake; serve_fake()",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            limit=1 << 26,  # the record of deliveries comes back as one long line
        )
        assert self._child.stdin is not None and self._child.stdout is not None
        self._child.stdin.write(json.dumps(self._config).encode() + b"\n")
        await self._child.stdin.drain()
        self.base_url = json.loads(await self._child.stdout.readline())["base_url"]
        return self

    async def deliveries(self) -> list[tuple[float, int]]:
        """Stop the fake and read what it accepted: (monotonic time, chat id) each."""
        assert self._child is not None and self._child.stdin and self._child.stdout
        self._child.stdin.write(b"stop\n")
        await self._child.stdin.drain()
        record = json.loads(await self._child.stdout.readline())
        return [(float(ts), int(chat)) for ts, chat in record["deliveries"]]

    async def __aexit__(self, *exc: object) -> None:
        if self._child is not None and self._child.returncode is None:
            if self._child.stdin is not None:
                self._child.stdin.close()
            try:
                await asyncio.wait_for(self._child.wait(), 10)
            except TimeoutError:
                self._child.kill()
                await self._child.wait()


def serve_fake() -> None:
    """The child's side: one config line in; base_url out; "stop" in; deliveries out."""
    asyncio.run(_serve_fake())


async def _serve_fake() -> None:
    config = json.loads(await asyncio.to_thread(sys.stdin.readline))
    async with FakeBotAPI() as fake:
        for n in range(int(config["recipients"])):
            fake.user(FIRST_CHAT + n, f"v{n}")
        fake.set_faults(**config["faults"])
        _say({"base_url": fake.base_url})
        await asyncio.to_thread(sys.stdin.readline)  # "stop" (or the parent went away)
        _say({"deliveries": [(d.ts, d.chat_id) for d in fake.deliveries]})


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
