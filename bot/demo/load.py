"""`wishbot bench load`: a whole community at once, through the real bot and the fake Bot API.

N registered residents each send a wish and confirm it, all starting in the same instant,
while one more person sends 200 messages as fast as possible. Every resident's step is timed
from the moment the update is put on the server to the bot's answer in that chat. A second
run without the spammer gives the baseline, so the spammer's cost shows as a ratio.

Counted: ``errors`` (the bot said "something went wrong"), ``lost`` (a resident whose step was
never answered, or whose wish is not in the database), ``duplicates`` (a resident with more
than one wish filed or told "filed" twice). Speed is reported, never asserted.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.config import TelegramConfig
from bot.db.models import User, Wish
from bot.demo.stage import Stage
from bot.fakeapi.records import Event, FakeUser
from bot.services.people import actors, registration
from bot.services.people.grids import grid_by_code

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
ADMIN_ID = 9001
FIRST_RESIDENT = 1_000_000
SPAMMER_ID = 999_999
SORRY = ("出了点问题", "something went wrong")
CARD, FILED = "核对", "已登记为心愿"
STEP_TIMEOUT = 180.0
BUILDINGS = ("1栋", "2栋", "3栋", "4栋", "5栋", "6栋")
PLACES = ("楼道", "厨房", "卫生间", "阳台", "客厅", "门口")
THINGS = ("灯坏了", "水管漏水", "门锁坏了", "窗户关不上", "插座没电", "下水道堵了")


@dataclass
class _Waiter:
    contains: str
    started: float
    future: asyncio.Future[Event]


@dataclass
class _Watch:
    """Answers per chat, from the fake's event stream (cheap: no polling per person)."""

    waiting: dict[int, _Waiter] = field(default_factory=dict)
    sorry: Counter[int] = field(default_factory=Counter)
    filed: Counter[int] = field(default_factory=Counter)

    def on_event(self, event: Event) -> None:
        if event.kind not in ("bot_send", "bot_edit") or event.chat is None:
            return
        chat = event.chat.id
        if any(s in event.text for s in SORRY):
            self.sorry[chat] += 1
        if FILED in event.text and event.kind == "bot_send":
            self.filed[chat] += 1
        waiter = self.waiting.get(chat)
        if waiter is not None and waiter.contains in event.text and not waiter.future.done():
            del self.waiting[chat]
            waiter.future.set_result(event)

    async def step(self, chat: int, contains: str, action: Any) -> tuple[Event | None, float]:
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        self.waiting[chat] = _Waiter(contains, started, future)
        await action
        try:
            event = await asyncio.wait_for(future, STEP_TIMEOUT)
        except TimeoutError:
            self.waiting.pop(chat, None)
            return None, time.perf_counter() - started
        return event, time.perf_counter() - started


@asynccontextmanager
async def _database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="wishbot-load-") as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'load.db'}"
        return
    import asyncpg

    name = f"wishbot_load_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(**PG_ADMIN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield f"postgresql+asyncpg://{PG_ADMIN['user']}@{PG_ADMIN['host']}:{PG_ADMIN['port']}/{name}"
    finally:
        conn = await asyncpg.connect(**PG_ADMIN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def _seed(stage: Stage, users: list[FakeUser]) -> None:
    app = stage.app
    async with app.sessions() as session:
        grid = await grid_by_code(session, "G02")
        assert grid is not None
        grid_id = grid.id
    for number, person in enumerate(users):
        async with app.sessions() as session:
            user, _ = await actors.touch_user(session, person.id, person.first_name, "zh-CN")
            form = registration.ResidentForm(
                grid_id=grid_id, building=BUILDINGS[number % 6], phone=None
            )
            await registration.register_resident(app, session, user.id, form)


def _wish_text(number: int) -> str:
    return f"{number}号{PLACES[number % 6]}的{THINGS[(number // 6) % 6]}，麻烦有空来帮忙看看"


async def _resident(stage: Stage, watch: _Watch, person: FakeUser, number: int) -> list[float]:
    fake = stage.fake
    card, first = await watch.step(person.id, CARD, fake.send_text(person, _wish_text(number)))
    if card is None:
        return []
    filed, second = await watch.step(
        person.id,
        FILED,
        fake.press(person, person.id, card.message_id, text=_confirm_text(card)),
    )
    return [first] if filed is None else [first, second]


def _confirm_text(card: Event) -> str:
    for row in card.buttons:
        for button in row:
            if "没问题" in button.text:
                return button.text
    return "没问题"


async def _spam(stage: Stage, person: FakeUser, count: int) -> None:
    for n in range(count):
        await stage.fake.send_text(person, f"我再说一遍第{n}次，快点来人啊")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _one_run(users: int, database: str, spam: int) -> dict[str, Any]:
    async with (
        _database(database) as url,
        Stage(
            url,
            admins=(ADMIN_ID,),
            logging={"level": "ERROR"},
            telegram={"throttle_burst": TelegramConfig().throttle_burst},  # production's
        ) as stage,
    ):
        stage.person(ADMIN_ID, "值班主任")
        people = [
            stage.fake.user(FIRST_RESIDENT + i, f"居民{i}", language_code="zh-hans")
            for i in range(users)
        ]
        spammer = stage.fake.user(SPAMMER_ID, "刷屏的人", language_code="zh-hans")
        await _seed(stage, [*people, spammer] if spam else people)
        watch = _Watch()
        stage.fake.on_event = watch.on_event
        jobs = [_resident(stage, watch, p, i) for i, p in enumerate(people)]
        spam_job = [asyncio.create_task(_spam(stage, spammer, spam))] if spam else []
        timings = await asyncio.gather(*jobs)
        await asyncio.gather(*spam_job)
        await stage.fake.settle(timeout=STEP_TIMEOUT)
        async with stage.app.sessions() as session:
            per_user = dict(
                (
                    await session.execute(
                        select(User.telegram_id, func.count(Wish.id))
                        .join(Wish, Wish.resident_id == User.id)
                        .group_by(User.telegram_id)
                    )
                ).all()
            )
        resident_ids = [p.id for p in people]
        unanswered = sum(1 for t in timings if len(t) < 2)
        not_filed = sum(1 for uid in resident_ids if per_user.get(uid, 0) == 0)
        duplicates = sum(
            1 for uid in resident_ids if per_user.get(uid, 0) > 1 or watch.filed[uid] > 1
        )
        latencies = [1000 * s for t in timings for s in t]
        throttle = stage.runner.pump.throttle if stage.runner is not None else None
        return {
            "updates": 2 * users + spam,
            "errors": sum(watch.sorry[uid] for uid in [*resident_ids, SPAMMER_ID]),
            "lost": max(unanswered, not_filed),
            "duplicates": duplicates,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
            "p95_ms": round(_percentile(latencies, 0.95), 1),
            "spam_ignored": throttle.ignored if throttle is not None else 0,
        }


async def run_load_bench(
    users: int = 500, database: str = "sqlite", spam: int = 200
) -> dict[str, Any]:
    """With the spammer, then without; the figures of both and the spammer's cost."""
    logging.getLogger("aiogram").setLevel(logging.ERROR)
    # A small warm-up first (imports, the classifier's caches), so neither measured run pays
    # for what the other gets for free; its figures are not reported.
    await _one_run(min(users, 10), database, 0)
    busy = await _one_run(users, database, spam)
    quiet = await _one_run(users, database, 0)
    ratio = busy["p95_ms"] / quiet["p95_ms"] if quiet["p95_ms"] else 0.0
    return {
        "users": users,
        "database": database,
        "updates": busy["updates"] + quiet["updates"],
        "errors": busy["errors"] + quiet["errors"],
        "lost": busy["lost"] + quiet["lost"],
        "duplicates": busy["duplicates"] + quiet["duplicates"],
        "p50_ms": busy["p50_ms"],
        "p95_ms": busy["p95_ms"],
        "p95_ms_without_spammer": quiet["p95_ms"],
        "p50_ms_without_spammer": quiet["p50_ms"],
        "spammer_p95_ratio": round(ratio, 2),
        "spam_messages": spam,
        "spam_ignored": busy["spam_ignored"],
    }
