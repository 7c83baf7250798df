"""The dashboard's patrol page: the month's figures per grid, within the viewer's grid scope."""

from __future__ import annotations

from datetime import timedelta

from bot.db.models.patrols import Hazard, PatrolRoute, PatrolShift, PatrolSignup
from tests.web.conftest import Web


async def _patrol_in(web: Web, grid: str, name: str) -> None:
    """A patrol that ran in the grid, with one patroller and one hazard found."""
    patroller = await web.user("巡查员")
    now = web.clock()
    async with web.app.sessions() as s:
        route = PatrolRoute(grid_id=web.grids[grid], name=name, created_by=web.admin)
        s.add(route)
        await s.flush()
        shift = PatrolShift(
            route_id=route.id,
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=1),
            capacity=3,
            taken=1,
            status="done",
            created_by=web.admin,
        )
        s.add(shift)
        await s.flush()
        s.add(
            PatrolSignup(
                shift_id=shift.id,
                user_id=patroller,
                status="signed",
                checked_in_at=now - timedelta(hours=3),
            )
        )
        s.add(
            Hazard(
                shift_id=shift.id,
                grid_id=web.grids[grid],
                reporter_id=patroller,
                kind="ebike_indoor",
                created_at=now - timedelta(hours=2),
            )
        )
        await s.commit()


async def test_the_patrol_page_counts_per_grid_in_scope(web: Web) -> None:
    await _patrol_in(web, "G01", "一网格夜巡")
    await _patrol_in(web, "G02", "二网格夜巡")
    admin = await web.logged_in(web.admin)
    grid_staff = await web.logged_in(web.g01_staff)
    try:
        html = await (await admin.get("/patrols?month=2026-11")).text()
        assert "2026-11 治安巡查与认领岗位" in html
        assert "G01 第一网格</th><td>1</td><td>1</td><td>2.0</td><td>1</td>" in html
        assert "G02 第二网格" in html
        assert "/charts/" in html
        own = await (await grid_staff.get("/patrols")).text()
        assert "G01 第一网格" in own and "第二网格" not in own
        anonymous = await web.client()
        try:
            refused = await anonymous.get("/patrols", allow_redirects=False)
            assert refused.status in (302, 303, 401, 403)
        finally:
            await anonymous.close()
    finally:
        await admin.close()
        await grid_staff.close()
