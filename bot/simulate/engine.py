"""The event loop: simulated people act on the notices the real services produce.

One SQLite database per run (a temp file unless ``database`` is given), seeded in bulk; a
simulated clock (the app's injectable clock) jumps from event to event; the services run
unchanged with a notifier that keeps their notices in memory; due timers (offer round
time-outs, nudges, confirmation reminders) fire through the real ``fire_due`` exactly when
the earliest one is due.

The community is seeded by `seeding`; the notifier is in `notifier`.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from bot.config import MatchingConfig, Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Offer, Timer, Wish
from bot.db.tx import begin_write
from bot.scheduler.timers import cancel_timers, fire_due
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import dispatch, wish_states, wishes
from bot.services.reports.outcome_math import Outcomes
from bot.services.reports.outcomes import outcome_figures
from bot.services.tasks import claims, lifecycle, offers
from bot.simulate import policies
from bot.simulate.model import CommunityModel, load_wishes
from bot.simulate.notifier import SimNotifier
from bot.simulate.seeding import SimVolunteer, seed_community

START = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)  # Monday 2 November, 00:00 in Shanghai
TZ_HOURS = 8  # Asia/Shanghai, for the model's hours of day


@dataclass(frozen=True)
class SimConfig:
    days: float = 30
    residents: int = 2000
    volunteers: int = 300
    grids: int = 12
    policy: str = "matching"
    seed: int = 1
    offer_k: int = 3
    round_minutes: int = 240
    database: str | None = None
    model: CommunityModel = field(default_factory=CommunityModel)
    # Tests give their own wishes: (hour after start, resident index, text).
    script: tuple[tuple[float, int, str], ...] | None = None


@dataclass
class SimResult:
    policy: str
    seed: int
    figures: Outcomes
    volunteer_notices_per_claim: float | None
    offers_sent: int
    group_posts: int
    claims: int
    cpu_s: float
    claim_hours: list[float]
    tasks_per_volunteer: list[int]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"policy": self.policy, "seed": self.seed}
        out.update({k: _round(v) for k, v in asdict(self.figures).items()})
        out["volunteer_notices_per_claim"] = _round(self.volunteer_notices_per_claim)
        out["offers_sent"] = self.offers_sent
        out["group_posts"] = self.group_posts
        out["cpu_s"] = round(self.cpu_s, 2)
        return out


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


@dataclass
class _WishState:
    id: int
    resident: int
    grid: int
    category: str
    approved_h: float | None = None
    volunteer: int | None = None
    done: bool = False
    expired: bool = False


class Simulation:
    def __init__(self, config: SimConfig) -> None:
        self.cfg = config
        self.m = config.model
        self.rnd = random.Random(config.seed)
        self.now_h = 0.0
        self.queue: list[tuple[float, int, Callable[..., Awaitable[None]], tuple[Any, ...]]] = []
        self.seq = 0
        self.vols: dict[int, SimVolunteer] = {}
        self.grid_vols: dict[int, list[int]] = {}
        self.grid_staff: dict[int, int] = {}
        self.neighbours: dict[int, set[int]] = {}
        self.residents: list[tuple[int, int]] = []  # (user id, grid)
        self.wishes: dict[int, _WishState] = {}
        self.seen: set[tuple[int, int]] = set()  # (volunteer, wish) already looked at
        self.next_timer_h: float | None = None
        self.claims = 0
        self.offers_sent = 0
        self.group_posts = 0
        self.group_notices = 0

    # --- clock and queue -------------------------------------------------------------------
    def clock(self) -> datetime:
        return START + timedelta(hours=self.now_h)

    def at(self, hours: float, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (hours, self.seq, fn, args))

    def local_hour(self, hours: float) -> float:
        return (hours + (START.hour + TZ_HOURS)) % 24

    def _shift_into(self, hours: float, start: int, end: int) -> float:
        """The first moment at or after ``hours`` that falls in local [start, end)."""
        h = self.local_hour(hours)
        if start <= h < end:
            return hours
        wait = (start - h) % 24
        return hours + wait + self.rnd.uniform(0, 0.5)

    def _lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rnd.gauss(0, sigma))

    def _see_delay(self, vol: SimVolunteer, push: bool) -> float:
        mean = vol.look_h * (self.m.offer_push_factor if push else 1.0)
        t = self.now_h + self.rnd.expovariate(1 / mean)
        return self._shift_into(t, self.m.awake_from, self.m.awake_to)

    def _office(self, median: float) -> float:
        start = self._shift_into(self.now_h, self.m.office_from, self.m.office_to)
        return self._shift_into(
            start + self._lognormal(median, 0.7), self.m.office_from, self.m.office_to
        )

    # --- setup ------------------------------------------------------------------------------
    async def _seed(self, app: AppContext) -> None:
        cfg = self.cfg
        community = await seed_community(
            app,
            self.m,
            self.rnd,
            grid_count=cfg.grids,
            volunteer_count=cfg.volunteers,
            resident_count=cfg.residents,
            group_chats=cfg.policy == "groupchat",
            categories=[c for c, _ in self.texts],
            now=START,
        )
        self.vols, self.grid_vols = community.vols, community.grid_vols
        self.grid_staff, self.neighbours = community.grid_staff, community.neighbours
        self.residents = community.residents

    def _plan_arrivals(self) -> None:
        cfg, m, rnd = self.cfg, self.m, self.rnd
        if cfg.script is not None:
            for hours, resident, text in cfg.script:
                self.at(hours, self.arrive, self.residents[resident][0], text)
            return
        per_hour = cfg.residents * m.wishes_per_resident_month / (30 * 24)
        mean_w = sum(
            m.hour_weights[h] * m.weekday_weights[d] for h in range(24) for d in range(7)
        ) / (24 * 7)
        top = max(m.hour_weights) * max(m.weekday_weights) / mean_w
        t = 0.0
        while True:  # thinning of a Poisson process with the hourly/weekday profile
            t += rnd.expovariate(per_hour * top)
            if t >= cfg.days * 24:
                break
            local = self.local_hour(t)
            day = int((t + START.hour + TZ_HOURS) // 24) % 7
            w = m.hour_weights[int(local)] * m.weekday_weights[day] / mean_w
            if rnd.random() * top < w:
                resident, _ = self.residents[rnd.randrange(len(self.residents))]
                self.at(t, self.arrive, resident, rnd.choice(self.texts)[1])

    # --- the people -----------------------------------------------------------------------
    async def arrive(self, resident: int, text: str) -> None:
        draft = wishes.understand(self.app, text)
        async with self.app.sessions() as session:
            try:
                wish = await wishes.file_wish(self.app, session, resident, draft)
            except UserError:
                return
        state = _WishState(wish.id, resident, wish.grid_id, wish.category)
        self.wishes[wish.id] = state
        if wish.status == "submitted":
            self.at(self._office(self.m.review_median_h), self.review, wish.id)
        else:
            self._approved(state)

    def _approved(self, state: _WishState) -> None:
        state.approved_h = self.now_h
        self.at(self.now_h + self.m.staff_close_days * 24, self.close_unclaimed, state.id)

    async def review(self, wish_id: int) -> None:
        state = self.wishes[wish_id]
        async with self.app.sessions() as session:
            await dispatch.approve(
                self.app,
                session,
                self.grid_staff[state.grid],
                wish_id,
                difficulty="normal",
                deadline=None,
            )
        self._approved(state)

    def _accept_p(self, vol: SimVolunteer, state: _WishState) -> float:
        m = self.m
        p = m.accept_base
        if state.category not in vol.skills:
            p *= m.accept_skill_miss
        if vol.grid != state.grid:
            p *= (
                m.accept_neighbour_grid
                if vol.grid in self.neighbours[state.grid]
                else (m.accept_other_grid)
            )
        p *= m.accept_per_active_task**vol.active
        if self.local_hour(self.now_h) >= 21:
            p *= m.accept_evening
        return p

    async def see_offer(self, vid: int, wish_id: int) -> None:
        state, vol = self.wishes[wish_id], self.vols[vid]
        if state.volunteer is not None or state.expired or state.done:
            return  # the card already says taken
        if self.rnd.random() < self._accept_p(vol, state):
            await self._claim(vol, state)
        elif self.rnd.random() < self.m.decline_share:
            reason = "skill" if state.category not in vol.skills else "busy"
            async with self.app.sessions() as session:
                with contextlib.suppress(UserError):
                    await offers.decline(self.app, session, wish_id, vid, reason)

    async def see_group(self, vid: int, wish_id: int) -> None:
        state, vol = self.wishes[wish_id], self.vols[vid]
        if state.volunteer is not None or state.expired or state.done:
            return
        if vol.active >= self.m.max_active_tasks:
            return  # not free
        if self.rnd.random() < self._accept_p(vol, state):
            await self._claim(vol, state)

    async def _claim(self, vol: SimVolunteer, state: _WishState) -> None:
        async with self.app.sessions() as session:
            try:
                await claims.claim(self.app, session, state.id, vol.uid)
            except UserError:
                return
        self.claims += 1
        state.volunteer = vol.uid
        vol.active += 1
        start = self.now_h + self._lognormal(self.m.start_median_h, self.m.start_sigma)
        start = self._shift_into(start, self.m.office_from, self.m.awake_to - 1)
        self.at(start + self.m.duration_h, self.finish, state.id, vol.uid)

    async def finish(self, wish_id: int, vid: int) -> None:
        state, vol = self.wishes[wish_id], self.vols[vid]
        if state.volunteer != vid:
            return
        vol.active -= 1
        fit = state.category in vol.skills
        async with self.app.sessions() as session:
            if self.rnd.random() < (self.m.complete_fit if fit else self.m.complete_miss):
                await lifecycle.mark_done(self.app, session, wish_id, vid, None, None)
                state.done = True
            else:
                state.volunteer = None
                self.seen = {s for s in self.seen if s[1] != wish_id or s[0] == vid}
                await lifecycle.release(self.app, session, wish_id, vid, "cannot")
                return
        assert state.approved_h is not None
        waited = (self.now_h - state.approved_h) / 24
        stars = self.m.rating_base + (self.m.rating_fit if fit else 0.0)
        stars -= self.m.rating_per_day_waited * waited
        stars += self.rnd.gauss(0, self.m.rating_noise)
        rating = max(1, min(5, round(stars)))
        if self.rnd.random() < self.m.confirm_share:
            delay = self._lognormal(self.m.confirm_median_h, 0.8)
            self.at(self._shift_into(self.now_h + delay, 7, 23), self.confirm, wish_id, rating)
        else:  # staff decide after the confirmation time-out
            days = self.app.settings.tasks.confirm_timeout_days
            self.at(self.now_h + days * 24 + 1, self.verify, wish_id)

    async def confirm(self, wish_id: int, rating: int) -> None:
        state = self.wishes[wish_id]
        async with self.app.sessions() as session:
            wish = await lifecycle.confirm(self.app, session, wish_id, state.resident, rating)
        if wish.status == "confirmed":
            self.at(self._office(self.m.verify_median_h), self.verify, wish_id)

    async def verify(self, wish_id: int) -> None:
        state = self.wishes[wish_id]
        async with self.app.sessions() as session:
            with contextlib.suppress(UserError):
                await lifecycle.verify(self.app, session, wish_id, self.grid_staff[state.grid])

    async def close_unclaimed(self, wish_id: int) -> None:
        """Staff close a wish nobody took within the model's days (same rule for all)."""
        state = self.wishes[wish_id]
        if state.volunteer is not None or state.done:
            return
        async with self.app.sessions() as session:
            await begin_write(session)
            wish = await session.get(Wish, wish_id)
            if wish is None or wish.status not in ("approved", "offered"):
                return
            wish_states.move(
                session, wish, "expired", actor_id=self.grid_staff[state.grid], at=self.clock()
            )
            await session.execute(
                update(Offer)
                .where(Offer.wish_id == wish_id, Offer.status == "sent")
                .values(status="expired")
            )
            await cancel_timers(session, key_prefix=f"wish:{wish_id}:")
            await session.commit()
        state.expired = True

    async def timers(self) -> None:
        self.next_timer_h = None
        await fire_due(self.app, worker="simulator", limit=10_000)

    # --- after every step: turn the notices into future looks ---------------------------------
    async def _drain(self) -> None:
        n = self.notifier
        if n.offer_cards:
            cards, n.offer_cards = n.offer_cards, []
            self.offers_sent += len(cards)
            async with self.app.sessions() as session:
                rows = await session.execute(
                    select(Offer.id, Offer.wish_id).where(Offer.id.in_([o for _, o in cards]))
                )
                wish_of = {int(o): int(w) for o, w in rows.all()}
            for vid, offer_id in cards:
                wish_id = wish_of[offer_id]
                self.seen.add((vid, wish_id))
                self.at(self._see_delay(self.vols[vid], push=True), self.see_offer, vid, wish_id)
        if n.group_posts:
            posts, n.group_posts = n.group_posts, []
            for chat, wish_id in posts:
                self.group_posts += 1
                grid = -1_000_000 - chat
                for vid in self.grid_vols.get(grid, []):
                    self.group_notices += 1
                    if (vid, wish_id) in self.seen:
                        continue
                    self.seen.add((vid, wish_id))
                    self.at(
                        self._see_delay(self.vols[vid], push=False), self.see_group, vid, wish_id
                    )
        async with self.app.sessions() as session:
            due = await session.scalar(
                select(func.min(Timer.due_at)).where(Timer.status == "pending")
            )
        if due is not None:
            if due.tzinfo is None:
                due = due.replace(tzinfo=UTC)
            due_h = max(self.now_h, (due - START).total_seconds() / 3600)
            if self.next_timer_h is None or due_h < self.next_timer_h:
                self.next_timer_h = due_h
                self.at(due_h, self.timers)

    # --- the run ------------------------------------------------------------------------------
    async def run(self) -> SimResult:
        cpu = time.process_time()
        cfg = self.cfg
        self.texts = load_wishes()
        with tempfile.TemporaryDirectory(prefix="wishbot-sim-") as tmp:
            url = cfg.database or f"sqlite+aiosqlite:///{Path(tmp) / 'sim.db'}"
            await upgrade_async(url)
            engine = make_engine(url, inline=url.startswith("sqlite"))
            try:
                settings = Settings(
                    matching=MatchingConfig(offer_k=cfg.offer_k, round_minutes=cfg.round_minutes)
                )
                self.notifier = SimNotifier()
                self.app = AppContext(
                    settings=settings,
                    sessions=make_session_factory(engine),
                    notifier=self.notifier,
                    clock=self.clock,
                )
                await self._seed(self.app)
                self._plan_arrivals()
                end_h = cfg.days * 24 + self.m.tail_days * 24
                with policies.installed(cfg.policy, cfg.seed):
                    while self.queue and self.queue[0][0] <= end_h:
                        hours, _, fn, args = heapq.heappop(self.queue)
                        self.now_h = max(self.now_h, hours)
                        if fn == self.timers and self.next_timer_h != hours:
                            continue  # superseded by an earlier tick
                        await fn(*args)
                        await self._drain()
                async with self.app.sessions() as session:
                    figures = await outcome_figures(
                        session, START, START + timedelta(days=cfg.days)
                    )
                    tasks = await self._tasks_per_volunteer(session)
                    claim_hours = await self._claim_hours(session)
            finally:
                await engine.dispose()
        notices = self.offers_sent + self.group_notices
        return SimResult(
            policy=cfg.policy,
            seed=cfg.seed,
            figures=figures,
            volunteer_notices_per_claim=notices / figures.claimed if figures.claimed else None,
            offers_sent=self.offers_sent,
            group_posts=self.group_posts,
            claims=self.claims,
            cpu_s=time.process_time() - cpu,
            claim_hours=claim_hours,
            tasks_per_volunteer=tasks,
        )

    async def _tasks_per_volunteer(self, session: Any) -> list[int]:
        end = START + timedelta(days=self.cfg.days)
        rows = await session.execute(
            select(Wish.volunteer_id, func.count())
            .where(Wish.done_at.is_not(None), Wish.created_at < end)
            .group_by(Wish.volunteer_id)
        )
        done = {int(v): int(c) for v, c in rows.all() if v is not None}
        return sorted((done.get(v, 0) for v in self.vols), reverse=True)

    async def _claim_hours(self, session: Any) -> list[float]:
        from bot.services.reports.outcomes import load_records

        records = await load_records(session, START, START + timedelta(days=self.cfg.days))
        return [
            (r.claimed_at - r.approved_at).total_seconds() / 3600
            for r in records
            if r.claimed_at is not None and r.approved_at is not None
        ]


async def simulate(config: SimConfig) -> SimResult:
    return await Simulation(config).run()
