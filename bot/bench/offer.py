"""`wishbot bench offer`: confirm → first offer card, and the 50-way claim, at a district's size.

A district (default 30,000 approved volunteers in ~650 grids, 100,000 wishes of history with
their offers and points) is seeded in bulk, then the real bot runs against the fake Bot API
server (in this process). Figures:

* ``confirm_to_offer_p50_ms`` / ``_p95_ms`` — a registered resident presses "✅ 没问题，提交"
  on their wish's card; until the first volunteer's offer card reaches the fake server;
* ``others_start_p95_ms`` — meanwhile other residents keep sending `/start`: how long they
  wait for the answer (a round that held the write lock would show here);
* ``claim_p95_ms`` — 50 volunteers press Claim on the grid group's post at once: until each
  has their answer; ``claim_winner_ms`` the winner's; ``presser_first`` whether every winner
  was answered before the resident or the group heard of the claim.

Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bot.bench.seed import District, seed_district
from bot.config import Settings
from bot.db.engine import make_engine
from bot.db.migrate import upgrade_async
from bot.db.models import Grid
from bot.demo.stage import Stage
from bot.fakeapi.records import Event

WISH = "厨房水龙头坏了，一直滴水，能来帮忙修一下吗"
CLAIMERS = 50
START_PAUSE = 0.2  # each of the three other residents sends /start 5 times a second
GROUP_CHAT = -100_777_000
PG_SERVER = os.environ.get("WISHBOT_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index], 1)


@contextlib.asynccontextmanager
async def bench_database(kind: str) -> AsyncIterator[str]:
    """A fresh, migrated database of that kind, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="wishbot-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade_async(url)
            yield url
        return
    if kind != "postgresql":
        raise ValueError("database is sqlite or postgresql")
    import asyncpg

    name = f"wishbot_bench_{os.getpid()}_{int(time.time())}"
    dsn = PG_SERVER.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(f"{dsn}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{PG_SERVER}/{name}"
    try:
        await upgrade_async(url)
        yield url
    finally:
        conn = await asyncpg.connect(f"{dsn}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


class Clockwork:
    """Stamps every event of the fake server with perf_counter() as it happens."""

    def __init__(self) -> None:
        self.stamped: list[tuple[float, Event]] = []
        self._seqs: list[int] = []

    def __call__(self, event: Event) -> None:
        self.stamped.append((time.perf_counter(), event))
        self._seqs.append(event.seq)

    def after(self, since: int) -> list[tuple[float, Event]]:
        """The events after marker ``since`` (seqs only grow: a bisection, not a scan)."""
        return self.stamped[bisect.bisect_right(self._seqs, since) :]

    def first(self, since: int, test: Any) -> float | None:
        for at, event in self.after(since):
            if test(event):
                return at
        return None


def _to(chats: set[int], kinds: tuple[str, ...] = ("bot_send",)) -> Any:
    """Matches what the bot sent (or edited) in one of these chats."""
    return lambda e: e.kind in kinds and e.chat is not None and e.chat.id in chats


async def _first_after(clock: Clockwork, mark: int, test: Any, timeout: float) -> float | None:
    """When the first matching event after ``mark`` happened (waiting for it up to timeout)."""
    deadline = time.perf_counter() + timeout
    while True:
        at = clock.first(mark, test)
        if at is not None or time.perf_counter() >= deadline:
            return at
        await asyncio.sleep(0.002)


async def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.002)
    return predicate()


async def run_offer_bench(
    volunteers: int,
    wishes: int,
    database: str = "sqlite",
    *,
    samples: int = 20,
    claim_rounds: int = 3,
    seed: int = 1,
) -> dict[str, Any]:
    if volunteers < CLAIMERS or wishes < 0 or samples < 1 or claim_rounds < 0:
        raise ValueError(f"need volunteers >= {CLAIMERS}, samples >= 1")
    async with bench_database(database) as url:
        engine = make_engine(url)
        started = time.perf_counter()
        try:
            district = await seed_district(
                engine, volunteers, wishes, residents=max(200, samples * 4), seed=seed
            )
        finally:
            await engine.dispose()
        seeded = time.perf_counter() - started
        result = await _measure(url, district, samples, claim_rounds)
    return {
        "database": database,
        "volunteers": volunteers,
        "wishes": wishes,
        "grids": len(district.grids),
        "seed_seconds": round(seeded, 1),
        **result,
    }


def _community_volunteers(district: District, grid_index: int, count: int) -> list[int]:
    """Telegram ids of ``count`` volunteers of the grid's community, its own grid first.

    Seeded volunteer i lives in grid i % len(grids).
    """
    grids = district.grids
    community = grids[grid_index].community
    order = [grid_index] + [
        i for i, g in enumerate(grids) if g.community == community and i != grid_index
    ]
    chosen: list[int] = []
    for g in order:
        chosen += [tg for k, tg in enumerate(district.volunteer_tg) if k % len(grids) == g]
        if len(chosen) >= count:
            break
    return chosen[:count]


async def _measure(url: str, district: District, samples: int, claim_rounds: int) -> dict[str, Any]:
    auto = {c: {"review": "auto"} for c in Settings().categories.ids}
    stage = Stage(
        url,
        admins=(9001,),
        community={"grids": [g.model_dump() for g in district.grids]},
        categories={"items": auto},
    )
    async with stage:
        fake = stage.fake
        clock = Clockwork()
        fake.on_event = clock
        for tg in district.volunteer_tg:
            fake.user(tg, "志愿者")
        people = [stage.person(tg, f"居民{i}") for i, tg in enumerate(district.resident_tg)]
        volunteer_chats = set(district.volunteer_tg)
        filers, starters = people[:samples], people[samples : samples + 3]
        claim_people = people[samples + 3 : samples + 3 + claim_rounds]

        stop = asyncio.Event()
        start_waits: list[float] = []

        async def keep_starting(person: Any) -> None:
            while not stop.is_set():
                mark = fake.mark()
                began = time.perf_counter()
                await fake.send_text(person.user, "/start")
                at = await _first_after(clock, mark, _to({person.id}), 30)
                if at is not None:
                    start_waits.append((at - began) * 1000)
                await asyncio.sleep(START_PAUSE)

        confirm: list[float] = []
        missing = 0
        background = [asyncio.create_task(keep_starting(p)) for p in starters]
        try:
            for person in filers:
                await person.say(WISH, expect="核对", timeout=30)
                mark = fake.mark()
                began = time.perf_counter()
                await fake.press(person.user, person.id, text="没问题")
                at = await _first_after(clock, mark, _to(volunteer_chats), 30)
                if at is not None:
                    confirm.append((at - began) * 1000)
                else:
                    missing += 1
                await _first_after(clock, mark, _to({person.id}, ("bot_send", "bot_edit")), 30)
        finally:
            stop.set()
            await asyncio.gather(*background)
        claims = await _claims(stage, district, clock, claim_people)
    return {
        "confirm_to_offer_p50_ms": percentile(confirm, 0.5),
        "confirm_to_offer_p95_ms": percentile(confirm, 0.95),
        "confirm_samples": len(confirm),
        "offers_missing": missing,
        "others_start_p95_ms": percentile(start_waits, 0.95),
        "others_start_count": len(start_waits),
        **claims,
    }


def _answers(clock: Clockwork, mark: int, ids: set[int]) -> dict[int, tuple[float, str]]:
    """Each presser's first callback answer after ``mark``: (when, text)."""
    got: dict[int, tuple[float, str]] = {}
    for at, e in clock.after(mark):
        if e.kind != "callback_answer" or e.user is None:
            continue
        if e.user.id in ids and e.user.id not in got:
            got[e.user.id] = (at, e.text)
    return got


def _all_answered(clock: Clockwork, mark: int, ids: set[int]) -> bool:
    return len(_answers(clock, mark, ids)) == len(ids)


async def _claims(
    stage: Stage, district: District, clock: Clockwork, people: list[Any]
) -> dict[str, Any]:
    fake = stage.fake
    waits: list[float] = []
    winner_waits: list[float] = []
    winners = 0
    presser_first = True
    grid_index = {g.code: i for i, g in enumerate(district.grids)}
    for round_no, person in enumerate(people):
        group_id = GROUP_CHAT - round_no
        group = fake.group(group_id, f"联络群{round_no}")
        index = grid_index[district.resident_grid[person.id]]
        async with stage.app.sessions() as session:
            await session.execute(
                update(Grid)
                .where(Grid.code == district.grids[index].code)
                .values(group_chat_id=group.id)
            )
            await session.commit()
        await person.say(WISH, expect="核对", timeout=30)
        await person.press("没问题", expect="已登记为心愿", timeout=30)
        await _first_after(clock, 0, _to({group.id}), 30)
        post = fake.messages(group.id)[-1]
        claim_data = next(
            b.data for row in post.buttons for b in row if b.data and b.data.startswith("t:claim")
        )
        tgs = _community_volunteers(district, index, CLAIMERS)
        claimers = [fake.user(tg, "志愿者") for tg in tgs]
        await fake.settle(timeout=10)
        mark = fake.mark()
        began = time.perf_counter()
        for user in claimers:
            await fake.press(user, group.id, post.message_id, data=claim_data)
        ids = {u.id for u in claimers}
        await _wait(functools.partial(_all_answered, clock, mark, ids), 60)
        got = _answers(clock, mark, ids)
        await _first_after(clock, mark, _to({person.id}), 30)
        waits += [(at - began) * 1000 for at, _ in got.values()]
        won = [at for at, text in got.values() if "接单成功" in text]
        winners += len(won)
        winner_waits += [(at - began) * 1000 for at in won]
        told = clock.first(mark, _to({person.id, group.id}, ("bot_send", "bot_edit")))
        if not won or told is None or told < won[0]:
            presser_first = False
        await fake.settle(timeout=10)
    return {
        "claim_p95_ms": percentile(waits, 0.95),
        "claim_winner_ms": round(statistics.median(winner_waits), 1) if winner_waits else 0.0,
        "claim_answers": len(waits),
        "claim_winners": winners,
        "claim_rounds": len(people),
        "presser_first": presser_first,
    }
