"""The dashboard's staff operations over HTTP: the ledger search and audited adjustments on
the points page, 吹哨 escalations and their answers, and the roster import's dry run."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.db.models import AuditEntry, LedgerEntry, Volunteer, Wish, WishStaffCard
from bot.db.models.roster import RosterBatch, RosterEntry
from bot.services.intake import dispatch
from bot.services.intake.staff_cards import send_review_cards
from tests.web.conftest import Web


async def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    html = await (await client.get(path)).text()
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def _audit(web: Web, action: str) -> list[AuditEntry]:
    async with web.app.sessions() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def _volunteer(web: Web, name: str, grid: str) -> int:
    uid = await web.user(name)
    async with web.app.sessions() as s:
        s.add(
            Volunteer(
                user_id=uid,
                name=name,
                grid_id=web.grids[grid],
                unit="区医院",
                branch="b",
                occupation="o",
                status="approved",
            )
        )
        await s.commit()
    return uid


async def _entry(web: Web, uid: int, amount: int, reason: str, days_ago: int) -> None:
    async with web.app.sessions() as s:
        s.add(
            LedgerEntry(
                user_id=uid,
                amount=amount,
                kind="award",
                reason=reason,
                source_type="test",
                source_id=f"{uid}:{reason}",
                created_at=web.clock() - timedelta(days=days_ago),
            )
        )
        await s.commit()


# --- points: ledger search and adjustments -----------------------------------------------


async def test_ledger_search_by_name_reason_and_date_stays_in_the_grid(web: Web) -> None:
    li = await _volunteer(web, "李明", "G01")
    wang = await _volunteer(web, "王芳", "G01")
    other = await _volunteer(web, "赵别网", "G02")
    await _entry(web, li, 5, "帮老人买菜", days_ago=1)
    await _entry(web, li, 3, "修自行车", days_ago=40)
    await _entry(web, wang, 4, "帮老人买药", days_ago=2)
    await _entry(web, other, 9, "帮老人买菜（二网格）", days_ago=1)
    client = await web.logged_in(web.g01_staff)
    try:
        html = await (await client.get("/points")).text()
        assert "李明" in html and "王芳" in html and "赵别网" not in html
        by_name = await (await client.get("/points?q=李")).text()
        assert "帮老人买菜" in by_name and "修自行车" in by_name and "帮老人买药" not in by_name
        by_reason = await (await client.get("/points?reason=老人")).text()
        assert "帮老人买菜" in by_reason and "帮老人买药" in by_reason
        assert "修自行车" not in by_reason and "二网格" not in by_reason
        since = (web.clock() - timedelta(days=10)).astimezone(web.app.settings.tz).date()
        recent = await (await client.get(f"/points?q=李明&since={since.isoformat()}")).text()
        assert "帮老人买菜" in recent and "修自行车" not in recent
        garbled = await client.get("/points?since=yesterday&until=%3Cscript%3E")
        assert garbled.status == 200  # a bad date is ignored, not an error
        export = await client.get("/points?reason=老人&format=csv")
        body = (await export.read()).decode("utf-8-sig")
        assert "帮老人买药" in body and "二网格" not in body
        assert [e.object_id for e in await _audit(web, "web.export")] == ["csv"]
    finally:
        await client.close()


async def test_adjusting_points_on_the_web_is_audited_and_happens_once_per_form(
    web: Web,
) -> None:
    li = await _volunteer(web, "李明", "G01")
    other = await _volunteer(web, "赵别网", "G02")
    client = await web.logged_in(web.g01_staff)
    try:
        html = await (await client.get("/points?q=李明")).text()
        assert 'id="adjust-form"' in html
        request_id = re.search(r'name="request" value="([0-9a-f]+)"', html)
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert request_id and csrf
        form = {
            "csrf": csrf.group(1),
            "request": request_id.group(1),
            "member": str(li),
            "amount": "+7",
            "reason": "补记社区活动积分",
            "q": "李明",
        }
        first = await client.post("/points/adjust", data=form)
        assert first.status == 200 and "积分已调整" in await first.text()
        again = await client.post("/points/adjust", data=form)  # a double submit
        assert again.status == 200 and "没有重复记账" in await again.text()
        # Another grid's member, a bad amount, no reason: refused kindly, nothing booked.
        for bad in (
            {**form, "member": str(other), "request": "0123456789ab"},
            {**form, "amount": "lots", "request": "0123456789ac"},
            {**form, "reason": " ", "request": "0123456789ad"},
            {**form, "amount": "-100", "request": "0123456789ae"},  # below zero
        ):
            refused = await client.post("/points/adjust", data=bad)
            assert refused.status == 400, bad
        missing_csrf = {k: v for k, v in form.items() if k != "csrf"}
        assert (await client.post("/points/adjust", data=missing_csrf)).status == 403
        async with web.app.sessions() as s:
            entries = list(await s.scalars(select(LedgerEntry)))
        assert [(e.user_id, e.amount, e.reason) for e in entries] == [(li, 7, "补记社区活动积分")]
        audits = await _audit(web, "points.adjust")
        assert [(a.actor_id, a.object_id) for a in audits] == [(web.g01_staff, str(li))]
        assert [uid for uid, n in web.notifier.sent if n.kind == "points.adjusted"] == [li]
        # The community staff's search does not offer the form without a name.
        assert "adjust-form" not in await (await client.get("/points")).text()
    finally:
        await client.close()


# --- 吹哨 escalations ------------------------------------------------------------------------


async def _escalated(web: Web, grid: str, text: str, days: int) -> int:
    wish_id = await web.wish(grid, text)
    async with web.app.sessions() as s:
        await dispatch.escalate(
            web.app,
            s,
            web.admin,
            wish_id,
            department=web.app.settings.community.departments[0].id,
            note="请城管处理",
            deadline=web.clock() + timedelta(days=days),
        )
    return wish_id


async def test_escalations_list_open_and_overdue_and_record_the_answer_once(web: Web) -> None:
    late = await _escalated(web, "G01", "路灯坏了一个月", days=1)
    fresh = await _escalated(web, "G01", "井盖松动", days=7)
    theirs = await _escalated(web, "G02", "第二网格的违章搭建", days=1)
    web.clock.advance(days=2)
    async with web.app.sessions() as s:
        await send_review_cards(web.app, s, late, [web.g01_staff])
        card = (await s.scalars(select(WishStaffCard))).one()
    client = await web.logged_in(web.g01_staff)
    try:
        html = await (await client.get("/escalations")).text()
        assert f"#{late}" in html and f"#{fresh}" in html and "违章搭建" not in html
        assert html.index(f"#{late}") < html.index(f"#{fresh}")  # overdue first
        assert "未答复 2 件，其中已逾期 1 件" in html
        overdue = await (await client.get("/escalations?state=overdue")).text()
        assert f"#{late}" in overdue and f"#{fresh}" not in overdue
        assert "/escalations/" in await (await client.get(f"/wishes/{late}")).text()
        csrf = await _csrf(client, "/escalations")
        form = {"csrf": csrf, "answer": "已更换灯泡", "outcome": "close", "back": "/escalations"}
        done = await client.post(f"/escalations/{late}/answer", data=form)
        assert done.status == 200 and f"心愿 #{late} 已办结" in await done.text()
        # The bot's review card of that wish is edited to its new state.
        assert card.message_id in [ref.message_id for ref, _ in web.notifier.edits]
        assert [n.kind for uid, n in web.notifier.sent if n.kind.startswith("wish.escalation")] == [
            "wish.escalation_closed_notice"
        ]
        again = await client.post(f"/escalations/{late}/answer", data=form)
        assert again.status == 200 and "已经答复过了" in await again.text()
        refused = await client.post(f"/escalations/{theirs}/answer", data=form)
        assert refused.status == 403
        empty = await client.post(f"/escalations/{fresh}/answer", data={**form, "answer": " "})
        assert empty.status == 400
        offsite = {**form, "back": "//evil.example/x", "outcome": "reopen", "answer": "已修好"}
        back = await client.post(
            f"/escalations/{fresh}/answer", data=offsite, allow_redirects=False
        )
        assert back.headers["Location"].startswith("/escalations?")
        async with web.app.sessions() as s:
            status = {w.id: w.status for w in await s.scalars(select(Wish))}
        assert status[late] == "closed" and status[theirs] == "escalated"
        assert status[fresh] in ("approved", "offered")
        audits = await _audit(web, "wish.escalation_answer")
        assert sorted(a.object_id for a in audits) == sorted([str(late), str(fresh)])
        answered = await (await client.get("/escalations?state=answered")).text()
        assert "已更换灯泡" in answered
    finally:
        await client.close()


# --- roster import ----------------------------------------------------------------------------

FIRST = "姓名,单位,网格,电话\n张三,区医院,G01,13800001111\n李四,区税务局,G02,13700003333\n"
SECOND = (
    "姓名,单位,网格,电话\n"
    "张三,区医院,G01,13800001111\n"  # unchanged
    "李四,区教育局,G02,13700003333\n"  # changed unit
    "王五,区法院,G01,13900002222\n"  # new
    "赵六,区法院,G99,\n"  # unknown grid
    ",区法院,G01,\n"  # no name
)


async def _upload(client, csrf: str, content: str):  # type: ignore[no-untyped-def]
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("file", content.encode(), filename="roster.csv", content_type="text/csv")
    return await client.post("/volunteers/roster", data=form)


async def _batch_id(html: str) -> int:
    match = re.search(r"/volunteers/roster/(\d+)/apply", html)
    assert match, html[:2000]
    return int(match.group(1))


async def test_roster_import_shows_the_dry_run_then_imports_once(web: Web) -> None:
    client = await web.logged_in(web.admin)
    try:
        assert 'id="roster-link"' in await (await client.get("/volunteers")).text()
        csrf = await _csrf(client, "/volunteers/roster")
        first = await (await _upload(client, csrf, FIRST)).text()
        await client.post(f"/volunteers/roster/{await _batch_id(first)}/apply", data={"csrf": csrf})
        preview = await _upload(client, csrf, SECOND)
        html = await preview.text()
        assert preview.status == 200
        counts = dict(re.findall(r'<td id="n-(\w+)">(\d+)</td>', html))
        assert counts == {
            "new": "1",
            "matched": "0",
            "changed": "1",
            "unchanged": "1",
            "errors": "2",
        }
        assert "王五" in html and "****2222" in html and "13900002222" not in html
        assert "没有“G99”这个网格" in html and "缺少姓名" in html and "区税务局" in html
        async with web.app.sessions() as s:
            before = await s.scalar(select(func.count()).select_from(RosterEntry))
        assert before == 2  # the dry run imported nothing
        batch = await _batch_id(html)
        done = await client.post(f"/volunteers/roster/{batch}/apply", data={"csrf": csrf})
        assert done.status == 200 and "名单已导入" in await done.text()
        again = await client.post(f"/volunteers/roster/{batch}/apply", data={"csrf": csrf})
        assert again.status == 200 and "没有重复导入" in await again.text()
        async with web.app.sessions() as s:
            names = sorted(e.name for e in await s.scalars(select(RosterEntry)))
            statuses = [b.status for b in await s.scalars(select(RosterBatch))]
        assert names == ["张三", "李四", "王五"] and statuses == ["imported", "imported"]
        assert len(await _audit(web, "roster.import")) == 2
        assert len(await _audit(web, "roster.check")) == 2
        bad = await _upload(client, csrf, "名字\n张三\n")
        assert bad.status == 200 and "表头" in await bad.text()
    finally:
        await client.close()


async def test_roster_import_is_for_community_staff_and_needs_the_csrf_token(web: Web) -> None:
    client = await web.logged_in(web.g01_staff)
    try:
        assert (await client.get("/volunteers/roster")).status == 403
        assert 'id="roster-link"' not in await (await client.get("/volunteers")).text()
        csrf = await _csrf(client, "/volunteers")
        assert (await _upload(client, csrf, FIRST)).status == 403
    finally:
        await client.close()
    client = await web.logged_in(web.admin)
    try:
        assert (await _upload(client, "wrong", FIRST)).status == 403
        async with web.app.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(RosterBatch)) == 0
    finally:
        await client.close()
