"""The dashboard over HTTP (aiohttp's test client): login links, sessions, CSRF, grid scope,
the wall-screen token, audited actions, formula-safe exports, the bot's card edited."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from bot.db.models import AuditEntry, Wish, WishStaffCard
from bot.services.intake.staff_cards import send_review_cards
from tests.web.conftest import G02_TEXT, Web


async def _csrf(client, path: str = "/queue") -> str:  # type: ignore[no-untyped-def]
    html = await (await client.get(path)).text()
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def _wish(web: Web, wish_id: int) -> Wish:
    async with web.app.sessions() as s:
        wish = await s.get(Wish, wish_id)
        assert wish is not None
        return wish


async def _audit(web: Web, action: str) -> list[AuditEntry]:
    async with web.app.sessions() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def test_login_link_works_once(web: Web) -> None:
    path = await web.link(web.admin)
    first, second = await web.client(), await web.client()
    try:
        shown = await first.get(path)  # a GET (a link preview) does not spend the link
        assert shown.status == 200 and 'id="login"' in await shown.text()
        ok = await first.post(path, allow_redirects=False)
        assert ok.status == 302 and ok.headers["Location"] == "/overview"
        cookie = ok.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        assert (await first.get("/overview")).status == 200
        again = await second.post(path, allow_redirects=False)
        assert again.status == 200 and "已用过" in await again.text()
        assert (await second.get("/overview", allow_redirects=False)).status == 302
        assert len(await _audit(web, "web.login")) == 1
    finally:
        await first.close()
        await second.close()


async def test_login_link_expires_after_five_minutes_and_forgeries_fail(web: Web) -> None:
    path = await web.link(web.admin)
    client = await web.client()
    try:
        web.clock.advance(minutes=5, seconds=1)
        late = await client.post(path, allow_redirects=False)
        assert late.status == 200 and "过期" in await late.text()
        fresh = await web.link(web.admin)
        forged = fresh[:-3] + ("aaa" if not fresh.endswith("aaa") else "bbb")
        assert (await client.post(forged, allow_redirects=False)).status == 200
        assert (await client.get("/overview", allow_redirects=False)).status == 302
    finally:
        await client.close()


async def test_login_attempts_are_rate_limited(web: Web) -> None:
    client = await web.client()
    try:
        for _ in range(web.app.settings.web.login_attempts_per_minute):
            await client.post("/login/nothing.abc", allow_redirects=False)
        good = await web.link(web.admin)
        refused = await client.post(good, allow_redirects=False)
        assert refused.status == 200 and "过多" in await refused.text()
    finally:
        await client.close()


async def test_session_ends_when_idle_and_on_logout(web: Web) -> None:
    client = await web.logged_in(web.admin)
    try:
        web.clock.advance(minutes=29)
        assert (await client.get("/overview", allow_redirects=False)).status == 200
        web.clock.advance(minutes=29)  # used 29 min ago: still alive (idle clock restarted)
        assert (await client.get("/overview", allow_redirects=False)).status == 200
        web.clock.advance(minutes=31)
        assert (await client.get("/overview", allow_redirects=False)).status == 302
    finally:
        await client.close()
    client = await web.logged_in(web.admin)
    try:
        csrf = await _csrf(client, "/overview")
        out = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 302
        assert (await client.get("/overview", allow_redirects=False)).status == 302
        assert len(await _audit(web, "web.logout")) == 1
    finally:
        await client.close()


async def test_a_form_without_the_csrf_token_changes_nothing(web: Web) -> None:
    wish_id = await web.wish("G01", "楼道灯坏了，请帮忙修一下")
    client = await web.logged_in(web.admin)
    try:
        for data in ({"difficulty": "easy"}, {"difficulty": "easy", "csrf": "wrong"}):
            refused = await client.post(f"/queue/{wish_id}/approve", data=data)
            assert refused.status == 403
        assert (await _wish(web, wish_id)).status == "submitted"
        assert await _audit(web, "wish.approve") == []
    finally:
        await client.close()


async def test_approving_on_the_web_is_audited_and_edits_the_bots_review_card(web: Web) -> None:
    wish_id = await web.wish("G01", "楼道灯坏了，请帮忙修一下")
    async with web.app.sessions() as s:
        await send_review_cards(web.app, s, wish_id, [web.admin])
        cards = list(await s.scalars(select(WishStaffCard)))
    assert len(cards) == 1 and cards[0].wish_id == wish_id
    client = await web.logged_in(web.admin)
    try:
        csrf = await _csrf(client)
        done = await client.post(
            f"/queue/{wish_id}/approve", data={"csrf": csrf, "difficulty": "hard", "deadline": "7"}
        )
        assert done.status == 200 and f"#{wish_id} 已通过" in await done.text()
        wish = await _wish(web, wish_id)
        assert wish.status in ("approved", "offered") and wish.difficulty == "hard"
        assert wish.deadline is not None
        entries = await _audit(web, "wish.approve")
        assert [(e.actor_id, e.object_id) for e in entries] == [(web.admin, str(wish_id))]
        edited = [(ref.message_id, n.kind) for ref, n in web.notifier.edits]
        assert (cards[0].message_id, "staff.wish_review") in edited
        # A bad value is refused kindly and changes nothing.
        other = await web.wish("G01", "帮忙取个快递可以吗")
        bad = await client.post(f"/queue/{other}/reject", data={"csrf": csrf, "reason": " "})
        assert bad.status == 400 and (await _wish(web, other)).status == "submitted"
    finally:
        await client.close()


async def test_grid_staff_see_and_act_on_their_grid_only(web: Web) -> None:
    mine = await web.wish("G01", "第一网格的心愿：修水管")
    theirs = await web.wish("G02", G02_TEXT)
    client = await web.logged_in(web.g01_staff)
    try:
        assert (await client.get(f"/wishes/{theirs}")).status == 404
        assert (await client.get(f"/wishes/{mine}")).status == 200
        for path in ("/queue", "/wishes", f"/wishes?q={theirs}", "/wishes?grid=2", "/overview"):
            page = await (await client.get(path)).text()
            assert G02_TEXT not in page and "第二网格" not in page, path
        for fmt in ("csv", "xlsx"):
            export = await client.get(f"/wishes?format={fmt}")
            assert export.status == 200
            body = await export.read()
            text = body.decode("utf-8-sig") if fmt == "csv" else _xlsx_text(body)
            assert "第一网格的心愿" in text and G02_TEXT not in text
        assert [e.object_id for e in await _audit(web, "web.export")] == ["csv", "xlsx"]
        csrf = await _csrf(client)
        refused = await client.post(
            f"/queue/{theirs}/approve", data={"csrf": csrf, "difficulty": "easy"}
        )
        assert refused.status in (403, 404)
        assert (await _wish(web, theirs)).status == "submitted"
        assert (await client.get("/displays")).status == 403  # community staff only
    finally:
        await client.close()


def _xlsx_text(body: bytes) -> str:
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    return "\n".join(str(c.value) for row in sheet.iter_rows() for c in row)


async def test_exports_write_formula_like_text_as_text(web: Web) -> None:
    await web.wish("G01", '=HYPERLINK("http://x","点我")')
    client = await web.logged_in(web.admin)
    try:
        csv_text = (await (await client.get("/wishes?format=csv")).read()).decode("utf-8-sig")
        assert "'=HYPERLINK" in csv_text
        book = load_workbook(io.BytesIO(await (await client.get("/wishes?format=xlsx")).read()))
        cells = [c for row in book.active.iter_rows() for c in row]  # type: ignore[union-attr]
        risky = [c for c in cells if str(c.value).startswith("=HYPERLINK")]
        assert risky and all(c.data_type == "s" for c in risky)
    finally:
        await client.close()


async def test_display_token_shows_the_big_screen_read_only_until_revoked(web: Web) -> None:
    await web.wish("G01", "第一网格的心愿：修水管")
    staff = await web.logged_in(web.admin)
    wall = await web.client()
    try:
        csrf = await _csrf(staff, "/displays")
        issued = await (
            await staff.post("/displays", data={"csrf": csrf, "label": "街道大厅", "grid": ""})
        ).text()
        url = re.search(r'id="display-url">([^<]+)<', issued)
        assert url
        path = url.group(1).removeprefix(web.app.settings.web.base_url)
        screen = await wall.get(path)
        html = await screen.text()
        assert screen.status == 200 and 'http-equiv="refresh" content="30"' in html
        assert 'class="big"' in html and "csrf" not in html and "/logout" not in html
        assert "default-src 'self'" in screen.headers["Content-Security-Policy"]
        # The token opens nothing else, and acts on nothing.
        assert (await wall.get("/queue", allow_redirects=False)).status == 302
        assert (await wall.post("/displays", data={"label": "x"})).status == 403
        token_id = (await _audit(web, "web.display_issue"))[0].object_id
        await staff.post("/displays", data={"csrf": csrf, "revoke": token_id})
        assert (await wall.get(path)).status == 404
        assert len(await _audit(web, "web.display_revoke")) == 1
    finally:
        await staff.close()
        await wall.close()


async def test_pages_render_in_english_and_charts_are_served(web: Web) -> None:
    wish_id = await web.wish("G01", "Please fix the stair light")
    client = await web.logged_in(web.admin)
    try:
        csrf = await _csrf(client, "/overview")
        await client.post("/language", data={"csrf": csrf, "language": "en", "back": "/overview"})
        html = await (await client.get("/overview?window=7d")).text()
        assert "The community at a glance" in html
        charts = re.findall(r'src="(/charts/[^"]+\.svg)"', html)
        assert len(charts) == 3
        svg = await client.get(charts[0])
        assert svg.status == 200 and svg.content_type == "image/svg+xml"
        assert b"<script" not in await svg.read()
        wish_html = await (await client.get(f"/wishes/{wish_id}")).text()
        assert "History" in wish_html and "Please fix the stair light" in wish_html
    finally:
        await client.close()


async def test_member_record_and_registry_follow_the_grid_scope(web: Web) -> None:
    from bot.db.models import LedgerEntry, Volunteer

    ids = {}
    for name, grid in (("李明", "G01"), ("王二网格", "G02")):
        uid = await web.user(name)
        async with web.app.sessions() as s:
            s.add(
                Volunteer(
                    user_id=uid,
                    name=name,
                    grid_id=web.grids[grid],
                    unit="区供电公司",
                    branch="第三党支部",
                    occupation="电工",
                    status="approved",
                )
            )
            await s.commit()
        ids[grid] = uid
    await web.wish(
        "G01", "修水管", status="verified", volunteer_id=ids["G01"], rating=5, done_at=web.clock()
    )
    async with web.app.sessions() as s:
        s.add(
            LedgerEntry(
                user_id=ids["G01"],
                amount=12,
                kind="award",
                reason="服务 #1",
                source_type="wish",
                source_id="1",
            )
        )
        await s.commit()
    client = await web.logged_in(web.g01_staff)
    try:
        record = await (await client.get(f"/volunteers/{ids['G01']}")).text()
        assert "一人一档" in record and "服务 #1" in record and "今年已服务 1 次" in record
        assert (await client.get(f"/volunteers/{ids['G02']}")).status == 404
        for path in ("/volunteers", "/volunteers?format=csv"):
            body = (await (await client.get(path)).read()).decode("utf-8-sig")
            assert "李明" in body and "王二网格" not in body
    finally:
        await client.close()


async def test_reports_page_and_the_quarterly_evaluation_download(web: Web) -> None:
    admin = await web.logged_in(web.admin)
    grid_staff = await web.logged_in(web.g01_staff)
    try:
        html = await (await admin.get("/reports?month=2026-11")).text()
        assert "报表 · 2026-11" in html and 'id="evaluation"' in html
        assert len(re.findall(r'src="/charts/[^"]+\.svg"', html)) == 1
        got = await admin.get("/reports/evaluation.xlsx?quarter=2026Q3")
        assert got.status == 200 and got.content_type.endswith("spreadsheetml.sheet")
        assert load_workbook(io.BytesIO(await got.read())).sheetnames
        assert [e.object_id for e in await _audit(web, "web.report_download")] == ["2026Q3"]
        assert "第二网格" not in await (await grid_staff.get("/reports")).text()
        refused = await grid_staff.get("/reports/evaluation.xlsx?quarter=2026Q3")
        assert refused.status == 403
        bad = await admin.get("/reports/evaluation.xlsx?quarter=2031Q1")  # the future: refused
        assert bad.status == 400
    finally:
        await admin.close()
        await grid_staff.close()


async def test_projector_shows_a_fresh_check_in_code_and_renews_itself(web: Web) -> None:
    from datetime import timedelta

    from bot.db.models import Event, EventCheckinCode
    from tests.events.test_qr import decode_qr

    now = web.clock()
    ids = []
    async with web.app.sessions() as s:
        for grid in ("G01", "G02"):
            event = Event(
                title=f"{grid} 义诊",
                place="社区广场",
                starts_at=now + timedelta(minutes=10),
                ends_at=now + timedelta(hours=2),
                slots=20,
                signup_deadline=now,
                grid_id=web.grids[grid],
                created_by=web.admin,
            )
            s.add(event)
            await s.flush()
            ids.append(event.id)
        await s.commit()
    client = await web.logged_in(web.g01_staff)
    try:
        listing = await (await client.get("/events")).text()
        assert "G01 义诊" in listing and "G02 义诊" not in listing
        assert (await client.get(f"/events/{ids[1]}/projector")).status == 404
        first = await (await client.get(f"/events/{ids[0]}/projector")).text()
        assert 'http-equiv="refresh" content="60"' in first
        image = re.search(r'src="(/images/[^"]+\.png)"', first)
        assert image
        link = decode_qr(await (await client.get(image.group(1))).read())
        async with web.app.sessions() as s:
            codes = list(await s.scalars(select(EventCheckinCode).order_by(EventCheckinCode.id)))
        assert link == [f"https://t.me/wishbot_demo_bot?start=ci_{codes[0].token}"]
        assert codes[0].pin in first
        await client.get(f"/events/{ids[0]}/projector")  # the page's own reload: a new code
        async with web.app.sessions() as s:
            assert len(list(await s.scalars(select(EventCheckinCode)))) == 2
    finally:
        await client.close()


async def test_broadcasts_progress_and_pause_through_the_broadcast_service(web: Web) -> None:
    from bot.db.models import Broadcast, Volunteer
    from bot.services.outreach import broadcasts

    member = await web.user("李明")
    async with web.app.sessions() as s:
        s.add(
            Volunteer(
                user_id=member,
                name="李明",
                grid_id=web.grids["G01"],
                unit="u",
                branch="b",
                occupation="o",
                status="approved",
            )
        )
        await s.commit()
        segment = broadcasts.Segment(kind="vol_grid", grid_ids=(web.grids["G01"],))
        sent = await broadcasts.create(
            web.app, s, web.admin, broadcasts.Draft("周六上午清理楼道，欢迎报名", None, segment)
        )
    client = await web.logged_in(web.admin)
    try:
        html = await (await client.get("/broadcasts")).text()
        assert "周六上午清理楼道" in html and "发送中" in html and 'http-equiv="refresh"' in html
        csrf = await _csrf(client, "/broadcasts")
        assert (await client.post(f"/broadcasts/{sent.id}/pause", data={})).status == 403
        await client.post(f"/broadcasts/{sent.id}/pause", data={"csrf": csrf})
        async with web.app.sessions() as s:
            row = await s.get(Broadcast, sent.id)
            assert row is not None and row.status == "paused"
        assert len(await _audit(web, "broadcast.pause")) == 1
    finally:
        await client.close()
    other = await web.logged_in(web.g01_staff)  # grid staff follow their own broadcasts only
    try:
        assert "周六上午清理楼道" not in await (await other.get("/broadcasts")).text()
    finally:
        await other.close()


async def test_declarations_are_reviewed_on_the_points_page(web: Web) -> None:
    from bot.db.models import Declaration, LedgerEntry, Volunteer
    from bot.services.points import declarations

    member = await web.user("李明")
    async with web.app.sessions() as s:
        s.add(
            Volunteer(
                user_id=member,
                name="李明",
                grid_id=web.grids["G01"],
                unit="u",
                branch="b",
                occupation="o",
                status="approved",
            )
        )
        await s.commit()
        first = await declarations.submit(
            web.app, s, member, declarations.DeclarationForm("帮邻居修好了自行车", "周六上午", "")
        )
        second = await declarations.submit(
            web.app, s, member, declarations.DeclarationForm("陪老人去医院复查", "周日", "")
        )
    client = await web.logged_in(web.admin)
    try:
        html = await (await client.get("/points")).text()
        assert "帮邻居修好了自行车" in html and "陪老人去医院复查" in html
        csrf = await _csrf(client, "/points")
        done = await client.post(f"/points/approve/{first.id}", data={"csrf": csrf, "amount": "5"})
        assert done.status == 200 and "已通过" in await done.text()
        bad = await client.post(f"/points/reject/{second.id}", data={"csrf": csrf, "reason": ""})
        assert bad.status == 400
        async with web.app.sessions() as s:
            rows = {d.id: d.status for d in await s.scalars(select(Declaration))}
            awards = list(await s.scalars(select(LedgerEntry).where(LedgerEntry.user_id == member)))
        assert rows == {first.id: "approved", second.id: "pending"}
        assert [e.amount for e in awards] == [5]
        assert "李明" in await (await client.get("/points?q=李明")).text()
    finally:
        await client.close()


async def test_pending_volunteers_are_reviewed_in_scope(web: Web) -> None:
    from bot.db.models import Volunteer

    ids = {}
    for name, grid in (("新党员", "G01"), ("别网格", "G02")):
        uid = await web.user(name)
        async with web.app.sessions() as s:
            s.add(
                Volunteer(
                    user_id=uid,
                    name=name,
                    grid_id=web.grids[grid],
                    unit="u",
                    branch="b",
                    occupation="o",
                    status="pending",
                )
            )
            await s.commit()
        ids[grid] = uid
    client = await web.logged_in(web.g01_staff)
    try:
        csrf = await _csrf(client, "/volunteers?status=pending")
        refused = await client.post(
            f"/volunteers/{ids['G02']}/review", data={"csrf": csrf, "decision": "approve"}
        )
        assert refused.status == 404
        await client.post(
            f"/volunteers/{ids['G01']}/review", data={"csrf": csrf, "decision": "approve"}
        )
        async with web.app.sessions() as s:
            status = {v.name: v.status for v in await s.scalars(select(Volunteer))}
        assert status == {"新党员": "approved", "别网格": "pending"}
        assert len(await _audit(web, "volunteer.approved")) == 1
        assert "volunteer.approved" in [n.kind for _, n in web.notifier.sent]
    finally:
        await client.close()
