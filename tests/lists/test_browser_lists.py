"""三张清单 in a real browser (Debian's chromium): log in from the bot, add a resource with the
form, search it, switch it off; the projects table shows progress. No console error, no
request to another host. Screenshots go to tmp_path."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.demo.stage import Stage
from bot.services.lists import projects
from tests.conftest import ManualClock
from tests.e2e.seed import user_id
from tests.web.test_browser import ADMIN, CHROMIUM, _free_port

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
async def wstage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    port = _free_port()
    async with Stage(
        sqlite_url, admins=(ADMIN,), clock=clock, web={"host": "127.0.0.1", "port": port}
    ) as s:
        yield s


@pytest.fixture
async def chromium() -> AsyncIterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            await b.close()


async def test_lists_page_in_a_browser(wstage: Stage, chromium: object, tmp_path: Path) -> None:
    stage = wstage
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    async with stage.app.sessions() as session:
        view = await projects.create(stage.app, session, admin_uid, "银发助餐", "王书记", "送餐")
        view = await projects.add_milestone(stage.app, session, admin_uid, view.id, "摸底走访")
        await projects.add_milestone(stage.app, session, admin_uid, view.id, "签约餐厅")
        await projects.complete_milestone(
            stage.app, session, admin_uid, view.id, view.milestones[0].id
        )
    link = await admin.say("/web", expect="登录链接")
    url = re.search(r"http://\S+", link.text)
    assert url
    base = stage.app.settings.web.base_url
    own_host = urlparse(base).netloc
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = await context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: foreign.append(r.url) if urlparse(r.url).netloc != own_host else None,
    )
    await page.goto(url.group(0))
    await page.click("#login")
    await page.wait_for_url(f"{base}/overview")
    await page.click("nav >> text=清单")
    await page.wait_for_url(f"{base}/lists")
    assert await page.locator("h1").inner_text() == "三张清单"
    await page.select_option("select[name=kind]", "equipment")
    await page.fill("input[name=title]", "电工工具箱")
    await page.fill("input[name=provider]", "供电公司第三党支部")
    await page.fill("input[name=available]", "周末")
    await page.fill("input[name=contact]", "王师傅")
    await page.fill("input[name=phone]", "13900001111")
    await page.fill("input[name=categories]", "维修")
    await page.click("form[action='/lists/resources'] button")
    await page.wait_for_selector("text=电工工具箱")
    row = page.locator("#resources tbody tr").first
    assert "家居维修" in await row.inner_text() and "13900001111" in await row.inner_text()
    assert "家居维修\t0\t1" in await page.locator("#needs").inner_text()  # offered, not needed
    await page.fill("input[name=q]", "法律")
    await page.click("form.filters[method=get] button")
    await page.wait_for_url(re.compile(r".*/lists\?q=.*"))
    assert "电工工具箱" not in await page.locator("#resources").inner_text()
    await page.goto(f"{base}/lists")
    await page.click("text=停用")
    await page.wait_for_selector("text=重新启用")
    projects_table = page.locator("#projects")
    text = await projects_table.inner_text()
    assert "银发助餐" in text and "50%" in text and "1/2 (+1)" in text
    await page.screenshot(path=str(tmp_path / "lists.png"), full_page=True)
    print(tmp_path / "lists.png")
    assert errors == [] and foreign == []
