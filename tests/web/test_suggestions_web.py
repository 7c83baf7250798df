"""The dashboard's suggestions page, the reports' suggestion and rating figures, and the events
page's ratings: grid staff see their grid only."""

from __future__ import annotations

from datetime import timedelta

from bot.db.models import Event, EventRating, Resident
from bot.services.suggestions import loop
from tests.web.conftest import Web


async def _resident(web: Web, grid: str) -> int:
    uid = await web.user("居民")
    async with web.app.sessions() as s:
        s.add(Resident(user_id=uid, grid_id=web.grids[grid], consent_at=web.clock()))
        await s.commit()
    return uid


async def test_suggestions_page_reports_and_event_ratings(web: Web) -> None:
    ann, bob = await _resident(web, "G01"), await _resident(web, "G02")
    async with web.app.sessions() as s:
        mine = await loop.file_suggestion(web.app, s, ann, "建议第一网格多装路灯")
        await loop.file_suggestion(web.app, s, bob, "第二网格的秘密建议")
    async with web.app.sessions() as s:
        await loop.answer(web.app, s, web.admin, mine.id, "已安排，下周安装")
    async with web.app.sessions() as s:
        await loop.rate(web.app, s, ann, mine.id, True)
        starts = web.clock() - timedelta(days=1)
        event = Event(
            title="义诊",
            place="广场",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            slots=5,
            signup_deadline=starts,
            grid_id=web.grids["G01"],
            status="closed",
            created_by=web.admin,
        )
        s.add(event)
        await s.flush()
        s.add_all(
            [
                EventRating(event_id=event.id, user_id=ann, stars=5),
                EventRating(event_id=event.id, user_id=bob, stars=4),
            ]
        )
        await s.commit()
    admin = await web.logged_in(web.admin)
    grid_staff = await web.logged_in(web.g01_staff)
    try:
        page = await (await admin.get("/suggestions?month=2026-11")).text()
        assert "居民建议（社情民意）· 2026-11" in page
        assert "建议第一网格多装路灯" in page and "第二网格的秘密建议" in page
        assert "😊" in page and "已答复" in page
        theirs = await (await grid_staff.get("/suggestions")).text()
        assert "建议第一网格多装路灯" in theirs and "第二网格的秘密建议" not in theirs
        report = await (await admin.get("/reports?month=2026-11")).text()
        figures = report.split('id="report-suggestions"')[1]
        assert "<td>2</td>" in figures and "100%" in figures and "4.5" in figures
        grid_report = await (await grid_staff.get("/reports?month=2026-11")).text()
        assert "<td>1</td>" in grid_report.split('id="report-suggestions"')[1]
        events = await (await admin.get("/events")).text()
        assert "4.5 ⭐ (2)" in events
    finally:
        await admin.close()
        await grid_staff.close()
