"""三张清单 on the dashboard: search, add (CSRF), switch off, projects with progress, scope."""

from __future__ import annotations

import re

from bot.db.models import Wish
from bot.services.lists import projects
from tests.web.conftest import Web


async def _csrf(client, path: str = "/lists") -> str:  # type: ignore[no-untyped-def]
    html = await (await client.get(path)).text()
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_lists_page_adds_searches_and_switches(web: Web) -> None:
    client = await web.logged_in(web.admin)
    grid_client = await web.logged_in(web.g01_staff)
    try:
        page = await client.get("/lists")
        assert page.status == 200 and "三张清单" in await page.text()
        form = {
            "kind": "venue",
            "title": "党群服务中心活动室",
            "provider": "幸福社区党委",
            "available": "工作日",
            "contact": "刘主任",
            "phone": "0510-8123456",
            "categories": "儿童",
        }
        refused = await client.post("/lists/resources", data=form, allow_redirects=False)
        assert refused.status == 403  # no CSRF token: nothing added
        csrf = await _csrf(client)
        added = await client.post(
            "/lists/resources", data={**form, "csrf": csrf}, allow_redirects=False
        )
        assert added.status == 302
        bad = await client.post(
            "/lists/resources", data={**form, "csrf": csrf, "categories": "不存在"}
        )
        assert "不认识的类别" in await bad.text()
        tutoring = await web.wish("G01", "孩子作业没人辅导")
        async with web.app.sessions() as session:
            row = await session.get(Wish, tutoring)
            assert row is not None
            row.category = "children"
            await session.commit()
        await web.wish("G02", "水管漏了")  # repair: no resource for it yet
        needs = await (await client.get("/lists")).text()
        table = needs[needs.index('class="data list needs"') :]
        assert re.search(r"儿童关爱与辅导</td><td>1</td><td>1</td>", table)
        assert re.search(r"家居维修</td><td>1</td><td><strong>0</strong>", table)
        grid_needs = await (await grid_client.get("/lists")).text()
        assert "家居维修" not in grid_needs[: grid_needs.index("资源清单</h2>")]  # G02's
        html = await (await client.get("/lists?q=活动室")).text()
        assert "党群服务中心活动室" in html and "0510-8123456" in html and "儿童关爱与辅导" in html
        assert "党群服务中心活动室" not in await (await client.get("/lists?q=法律")).text()
        # Grid staff see the community's resources; they may not switch them off.
        assert "党群服务中心活动室" in await (await grid_client.get("/lists")).text()
        grid_csrf = await _csrf(grid_client)
        denied = await grid_client.post("/lists/resources/1/off", data={"csrf": grid_csrf})
        assert "不属于您负责的网格" in await denied.text()
        off = await client.post(
            "/lists/resources/1/off", data={"csrf": csrf}, allow_redirects=False
        )
        assert off.status == 302
        assert "重新启用" in await (await client.get("/lists")).text()
    finally:
        await client.close()
        await grid_client.close()


async def test_projects_on_the_dashboard(web: Web) -> None:
    async with web.app.sessions() as session:
        view = await projects.create(web.app, session, web.admin, "银发助餐", "王书记", "送餐")
        view = await projects.add_milestone(web.app, session, web.admin, view.id, "摸底")
        view = await projects.add_milestone(web.app, session, web.admin, view.id, "签约")
        await projects.complete_milestone(
            web.app, session, web.admin, view.id, view.milestones[0].id
        )
    client = await web.logged_in(web.g01_staff)
    try:
        html = await (await client.get("/lists")).text()
        assert "银发助餐" in html and "50%" in html and "1/2 (+1)" in html
    finally:
        await client.close()
