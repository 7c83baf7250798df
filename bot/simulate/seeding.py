"""Seeding a simulated community in bulk: grids (six to a community, neighbours within it),
one grid staff member per grid, volunteers with skills, free-time slots and a habit of looking
at their phone, and residents."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert

from bot.db.models import Grid, Resident, Staff, User, Volunteer
from bot.services.context import AppContext
from bot.simulate import policies
from bot.simulate.model import CommunityModel


@dataclass
class SimVolunteer:
    uid: int
    grid: int
    skills: frozenset[str]
    look_h: float
    active: int = 0


@dataclass
class Community:
    """Who was seeded, as the simulated people need it."""

    vols: dict[int, SimVolunteer] = field(default_factory=dict)
    grid_vols: dict[int, list[int]] = field(default_factory=dict)
    grid_staff: dict[int, int] = field(default_factory=dict)
    neighbours: dict[int, set[int]] = field(default_factory=dict)
    residents: list[tuple[int, int]] = field(default_factory=list)  # (user id, grid)


async def seed_community(
    app: AppContext,
    community_model: CommunityModel,
    rnd: random.Random,
    *,
    grid_count: int,
    volunteer_count: int,
    resident_count: int,
    group_chats: bool,
    categories: list[str],
    now: datetime,
) -> Community:
    """Insert the community (2,000 rows per statement) and return who is who. ``rnd`` is the
    run's generator: the draws happen in a fixed order, so a seed gives the same community."""
    m = community_model
    community = Community()
    mix = Counter(categories)
    cat_ids, cat_w = list(mix), [mix[c] for c in mix]
    slot_ids = [s.id for s in app.settings.volunteers.slots]
    grids, users, vols, residents, staff = [], [], [], [], []
    per_community = 6
    for g in range(1, grid_count + 1):
        first = (g - 1) // per_community * per_community + 1
        near = [j for j in (g - 1, g + 1) if first <= j < first + per_community and j <= grid_count]
        community.neighbours[g] = set(near)
        grids.append(
            {
                "id": g,
                "code": f"G{g:03d}",
                "name": f"第{g}网格",
                "community": f"社区{(g - 1) // per_community + 1}",
                "neighbours": [f"G{j:03d}" for j in near],
                "active": True,
                "group_chat_id": policies.group_chat_id(g) if group_chats else None,
            }
        )
    uid = 0

    def user(name: str) -> int:
        nonlocal uid
        uid += 1
        users.append(
            {
                "id": uid,
                "telegram_id": 10_000_000 + uid,
                "display_name": name,
                "language": "zh-CN",
                "is_blocked": False,
                "created_at": now,
            }
        )
        return uid

    for g in range(1, grid_count + 1):
        sid = user(f"网格员{g}")
        staff.append({"user_id": sid, "scope": "grid", "grid_id": g, "created_at": now})
        community.grid_staff[g] = sid
    for i in range(volunteer_count):
        g = i % grid_count + 1
        vid = user(f"志愿者{i}")
        skills: set[str] = set()
        while len(skills) < rnd.randint(m.skills_min, m.skills_max):
            skills.add(rnd.choices(cat_ids, cat_w)[0])
        slots = rnd.sample(slot_ids, rnd.randint(m.slots_min, m.slots_max))
        vols.append(
            {
                "user_id": vid,
                "name": f"志愿者{i}",
                "grid_id": g,
                "building": f"{rnd.randint(1, 30)}栋",
                "unit": "单位",
                "branch": "支部",
                "occupation": "职工",
                "skills": sorted(skills),
                "specialties": "",
                "availability": slots,
                "max_active_tasks": m.max_active_tasks,
                "status": "approved",
                "public_board": True,
                "created_at": now,
            }
        )
        community.vols[vid] = SimVolunteer(
            vid, g, frozenset(skills), m.look_median_h * math.exp(rnd.gauss(0, m.look_sigma))
        )
        community.grid_vols.setdefault(g, []).append(vid)
    for j in range(resident_count):
        g = j % grid_count + 1
        rid = user(f"居民{j}")
        residents.append(
            {
                "user_id": rid,
                "grid_id": g,
                "building": f"{rnd.randint(1, 30)}栋",
                "share_phone": False,
                "consent_at": now,
                "created_at": now,
            }
        )
        community.residents.append((rid, g))
    async with app.sessions() as session:
        for model, rows in (
            (Grid, grids),
            (User, users),
            (Staff, staff),
            (Volunteer, vols),
            (Resident, residents),
        ):
            for k in range(0, len(rows), 2000):
                await session.execute(insert(model), rows[k : k + 2000])
        await session.commit()
    return community
