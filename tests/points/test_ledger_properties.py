"""Property tests of the ledger and the shop (hypothesis).

Random interleavings of awards (often duplicated), staff adjustments, redemptions (holds),
handovers (release + spend) and cancels (release), run one after another against an exact
model, and all at once (asyncio.gather, one session each) against invariants:

- a person's balance is the sum of their entries, equals what the redemptions and awards
  imply, and is never negative, not even in between (per-person running sums);
- nothing is awarded twice; the daily cap holds under concurrency;
- stock is never negative and equals the initial stock minus what was taken and not
  cancelled; the per-person limit holds.

Examples per test: POINTS_PROPERTY_EXAMPLES (default 30; the figures in the report come from
runs with more). Each example uses fresh people and rewards in one database per test.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db.models.points import LedgerEntry, Redemption, Reward
from bot.services.errors import UserError
from bot.services.points import adjustments, ledger, shop
from tests.conftest import ManualClock
from tests.points.conftest import World, make_world

EXAMPLES = int(os.environ.get("POINTS_PROPERTY_EXAMPLES", "30"))
PEOPLE = 3
CAP_PER_DAY = 60
STATS: dict[str, Any] = defaultdict(int)


@dataclass(frozen=True)
class Award:
    who: int
    source: int  # few sources: duplicates are frequent
    amount: int


@dataclass(frozen=True)
class Adjust:
    who: int
    amount: int


@dataclass(frozen=True)
class Redeem:
    who: int
    reward: int


@dataclass(frozen=True)
class HandOver:
    which: int  # index into the redemptions made so far (modulo)


@dataclass(frozen=True)
class Cancel:
    which: int
    by_owner: bool


Op = Award | Adjust | Redeem | HandOver | Cancel

who = st.integers(0, PEOPLE - 1)
ops = st.one_of(
    st.builds(Award, who, st.integers(0, 4), st.integers(0, 40)),
    st.builds(Adjust, who, st.integers(-30, 30).filter(bool)),
    st.builds(Redeem, who, st.integers(0, 1)),
    st.builds(HandOver, st.integers(0, 20)),
    st.builds(Cancel, st.integers(0, 20), st.booleans()),
)
rewards = st.tuples(
    st.tuples(st.integers(1, 40), st.integers(0, 4), st.integers(0, 2)),
    st.tuples(st.integers(1, 40), st.integers(0, 4), st.integers(0, 2)),
)


@dataclass
class Scene:
    """One example's people and rewards (fresh rows in the shared database)."""

    w: World
    tag: str
    people: list[int]
    staff: int
    rewards: list[int]
    initial_stock: dict[int, int]
    limits: dict[int, int]
    redemptions: list[int] = field(default_factory=list)


async def _scene(w: World, tag: str, reward_specs: tuple[tuple[int, int, int], ...]) -> Scene:
    people = [await w.volunteer(f"v{tag}-{i}") for i in range(PEOPLE)]
    staff = await w.staff(f"s{tag}")
    ids, stock, limits = [], {}, {}
    for price, count, limit in reward_specs:
        async with w.app.sessions() as session:
            view = await shop.add_reward(
                w.app, session, staff, shop.RewardForm(f"r{tag}", price, count, limit, "站")
            )
        ids.append(view.id)
        stock[view.id], limits[view.id] = count, limit
    return Scene(w, tag, people, staff, ids, stock, limits)


async def _apply(scene: Scene, op: Op) -> str:
    """Run one operation in its own session; returns "ok", a refusal key or "skip"."""
    w = scene.w
    async with w.app.sessions() as session:
        try:
            if isinstance(op, Award):
                entry = await ledger.award(
                    w.app,
                    session,
                    user_id=scene.people[op.who],
                    amount=op.amount,
                    reason="活动",
                    source_type="event",
                    source_id=f"{scene.tag}:{op.source}",
                )
                await session.commit()
                return "ok" if entry is not None else "duplicate"
            if isinstance(op, Adjust):
                await adjustments.adjust(
                    w.app,
                    session,
                    staff_user_id=scene.staff,
                    user_id=scene.people[op.who],
                    amount=op.amount,
                    reason="更正",
                    request_id=adjustments.new_request_id(),
                )
                return "ok"
            if isinstance(op, Redeem):
                got = await shop.redeem(
                    w.app, session, scene.people[op.who], scene.rewards[op.reward]
                )
                scene.redemptions.append(got.id)
                return "ok"
            if not scene.redemptions:
                return "skip"
            rid = scene.redemptions[op.which % len(scene.redemptions)]
            if isinstance(op, HandOver):
                await shop.hand_over(w.app, session, scene.staff, rid)
                return "ok"
            actor = scene.staff
            if op.by_owner:
                actor = (await shop.redemption_view(session, rid)).user_id
            await shop.cancel(w.app, session, actor, rid)
            return "ok"
        except UserError as err:
            return err.key


class Model:
    """What the ledger must say after a sequence run one at a time."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.balance = dict.fromkeys(scene.people, 0)
        self.awarded_today = dict.fromkeys(scene.people, 0)
        self.sources: set[tuple[int, int]] = set()
        self.stock = dict(scene.initial_stock)
        self.status: dict[int, str] = {}
        self.owner: dict[int, int] = {}
        self.price: dict[int, int] = {}
        self.reward_of: dict[int, int] = {}

    def expect(self, op: Op, prices: dict[int, int]) -> str | None:
        """The outcome the model predicts (None: let the redemption list decide)."""
        s = self.scene
        if isinstance(op, Award):
            user = s.people[op.who]
            if (user, op.source) in self.sources:
                return "duplicate"
            self.sources.add((user, op.source))
            given_ = min(op.amount, max(0, CAP_PER_DAY - self.awarded_today[user]))
            self.awarded_today[user] += given_
            self.balance[user] += given_
            return "ok"
        if isinstance(op, Adjust):
            user = s.people[op.who]
            if self.balance[user] + op.amount < 0:
                return "points.adjust_below_zero"
            self.balance[user] += op.amount
            return "ok"
        if isinstance(op, Redeem):
            user, reward = s.people[op.who], s.rewards[op.reward]
            price, limit = prices[reward], s.limits[reward]
            taken = sum(
                1
                for r, st_ in self.status.items()
                if self.owner[r] == user and st_ != "cancelled" and self.reward_of[r] == reward
            )
            if self.balance[user] < price:
                return "shop.not_enough_points"
            if limit and taken >= limit:
                return "shop.limit_reached"
            if self.stock[reward] <= 0:
                return "shop.sold_out"
            return None
        return None

    def redeemed(self, rid: int, user: int, reward: int, price: int) -> None:
        self.status[rid], self.owner[rid], self.price[rid] = "held", user, price
        self.reward_of[rid] = reward
        self.stock[reward] -= 1
        self.balance[user] -= price

    def settle(self, rid: int, op: HandOver | Cancel) -> str:
        status = self.status[rid]
        if status != "held":
            return (
                "shop.already_handed_over"
                if status == "handed_over"
                else ("shop.already_cancelled")
            )
        if isinstance(op, HandOver):
            self.status[rid] = "handed_over"
        else:
            self.status[rid] = "cancelled"
            self.stock[self.reward_of[rid]] += 1
            self.balance[self.owner[rid]] += self.price[rid]
        return "ok"


async def _check_invariants(scene: Scene) -> None:
    w = scene.w
    async with w.app.sessions() as session:
        entries = (
            await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.user_id.in_(scene.people))
                .order_by(LedgerEntry.id)
            )
        ).all()
        redemptions = (
            await session.scalars(select(Redemption).where(Redemption.reward_id.in_(scene.rewards)))
        ).all()
        stock = {
            r.id: r.stock
            for r in (await session.scalars(select(Reward).where(Reward.id.in_(scene.rewards))))
        }
        balances = {uid: await ledger.balance(session, uid) for uid in scene.people}
    by_user: dict[int, list[LedgerEntry]] = defaultdict(list)
    for e in entries:
        by_user[e.user_id].append(e)
    # No double award or charge (the unique key), and the daily cap under concurrency.
    keys = Counter((e.user_id, e.source_type, e.source_id, e.kind) for e in entries)
    assert max(keys.values(), default=1) == 1
    for uid in scene.people:
        running = 0
        for e in by_user[uid]:  # one person's writes are serialised: id order is commit order
            running += e.amount
            assert running >= 0, f"user {uid} went negative at entry {e.id}"
        assert balances[uid] == running == sum(e.amount for e in by_user[uid])
        earned = sum(e.amount for e in by_user[uid] if e.kind == "award")
        assert 0 <= earned <= CAP_PER_DAY
    # Every redemption's entries match its status; the balance is what they all imply.
    by_source = defaultdict(list)
    for e in entries:
        if e.source_type == "redemption":
            by_source[int(e.source_id)].append((e.kind, e.amount))
    expected_kinds = {
        "held": ["hold"],
        "handed_over": ["hold", "release", "spend"],
        "cancelled": ["hold", "release"],
    }
    implied = defaultdict(int)
    for e in entries:
        if e.kind in ("award", "adjust"):
            implied[e.user_id] += e.amount
    taken = Counter()
    per_person = Counter()
    for r in redemptions:
        assert [k for k, _ in by_source[r.id]] == expected_kinds[r.status], r.status
        assert all(abs(a) == r.price for _, a in by_source[r.id])
        if r.status != "cancelled":
            implied[r.user_id] -= r.price
            taken[r.reward_id] += 1
            per_person[(r.user_id, r.reward_id)] += 1
    for uid in scene.people:
        assert balances[uid] == implied[uid] >= 0
    for rid in scene.rewards:
        assert stock[rid] >= 0
        assert stock[rid] == scene.initial_stock[rid] - taken[rid]
    for (_, rid), n in per_person.items():
        assert scene.limits[rid] == 0 or n <= scene.limits[rid]


async def _run_sequential(w: World, tag: str, specs: Any, sequence: list[Op]) -> None:
    scene = await _scene(w, tag, specs)
    model = Model(scene)
    async with w.app.sessions() as session:
        prices = {r: (await shop.get_reward(session, r)).price for r in scene.rewards}
    for op in sequence:
        predicted = model.expect(op, prices)
        before = len(scene.redemptions)
        outcome = await _apply(scene, op)
        if isinstance(op, Redeem):
            if predicted is None:
                assert outcome == "ok"
                rid = scene.redemptions[before]
                model.redeemed(
                    rid,
                    scene.people[op.who],
                    scene.rewards[op.reward],
                    prices[scene.rewards[op.reward]],
                )
            else:
                assert outcome == predicted
        elif isinstance(op, HandOver | Cancel):
            if outcome != "skip":
                rid = scene.redemptions[op.which % len(scene.redemptions)]
                assert outcome == model.settle(rid, op)
        else:
            assert outcome == predicted
        STATS["operations"] += 1
    for uid in scene.people:
        assert await w.balance(uid) == model.balance[uid]
    await _check_invariants(scene)


async def _run_concurrent(
    w: World, tag: str, specs: Any, warmup: list[Op], burst: list[Op]
) -> None:
    scene = await _scene(w, tag, specs)
    for op in warmup:  # some redemptions to hand over or cancel during the burst
        await _apply(scene, op)
    await _fill_pool(w)
    outcomes = await asyncio.gather(*(_apply(scene, op) for op in burst))
    STATS["operations"] += len(warmup) + len(burst)
    STATS["max_concurrency"] = max(STATS["max_concurrency"], len(burst))
    STATS["refusals"] += sum(1 for o in outcomes if o not in ("ok", "skip", "duplicate"))
    await _check_invariants(scene)


async def _fill_pool(w: World, size: int = 5) -> None:
    """Open the pool's connections first, so the burst races in the database, not in connect."""
    sessions = [w.app.sessions() for _ in range(size)]
    try:
        await asyncio.gather(*(s.execute(select(1)) for s in sessions))
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


def _hypothesis_in_thread(db_url: str, body: Any, strategy: Any, examples: int) -> dict[str, Any]:
    """Hypothesis drives sync tests: each example runs its own event loop in a worker thread."""
    counter = iter(range(1_000_000))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def run(args: Any) -> None:
        async def example() -> None:
            w = await make_world(db_url, ManualClock(), cap_per_day=CAP_PER_DAY, create=False)
            try:
                await body(w, f"{next(counter)}", *args)
            finally:
                await w.engine.dispose()

        asyncio.run(example())
        STATS["examples"] += 1

    started = time.perf_counter()
    run()
    return {"seconds": round(time.perf_counter() - started, 1), **STATS}


async def _prepare(db_url: str) -> None:
    w = await make_world(db_url, ManualClock(), cap_per_day=CAP_PER_DAY)
    await w.engine.dispose()


async def test_sequential_interleavings_match_the_model(db_url: str) -> None:
    STATS.clear()
    await _prepare(db_url)
    strategy = st.tuples(rewards, st.lists(ops, min_size=5, max_size=40))
    figures = await asyncio.to_thread(
        _hypothesis_in_thread, db_url, _run_sequential, strategy, EXAMPLES
    )
    print(f"\nsequential {db_url.split(':')[0]}: {figures}")
    assert figures["examples"] >= EXAMPLES // 2


async def test_concurrent_interleavings_keep_the_invariants(db_url: str) -> None:
    STATS.clear()
    await _prepare(db_url)
    warmup = st.lists(
        st.one_of(
            st.builds(Award, who, st.integers(0, 4), st.integers(10, 40)),
            st.builds(Redeem, who, st.integers(0, 1)),
        ),
        max_size=10,
    )
    # Redemptions weigh three times as much in the burst: racing them is the hard part.
    # The burst leans on one person and on redemptions and awards: racing for the same
    # balance, stock and daily cap is the hard part.
    hot = st.sampled_from((0, 0, 0, 1, 2))
    redeem = st.builds(Redeem, hot, st.integers(0, 1))
    award = st.builds(Award, hot, st.integers(0, 9), st.integers(10, 40))
    burst = st.lists(st.one_of(redeem, redeem, award, ops), min_size=2, max_size=25)
    strategy = st.tuples(rewards, warmup, burst)
    figures = await asyncio.to_thread(
        _hypothesis_in_thread, db_url, _run_concurrent, strategy, EXAMPLES
    )
    print(f"\nconcurrent {db_url.split(':')[0]}: {figures}")
    assert figures["examples"] >= EXAMPLES // 2
