"""Offer rounds read only the round's grids, and write in one short conditional transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update

from bot.bench.seed import District, seed_district
from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Offer, Wish
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from bot.services.tasks import offers, volunteer_pool

FEATURES = (
    "active_tasks",
    "recent_offers",
    "points_year",
    "services_total",
    "completion_rate",
    "rating_avg",
    "declines_recent",
    "served_this_year",
    "skills",
    "availability",
    "max_tasks",
    "community",
)


@dataclass
class World:
    app: AppContext
    district: District
    notifier: RecordingNotifier


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    district = await seed_district(engine, 460, 3000, residents=50)  # 10 grids, 1 community+
    notifier = RecordingNotifier()
    settings = Settings(community={"grids": [g.model_dump() for g in district.grids]})
    app = AppContext(settings=settings, sessions=make_session_factory(engine), notifier=notifier)
    try:
        yield World(app, district, notifier)
    finally:
        await engine.dispose()


async def _new_wish(app: AppContext, grid_id: int) -> int:
    now = datetime.now(UTC)
    async with app.sessions() as session:
        wish = Wish(
            resident_id=461,
            grid_id=grid_id,
            text="帮我修一下水龙头",
            category="repair",
            status="approved",
            created_at=now,
            updated_at=now,
        )
        session.add(wish)
        await session.commit()
        return wish.id


async def test_a_grid_pool_has_the_same_features_as_the_district_pool(world: World) -> None:
    app = world.app
    async with app.sessions() as session:
        whole = await volunteer_pool.build_pool(session, app.settings, app.now())
        one = await volunteer_pool.build_pool(session, app.settings, app.now(), grids=[3])
    inside = np.flatnonzero(whole.pool.grid == 3)
    assert len(one.pool.ids) == len(inside) > 0
    order = np.argsort(whole.pool.ids[inside])
    mine = np.argsort(one.pool.ids)
    assert list(one.pool.ids[mine]) == list(whole.pool.ids[inside][order])
    for name in FEATURES:
        a = np.asarray(getattr(one.pool, name))[mine]
        b = np.asarray(getattr(whole.pool, name))[inside][order]
        assert list(a) == list(b), name
    assert int(whole.pool.services_total.sum()) > 0  # the seeded history is really read


async def test_first_round_reads_only_the_wish_grid(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[tuple[list[int] | None, int]] = []
    real = volunteer_pool.build_pool

    async def spy(*args: Any, **kwargs: Any) -> volunteer_pool.PoolContext:
        ctx = await real(*args, **kwargs)
        sizes.append((kwargs.get("grids"), len(ctx.pool.ids)))
        return ctx

    monkeypatch.setattr(offers, "build_pool", spy)
    wish_id = await _new_wish(world.app, 4)
    result = await offers.next_round(world.app, wish_id)
    assert result is not None and result.offered
    assert sizes == [([4], 46)]  # 460 volunteers over 10 grids: one grid's, not the district's
    async with world.app.sessions() as session:
        stored = (await session.scalars(select(Offer).where(Offer.wish_id == wish_id))).all()
    assert {o.volunteer_id for o in stored} == set(result.offered)
    assert all(o.message_id is not None for o in stored)  # card refs kept in one write


async def test_a_round_prepared_while_the_wish_was_claimed_offers_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = volunteer_pool.build_pool
    wish_id = await _new_wish(world.app, 5)

    async def claim_meanwhile(*args: Any, **kwargs: Any) -> volunteer_pool.PoolContext:
        ctx = await real(*args, **kwargs)
        async with world.app.sessions() as other:
            await other.execute(
                update(Wish).where(Wish.id == wish_id).values(status="claimed", volunteer_id=5)
            )
            await other.commit()
        return ctx

    monkeypatch.setattr(offers, "build_pool", claim_meanwhile)
    assert await offers.next_round(world.app, wish_id) is None
    async with world.app.sessions() as session:
        assert (await session.scalars(select(Offer).where(Offer.wish_id == wish_id))).all() == []
        wish = await session.get(Wish, wish_id)
        assert wish is not None and wish.offer_round == 0
    assert world.notifier.sent == []
