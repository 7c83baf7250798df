"""The overview's aggregates (一屏观全域) on hand-made rows, whole community and one grid."""

from __future__ import annotations

from datetime import timedelta

from bot.db.models import Escalation, Volunteer
from bot.services.reports.outcomes import window
from bot.services.reports.overview import local_midnight, overview
from tests.web.conftest import Web


async def test_overview_counts_open_overdue_escalations_and_active_members(web: Web) -> None:
    now = web.clock()
    past, later = now - timedelta(hours=1), now + timedelta(days=3)
    await web.wish("G01", "楼道灯坏了", status="submitted", deadline=past)
    await web.wish("G01", "帮忙买菜", status="approved", deadline=later)
    escalated = await web.wish("G01", "路灯坏了", status="escalated")
    member = await web.user("李明")
    async with web.app.sessions() as s:
        s.add(
            Volunteer(
                user_id=member,
                name="李明",
                grid_id=web.grids["G02"],
                unit="u",
                branch="b",
                occupation="o",
                status="approved",
            )
        )
        s.add(
            Escalation(
                wish_id=escalated,
                department="housing",
                created_by=web.admin,
                deadline=past,
                created_at=past,
            )
        )
        await s.commit()
    await web.wish(
        "G02",
        "修水管",
        status="verified",
        volunteer_id=member,
        claimed_at=now - timedelta(minutes=90),
        done_at=now - timedelta(minutes=30),
        rating=5,
    )
    win = window("30d", now, local_midnight(web.app, now))
    async with web.app.sessions() as s:
        everything = await overview(web.app, s, None, win)
        g01_only = await overview(web.app, s, [web.grids["G01"]], win)
    rows = {g.code: g for g in everything.grids}
    assert (rows["G01"].open, rows["G01"].overdue, rows["G01"].filed) == (3, 1, 3)
    assert (rows["G02"].open, rows["G02"].satisfaction) == (0, 5)
    assert (everything.escalations_open, everything.escalations_overdue) == (1, 1)
    assert everything.active_volunteers_month == 1
    assert everything.by_status == {"submitted": 1, "approved": 1, "escalated": 1, "verified": 1}
    assert sum(f for _, f, _ in everything.trend) == 4 and everything.figures.wishes == 4
    assert [g.code for g in g01_only.grids] == ["G01"]
    assert g01_only.active_volunteers_month == 0 and g01_only.figures.satisfaction is None
    assert g01_only.escalations_open == 1
