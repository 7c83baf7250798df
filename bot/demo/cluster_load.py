"""The load benchmark's script against several webhook workers (bot/demo/cluster.py).

N registered residents each send a wish and confirm it, all at once, through nginx to the
workers; meanwhile a broadcast to all of them and event reminders (timers → outbox) are sent
by the workers' delivery engines. Optionally one worker is killed with SIGKILL once a third of
the residents are through. Counted afterwards:

- ``handled_once`` / ``handled_twice`` / ``never_handled``: per update pushed by the fake, how
  many times a worker handled it to the end (the workers' Redis counters);
- ``lost``: a resident whose step was never answered or whose wish is not in the database;
  ``duplicates``: a resident with more than one wish, "filed" notice or wish card;
- ``broadcast`` / ``reminders``: outbox rows by final state, and ``doubled``: a person who got
  the same broadcast or the same event's reminder twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Event, EventSignup, OutboxMessage, User, Wish
from bot.db.models.delivery import OPEN_STATES
from bot.db.models.timers import Timer
from bot.delivery import outbox
from bot.demo.cluster import Cluster, worker_config
from bot.demo.load import (
    BUILDINGS,
    CARD,
    FILED,
    SORRY,
    STEP_TIMEOUT,
    _confirm_text,
    _database,
    _percentile,
    _wish_text,
)
from bot.demo.stage import GRIDS
from bot.fakeapi.records import Event as FakeEvent
from bot.fakeapi.records import FakeUser
from bot.fakeapi.server import FakeBotAPI
from bot.scheduler.timers import schedule
from bot.services.context import AppContext
from bot.services.notices import Notice, RecordingNotifier
from bot.services.people import actors, grids, registration

log = logging.getLogger(__name__)
ADMIN_ID = 9001
FIRST_RESIDENT = 2_000_000
BROADCAST_TEXT = "【集群测试】本周六上午社区义诊，欢迎参加。"
EVENT_TITLE = "集群测试活动{n:02d}"
EVENT_TITLES = re.compile(r"集群测试活动\d\d")
PEOPLE_PER_EVENT = 6
ALREADY_DONE = "已经完成了"  # safety.toml once.already_done


@dataclass
class _Watch:
    """Every answer of the bot, per chat, from the fake's event stream."""

    waiting: dict[int, tuple[str, asyncio.Future[FakeEvent]]] = field(default_factory=dict)
    cards: Counter[int] = field(default_factory=Counter)
    filed: Counter[int] = field(default_factory=Counter)
    sorry: Counter[int] = field(default_factory=Counter)
    broadcast: Counter[int] = field(default_factory=Counter)
    reminders: Counter[tuple[int, str]] = field(default_factory=Counter)
    through = 0  # residents with both steps answered
    replayed = 0  # presses answered by the replay of a redelivered update

    def on_event(self, event: FakeEvent) -> None:
        if event.chat is None:
            return
        if event.kind == "callback_answer":
            # A press redelivered after its worker died mid-way is answered from the
            # stored first answer (or "already done" when the first died before storing
            # it), as a toast (bot/tg/once.py): the press has its answer, nothing doubled.
            waiting = self.waiting.get(event.chat.id)
            replay = FILED in event.text or ALREADY_DONE in event.text
            if waiting is not None and waiting[0] == FILED and replay:
                self.replayed += 1
                self._answered(event, any_text=True)
            return
        if event.kind not in ("bot_send", "bot_edit"):
            return
        chat, text = event.chat.id, event.text
        if event.kind == "bot_send":
            self.cards[chat] += CARD in text
            self.filed[chat] += FILED in text
            self.broadcast[chat] += BROADCAST_TEXT in text
            for title in set(EVENT_TITLES.findall(text)):
                self.reminders[(chat, title)] += 1
        self.sorry[chat] += any(s in text for s in SORRY)
        self._answered(event)

    def _answered(self, event: FakeEvent, *, any_text: bool = False) -> None:
        assert event.chat is not None
        chat, text = event.chat.id, event.text
        waiting = self.waiting.get(chat)
        if waiting is None or waiting[1].done():
            return
        if any_text or waiting[0] in text:
            del self.waiting[chat]
            waiting[1].set_result(event)

    async def step(self, chat: int, contains: str, action: Any) -> tuple[FakeEvent | None, float]:
        future: asyncio.Future[FakeEvent] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        self.waiting[chat] = (contains, future)
        await action
        try:
            return await asyncio.wait_for(future, STEP_TIMEOUT), time.perf_counter() - started
        except TimeoutError:
            self.waiting.pop(chat, None)
            return None, time.perf_counter() - started


async def _resident(fake: FakeBotAPI, watch: _Watch, person: FakeUser, n: int) -> list[float]:
    card, first = await watch.step(person.id, CARD, fake.send_text(person, _wish_text(n)))
    if card is None:
        return []
    filed, second = await watch.step(
        person.id, FILED, fake.press(person, person.id, card.message_id, text=_confirm_text(card))
    )
    if filed is None:
        return [first]
    watch.through += 1
    return [first, second]


async def _seed(app: AppContext, people: list[FakeUser], events: int) -> None:
    """Residents (registered), events they signed up for with a reminder due now, and a
    broadcast to all of them: the workers' clocks and delivery engines have work at once."""
    async with app.sessions() as session:
        await grids.sync_grids(session, app.settings.community.grids)
        grid = await grids.grid_by_code(session, "G02")
        assert grid is not None
        grid_id = grid.id
        admin, _ = await actors.touch_user(session, ADMIN_ID, "值班主任", "zh-CN")
        admin_id = admin.id
        await session.commit()
    user_ids: list[int] = []
    for number, person in enumerate(people):
        async with app.sessions() as session:
            user, _ = await actors.touch_user(session, person.id, person.first_name, "zh-CN")
            user_ids.append(user.id)
            form = registration.ResidentForm(
                grid_id=grid_id, building=BUILDINGS[number % 6], phone=None
            )
            await registration.register_resident(app, session, user.id, form)
    now = app.now()
    async with app.sessions() as session:
        for n in range(events):
            event = Event(
                title=EVENT_TITLE.format(n=n),
                place="社区活动室",
                starts_at=now + timedelta(days=1),
                ends_at=now + timedelta(days=1, hours=2),
                slots=PEOPLE_PER_EVENT,
                taken=PEOPLE_PER_EVENT,
                signup_deadline=now + timedelta(hours=12),
                created_by=admin_id,
            )
            session.add(event)
            await session.flush()
            members = user_ids[n * PEOPLE_PER_EVENT : (n + 1) * PEOPLE_PER_EVENT]
            session.add_all(
                EventSignup(event_id=event.id, user_id=u, status="signed") for u in members
            )
            schedule(
                session,
                kind="event.remind",
                key=f"ev:{event.id}:remind:day",
                due_at=now - timedelta(seconds=1),
                payload={"event_id": event.id, "which": "day"},
            )
        await outbox.enqueue(
            session,
            notice=Notice("broadcast.message", {"text": BROADCAST_TEXT}),
            user_ids=user_ids,
            batch_key="cluster:broadcast",
        )
        await session.commit()


async def _handled_counts(redis_url: str, namespace: str, update_ids: list[int]) -> Counter[int]:
    from redis.asyncio import Redis

    redis: Any = Redis.from_url(redis_url)
    try:
        values = await redis.mget([f"{namespace}:update:{uid}" for uid in update_ids])
    finally:
        await redis.aclose()
    return Counter(int(v) if v is not None else 0 for v in values)


async def _outbox_settled(app: AppContext, timeout: float) -> None:
    """Wait until every outbox row and every timer reached a final state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with app.sessions() as session:
            open_rows = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(OPEN_STATES))
            )
            timers = await session.scalar(
                select(func.count()).select_from(Timer).where(Timer.status != "done")
            )
        if not open_rows and not timers:
            return
        await asyncio.sleep(0.5)
    log.warning("outbox or timers not settled after %ss", timeout)


async def _outbox_states(app: AppContext) -> dict[str, dict[str, int]]:
    async with app.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
                    OutboxMessage.kind, OutboxMessage.status
                )
            )
        ).all()
    states: dict[str, dict[str, int]] = {}
    for kind, status, count in rows:
        states.setdefault(kind, {})[status] = count
    return states


async def run_cluster_load(
    users: int = 60,
    workers: int = 2,
    *,
    kill: bool = False,
    events: int | None = None,
    redis_url: str = "redis://127.0.0.1:6379/0",
    delivery_rate: float = 10.0,
) -> dict[str, Any]:
    """Start the cluster on a fresh PostgreSQL database, run the residents, count."""
    logging.getLogger("aiogram").setLevel(logging.ERROR)
    events = events if events is not None else max(1, min(10, users // PEOPLE_PER_EVENT))
    bot_id = random.randint(10**8, 10**9 - 1)  # the Redis namespace: fresh for every run
    token = f"{bot_id}:CLUSTER-TOKEN"
    fake = FakeBotAPI(token=token)
    await fake.start()
    try:
        async with _database("postgresql") as db_url:
            await upgrade_async(db_url)
            data: dict[str, Any] = {
                "database": {"url": db_url},
                "community": {"name": "幸福社区", "grids": GRIDS},
                "staff": {"admins": [ADMIN_ID]},
            }
            settings = Settings(**data)
            engine = make_engine(db_url)
            app = AppContext(
                settings=settings,
                sessions=make_session_factory(engine),
                notifier=RecordingNotifier(),
            )
            try:
                return await _run(
                    app, fake, db_url, users, workers, kill, events, redis_url, delivery_rate
                )
            finally:
                await engine.dispose()
    finally:
        await fake.stop()


async def _run(
    app: AppContext,
    fake: FakeBotAPI,
    db_url: str,
    users: int,
    workers: int,
    kill: bool,
    events: int,
    redis_url: str,
    delivery_rate: float,
) -> dict[str, Any]:
    fake.user(ADMIN_ID, "值班主任", language_code="zh-hans")
    people = [
        fake.user(FIRST_RESIDENT + i, f"居民{i}", language_code="zh-hans") for i in range(users)
    ]
    await _seed(app, people, events)
    config = Path(fake_config_dir()) / f"wishbot-cluster-{fake.bot_user.id}.toml"
    cluster = Cluster(workers, config)
    worker_config(
        config,
        token=fake.token,
        api_base=fake.base_url,
        db_url=db_url,
        redis_url=redis_url,
        webhook_url=cluster.webhook_url,
        admin=ADMIN_ID,
        grids=GRIDS,
        delivery_rate=delivery_rate,
    )
    watch = _Watch()
    fake.on_event = watch.on_event
    killed_at: float | None = None
    try:
        booting = time.perf_counter()
        cluster.start_nginx()
        cluster.start_workers()
        await cluster.wait_ready()
        await fake.wait_for(lambda: fake.webhook.url == cluster.webhook_url, timeout=30)
        started = time.perf_counter()
        startup = started - booting
        jobs = [asyncio.create_task(_resident(fake, watch, p, i)) for i, p in enumerate(people)]
        if kill:
            await fake.wait_for(lambda: watch.through >= users // 3, timeout=STEP_TIMEOUT)
            cluster.kill(0)
            killed_at = time.perf_counter() - started
        timings = await asyncio.gather(*jobs)
        elapsed = time.perf_counter() - started
        await _outbox_settled(app, timeout=60)
        await fake.settle(timeout=30)
        settled = time.perf_counter() - started
        exit_codes = cluster.exit_codes()
        logs = {n: cluster.log_tail(n) for n in range(workers)}
    finally:
        await cluster.stop()
        config.unlink(missing_ok=True)
    update_ids = [u.update_id for u in fake._state.history]
    stuck = [p.id for p, t in zip(people, timings, strict=True) if len(t) < 2]
    transcript = [
        f"{e.kind}: {e.text[:60]!r}"
        for e in fake._state.events
        if stuck and e.chat is not None and e.chat.id == stuck[0]
    ]
    handled = await _handled_counts(redis_url, str(fake.bot_user.id), update_ids)
    async with app.sessions() as session:
        per_user = dict(
            (
                await session.execute(
                    select(User.telegram_id, func.count(Wish.id))
                    .join(Wish, Wish.resident_id == User.id)
                    .group_by(User.telegram_id)
                )
            ).all()
        )
    ids = [p.id for p in people]
    unanswered = sum(1 for t in timings if len(t) < 2)
    not_filed = sum(1 for uid in ids if per_user.get(uid, 0) == 0)
    duplicates = sum(
        1 for uid in ids if per_user.get(uid, 0) > 1 or watch.filed[uid] > 1 or watch.cards[uid] > 1
    )
    latencies = [1000 * s for t in timings for s in t]
    states = await _outbox_states(app)
    return {
        "users": users,
        "workers": workers,
        "killed_worker_at_s": round(killed_at, 2) if killed_at is not None else None,
        "updates": len(update_ids),
        "handled_once": handled[1],
        "handled_twice": sum(c for n, c in handled.items() if n > 1),
        "never_handled": handled[0],
        "webhook_retries": sum(fake.webhook.stats.failures.values()),
        "webhook_failures": dict(fake.webhook.stats.failures),
        "webhook_dropped": len(fake.webhook.stats.dropped),
        "errors": sum(watch.sorry[uid] for uid in ids),
        "lost": max(unanswered, not_filed),
        "duplicates": duplicates,
        "answered_by_replay": watch.replayed,
        "resent_cards": sum(1 for uid in ids if watch.cards[uid] > 1),
        "startup_seconds": round(startup, 2),
        "seconds": round(elapsed, 2),
        "settled_seconds": round(settled, 2),
        "updates_per_second": round(2 * users / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": round(_percentile(latencies, 0.95), 1),
        "broadcast": states.get("broadcast.message", {}),
        "broadcast_doubled": sum(1 for n in watch.broadcast.values() if n > 1),
        "broadcast_received": sum(1 for n in watch.broadcast.values() if n >= 1),
        "reminders": states.get("events.reminder", {}),
        "reminders_doubled": sum(1 for n in watch.reminders.values() if n > 1),
        "reminders_received": len(watch.reminders),
        "events": events,
        "exit_codes": exit_codes,
        "unanswered": stuck[:10],
        "first_unanswered_transcript": transcript,
        "worker_logs": logs,
    }


def fake_config_dir() -> str:
    import tempfile

    return tempfile.gettempdir()
