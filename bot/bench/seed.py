"""A district's worth of rows, inserted in bulk (no services: seeding 100,000 wishes one by one
through them would take longer than the benchmark)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import GridConfig
from bot.db.models import Grid, Offer, Resident, User, Volunteer, Wish
from bot.db.models.points import LedgerEntry

CHUNK = 2000  # rows per INSERT: well under SQLite's bound-parameter limit at ~15 columns
GRIDS_PER_COMMUNITY = 10
SKILLS = ("repair", "errand", "eldercare", "children", "health", "digital", "other")
SLOTS = ("weekday_evening", "sat_morning", "sat_afternoon", "sun_morning", "sun_afternoon")
VOLUNTEER_TG = 10_000_000  # Telegram ids of seeded volunteers start here
RESIDENT_TG = 50_000_000


@dataclass(frozen=True, slots=True)
class District:
    grids: list[GridConfig]
    volunteer_tg: list[int]  # Telegram ids
    resident_tg: list[int]
    resident_grid: dict[int, str]  # Telegram id -> grid code


def district_grids(volunteers: int) -> list[GridConfig]:
    """About 46 volunteers a grid (Huishan: 30,000 volunteers, ~650 grids), ten to a community."""
    count = max(3, volunteers // 46)
    grids = []
    for i in range(count):
        community = i // GRIDS_PER_COMMUNITY
        first = community * GRIDS_PER_COMMUNITY
        near = [j for j in (i - 1, i + 1) if first <= j < min(count, first + GRIDS_PER_COMMUNITY)]
        grids.append(
            GridConfig(
                code=f"G{i + 1:03d}",
                name=f"第{i + 1}网格",
                community=f"社区{community + 1}",
                neighbours=[f"G{j + 1:03d}" for j in near],
            )
        )
    return grids


async def _insert(engine: AsyncEngine, model: Any, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            await conn.execute(insert(model), rows[start : start + CHUNK])


async def seed_district(
    engine: AsyncEngine, volunteers: int, wishes: int, *, residents: int = 0, seed: int = 1
) -> District:
    """Grids, approved volunteers with a history of wishes, offers and points."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    grids = district_grids(volunteers)
    residents = residents or max(10, min(wishes // 10, 10_000))
    await _insert(
        engine,
        Grid,
        [
            {
                "id": i + 1,
                "code": g.code,
                "name": g.name,
                "community": g.community,
                "neighbours": g.neighbours,
                "active": True,
            }
            for i, g in enumerate(grids)
        ],
    )
    users: list[dict[str, Any]] = []
    vols: list[dict[str, Any]] = []
    vol_grid: list[int] = []
    for i in range(volunteers):
        uid = i + 1
        grid_id = i % len(grids) + 1
        vol_grid.append(grid_id)
        users.append(
            {
                "id": uid,
                "telegram_id": VOLUNTEER_TG + i,
                "display_name": f"志愿者{i}",
                "language": "zh-CN",
                "is_blocked": False,
                "created_at": now,
            }
        )
        vols.append(
            {
                "user_id": uid,
                "name": f"志愿者{i}",
                "grid_id": grid_id,
                "building": f"{rnd.randint(1, 30)}栋",
                "unit": "单位",
                "branch": "支部",
                "occupation": "职工",
                "skills": rnd.sample(SKILLS, rnd.randint(1, 3)),
                "specialties": rnd.choice(("水电维修", "家电", "陪伴老人", "辅导功课", "")),
                "availability": rnd.sample(SLOTS, rnd.randint(1, 3)),
                "max_active_tasks": 3,
                "status": "approved",
                "public_board": True,
                "created_at": now,
            }
        )
    res: list[dict[str, Any]] = []
    resident_grid: dict[int, str] = {}
    for j in range(residents):
        uid = volunteers + j + 1
        grid_id = j % len(grids) + 1
        users.append(
            {
                "id": uid,
                "telegram_id": RESIDENT_TG + j,
                "display_name": f"居民{j}",
                "language": "zh-CN",
                "is_blocked": False,
                "created_at": now,
            }
        )
        res.append(
            {
                "user_id": uid,
                "grid_id": grid_id,
                "building": f"{rnd.randint(1, 30)}栋",
                "share_phone": False,
                "consent_at": now,
                "created_at": now,
            }
        )
        resident_grid[RESIDENT_TG + j] = grids[grid_id - 1].code
    await _insert(engine, User, users)
    await _insert(engine, Volunteer, vols)
    await _insert(engine, Resident, res)
    wish_rows: list[dict[str, Any]] = []
    offer_rows: list[dict[str, Any]] = []
    ledger_rows: list[dict[str, Any]] = []
    for k in range(wishes):
        wid = k + 1
        resident = rnd.randrange(residents // 2, residents)  # the first half: no history
        grid_id = resident % len(grids) + 1
        created = now - timedelta(days=rnd.uniform(0, 400))
        # Someone of the wish's grid served it (grid g holds volunteers g-1, g-1+len(grids), ...).
        vol = grid_id - 1 + len(grids) * rnd.randrange(max(1, volunteers // len(grids)))
        vol_uid = min(vol, volunteers - 1) + 1
        status = rnd.choices(("closed", "verified", "claimed", "cancelled"), (70, 20, 3, 7))[0]
        served = status != "cancelled"
        wish_rows.append(
            {
                "id": wid,
                "resident_id": volunteers + resident + 1,
                "grid_id": grid_id,
                "text": "帮忙修一下水龙头",
                "details": [],
                "category": rnd.choice(SKILLS),
                "confidence": 0.9,
                "urgent": False,
                "status": status,
                "difficulty": "normal",
                "volunteer_id": vol_uid if served else None,
                "claimed_at": created if served else None,
                "done_at": created + timedelta(days=1) if status != "claimed" and served else None,
                "rating": rnd.randint(3, 5) if status == "closed" else None,
                "offer_round": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        if served:
            offer_rows.append(
                {
                    "wish_id": wid,
                    "volunteer_id": vol_uid,
                    "round": 1,
                    "score": 0.5,
                    "breakdown": {},
                    "status": "claimed",
                    "created_at": created,
                }
            )
            if status in ("closed", "verified"):
                ledger_rows.append(
                    {
                        "user_id": vol_uid,
                        "amount": 10,
                        "kind": "award",
                        "reason": "服务",
                        "source_type": "wish",
                        "source_id": str(wid),
                        "created_at": created,
                    }
                )
        other = vol_uid + len(grids)
        if other <= volunteers and rnd.random() < 0.5:
            offer_rows.append(
                {
                    "wish_id": wid,
                    "volunteer_id": other,
                    "round": 1,
                    "score": 0.4,
                    "breakdown": {},
                    "status": rnd.choice(("taken", "declined", "expired")),
                    "created_at": created,
                }
            )
    await _insert(engine, Wish, wish_rows)
    await _insert(engine, Offer, offer_rows)
    await _insert(engine, LedgerEntry, ledger_rows)
    if engine.dialect.name == "postgresql":  # explicit ids leave the sequences behind
        async with engine.begin() as conn:
            for table in ("grids", "users", "wishes"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        async with engine.connect() as conn:  # planner statistics, as a live database has
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    return District(
        grids=grids,
        volunteer_tg=[VOLUNTEER_TG + i for i in range(volunteers)],
        resident_tg=[RESIDENT_TG + j for j in range(residents)],
        resident_grid=resident_grid,
    )
