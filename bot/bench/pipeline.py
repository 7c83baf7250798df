"""`wishbot bench pipeline`: what one update costs, next to a bare aiogram echo bot.

Both bots long-poll the same in-process fake Bot API server. ``concurrency`` people at a time
each send one update and wait for the answer (a closed loop), ``updates`` in all per kind:

* ``echo`` — an aiogram Dispatcher whose only handler echoes the text;
* ``start`` — a registered resident's `/start` to wishbot;
* ``wish`` — a registered resident's wish, until its confirmation card.

For each: ``rate`` (updates/s, wall clock) and ``cpu_ms`` (this process's CPU time per update:
the fake server's share is in it for both bots alike), and for wishbot its ``ratio`` to the
echo bot's rate. Figures only: nothing asserts a speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Dispatcher
from aiogram.types import Message

from bot.bench.seed import seed_district
from bot.db.engine import make_engine
from bot.db.migrate import upgrade_async
from bot.demo.stage import TOKEN, Person, Stage
from bot.fakeapi.server import FakeBotAPI

WISH = "厨房水龙头坏了，一直滴水，能来帮忙修一下吗"


async def _drive(
    count: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> dict[str, float]:
    """Run ``one(i)`` for i < count, ``concurrency`` at a time; rate and CPU per update."""
    queue = list(range(count))
    queue.reverse()

    async def worker() -> None:
        while queue:
            await one(queue.pop())

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"rate": round(count / wall, 1), "cpu_ms": round(cpu * 1000 / count, 2)}


async def _echo(count: int, concurrency: int) -> dict[str, float]:
    async with FakeBotAPI(token=TOKEN) as fake:
        dp = Dispatcher()

        @dp.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "")

        bot = fake.make_bot()
        polling = asyncio.create_task(
            dp.start_polling(bot, handle_signals=False, polling_timeout=10)
        )
        try:
            await fake.wait_for(lambda: fake.bot_is_polling, timeout=10)
            users = [fake.user(7_000_000 + i, f"echo{i}") for i in range(count)]

            async def one(i: int) -> None:
                mark = fake.mark()
                await fake.send_text(users[i], f"hello {i}")
                await fake.expect(users[i].id, f"hello {i}", after=mark, timeout=30)

            return await _drive(count, concurrency, one)
        finally:
            await dp.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
            await bot.session.close()


async def _wishbot(count: int, concurrency: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="wishbot-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'pipeline.db'}"
        await upgrade_async(url)
        engine = make_engine(url)
        try:
            district = await seed_district(engine, 138, 0, residents=count)
        finally:
            await engine.dispose()
        async with Stage(url, community={"grids": [g.model_dump() for g in district.grids]}) as s:
            people: list[Person] = [
                s.person(tg, f"居民{i}") for i, tg in enumerate(district.resident_tg)
            ]

            async def start(i: int) -> None:
                await people[i].say("/start", expect="使用说明", timeout=30)

            async def wish(i: int) -> None:
                await people[i].say(WISH, expect="核对", timeout=30)

            return {
                "start": await _drive(count, concurrency, start),
                "wish": await _drive(count, concurrency, wish),
            }


async def run_pipeline_bench(updates: int = 300, *, concurrency: int = 8) -> dict[str, Any]:
    if updates < 1 or concurrency < 1:
        raise ValueError("need updates >= 1 and concurrency >= 1")
    echo = await _echo(updates, concurrency)
    ours = await _wishbot(updates, concurrency)
    result: dict[str, Any] = {"updates": updates, "concurrency": concurrency, "echo": echo}
    for kind, figures in ours.items():
        result[kind] = {**figures, "ratio": round(figures["rate"] / max(echo["rate"], 1e-9), 3)}
    return result
