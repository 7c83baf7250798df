"""A month of past service for the demo's dashboard: wishes filed, approved, claimed, done and
rated across the grids, so the overview and its charts have something to show. Written as
rows (the demo's live part goes through the real bot); the people are marked as history."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from bot.db.models import Grid, User, Volunteer, Wish, WishEvent
from bot.services.context import AppContext

TEXTS = (
    ("repair", "楼道灯坏了，晚上看不见路"),
    ("repair", "卫生间水龙头一直滴水"),
    ("errand", "腿脚不便，想请人帮忙买菜"),
    ("eldercare", "想请人陪老伴去医院复查"),
    ("digital", "不会用手机挂号，想请人教一下"),
    ("children", "孩子数学作业想请人辅导"),
    ("environment", "小区门口垃圾堆了好几天"),
    ("legal", "租房合同有问题想咨询"),
)
OUTCOMES = (("verified", 40), ("closed", 10), ("offered", 8), ("claimed", 8), ("expired", 6))


async def seed_history(app: AppContext, wishes: int = 160, volunteers: int = 14) -> int:
    """Add ``wishes`` past wishes over the last 30 days; returns how many were added."""
    rng = random.Random(7)
    now = app.now()
    async with app.sessions() as s:
        grids = list(await s.scalars(select(Grid.id).order_by(Grid.id)))
        people = [User(display_name=f"历史居民{i}", language="zh-CN") for i in range(20)]
        members = [User(display_name=f"历史党员{i}", language="zh-CN") for i in range(volunteers)]
        s.add_all(people + members)
        await s.flush()
        for i, m in enumerate(members):
            s.add(
                Volunteer(
                    user_id=m.id,
                    name=f"党员{i + 1:02d}",
                    grid_id=grids[i % len(grids)],
                    unit="区供电公司" if i % 2 else "区人民医院",
                    branch="第一党支部",
                    occupation="职员",
                    status="approved",
                )
            )
        names = [n for n, _ in OUTCOMES]
        weights = [w for _, w in OUTCOMES]
        for i in range(wishes):
            category, text = rng.choice(TEXTS)
            created = now - timedelta(hours=rng.uniform(1, 30 * 24))
            status = rng.choices(names, weights)[0]
            approved = created + timedelta(minutes=rng.uniform(10, 240))
            claimed = approved + timedelta(minutes=rng.expovariate(1 / 180))
            done = claimed + timedelta(hours=rng.uniform(2, 72))
            has_volunteer = status in ("verified", "closed", "claimed")
            finished = status in ("verified", "closed")
            if (finished and done > now) or claimed > now:
                status, has_volunteer, finished = "offered", False, False
            # a skewed pick: a few members do most of the work, as in life
            member = members[min(int(rng.expovariate(0.35)), len(members) - 1)]
            wish = Wish(
                resident_id=people[i % len(people)].id,
                grid_id=rng.choice(grids),
                text=text,
                category=category,
                status=status,
                difficulty="normal",
                created_at=created,
                volunteer_id=member.id if has_volunteer else None,
                claimed_at=claimed if has_volunteer else None,
                done_at=done if finished else None,
                rating=rng.choice((5, 5, 4, 4, 3)) if finished and rng.random() < 0.8 else None,
                closed_at=done if finished else None,
                deadline=created + timedelta(days=7),
            )
            s.add(wish)
            await s.flush()
            s.add(WishEvent(wish_id=wish.id, to_status="submitted", at=created, note="filed"))
            s.add(
                WishEvent(
                    wish_id=wish.id, from_status="submitted", to_status="approved", at=approved
                )
            )
        await s.commit()
    return wishes
