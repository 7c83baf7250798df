"""The dashboard in a real browser: Debian's chromium driven by Playwright (no browser
download), against the real bot on the fake Bot API server.

Log in through the link the bot sends, approve a wish from the queue and see the bot's review
card change, open a member's record, download a report (in Chinese, then English), open the big
screen: charts rendered, no console error, no request to any other
host. Screenshots go to tmp_path; WISHBOT_UPDATE_SCREENSHOTS=1 also refreshes the overview
in docs/ (the README shows it), so a test run never changes the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.demo.history import seed_history
from bot.demo.stage import Stage
from bot.fakeapi.records import BotMessage
from tests.conftest import ManualClock
from tests.e2e.seed import resident

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs"
ADMIN = 9001


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    port = _free_port()
    async with Stage(
        sqlite_url, admins=(ADMIN,), clock=clock, web={"host": "127.0.0.1", "port": port}
    ) as s:
        yield s


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            await b.close()


async def test_staff_log_in_from_the_bot_approve_a_wish_and_watch_the_big_screen(
    stage: Stage, browser: object, tmp_path: Path
) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    resident_person = stage.person(5001, "张阿姨")
    await resident(stage, resident_person, grid="G02")
    mark = stage.fake.mark()
    await resident_person.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
    await resident_person.press("没问题", expect="已登记为心愿")
    card = await admin.expect("新的微心愿待审核", after=mark)
    await seed_history(stage.app)  # a month of past service, so the charts have data
    assert "待审核" in card.text and card.buttons

    link_message = await admin.say("/web", expect="登录链接")
    url = re.search(r"http://\S+", link_message.text)
    assert url, link_message.text
    base = stage.app.settings.web.base_url
    own_host = urlparse(base).netloc

    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")  # type: ignore[attr-defined]
    page = await context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: foreign.append(r.url) if urlparse(r.url).netloc != own_host else None,
    )

    await page.goto(url.group(0))
    await page.click("#login")
    await page.wait_for_url(f"{base}/overview")
    assert await page.locator("h1").inner_text() == "一屏观全域"
    assert await page.locator(".kpi b").first.inner_text() != "0"  # the month's wishes count
    overview = tmp_path / "dashboard-overview.png"
    await page.screenshot(path=str(overview), full_page=True)
    if os.environ.get("WISHBOT_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(overview, DOCS / "dashboard-overview.png")

    await page.goto(f"{base}/queue")
    wish = page.locator("article.wish").first
    assert "厨房水管漏水了" in await wish.inner_text()
    await wish.locator("select[name=difficulty]").select_option("hard")
    await wish.locator("form[action$='/approve'] select[name=deadline]").select_option("7")
    await page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)
    await wish.locator("button[data-action=approve]").click()
    await page.wait_for_selector(".notice.good")
    assert "已通过" in await page.locator(".notice.good").inner_text()

    def the_card() -> BotMessage:
        return next(m for m in stage.fake.messages(ADMIN) if m.message_id == card.message_id)

    await stage.fake.wait_for(lambda: the_card().edited, timeout=10)
    now_card = the_card()
    assert "状态：已受理" in now_card.text and not now_card.buttons, now_card.text

    await page.goto(f"{base}/wishes")
    await page.screenshot(path=str(tmp_path / "wishes.png"), full_page=True)
    await page.click("table.list a")
    await page.wait_for_selector("text=办理经过")
    await page.screenshot(path=str(tmp_path / "wish.png"), full_page=True)

    # A member's whole record (一人一档), and a report downloaded.
    await page.goto(f"{base}/volunteers")
    await page.click("table.list a")
    await page.wait_for_selector("text=一人一档")
    await page.screenshot(path=str(tmp_path / "member.png"), full_page=True)
    await page.goto(f"{base}/reports")
    async with page.expect_download() as download_info:
        await page.click("#evaluation")
    download = await download_info.value
    assert download.suggested_filename.startswith("evaluation-")
    await download.save_as(tmp_path / "evaluation.xlsx")
    await page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)

    await page.goto(f"{base}/overview?window=30d&big=1")
    assert await page.get_attribute("meta[http-equiv=refresh]", "content") == "30"
    images = page.locator("figure.chart img")
    assert await images.count() == 3
    for i in range(3):
        width = await images.nth(i).evaluate("img => img.complete && img.naturalWidth")
        assert width and width > 0, f"chart {i} did not render"
    await page.screenshot(path=str(tmp_path / "big-screen.png"), full_page=True)

    # The escalations list, the points ledger, and a roster through its dry run (issue 11).
    await page.goto(f"{base}/escalations")
    await page.wait_for_selector("#escalations")
    await page.screenshot(path=str(tmp_path / "escalations.png"), full_page=True)
    await page.goto(f"{base}/points")
    await page.wait_for_selector("#ledger-rows")
    await page.screenshot(path=str(tmp_path / "points.png"), full_page=True)
    await page.goto(f"{base}/volunteers/roster")
    roster = "姓名,单位,网格,电话\n张新党,区医院,G01,13800001234\n王无网,区医院,G99,\n"
    await page.set_input_files(
        "input[name=file]",
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": roster.encode()}],
    )
    await page.click("#roster-upload button")
    await page.wait_for_selector("#roster-preview")
    assert await page.inner_text("#n-new") == "1" and await page.inner_text("#n-errors") == "1"
    await page.screenshot(path=str(tmp_path / "roster-preview.png"), full_page=True)
    await page.click("#roster-apply")
    await page.wait_for_selector("text=名单已导入")

    # English, same session.
    await page.goto(f"{base}/overview")
    await page.click("button[value=en]")
    await page.wait_for_selector("text=The community at a glance")
    await page.screenshot(path=str(tmp_path / "overview-en.png"), full_page=True)
    await page.goto(f"{base}/volunteers")
    await page.click("table.list a")
    await page.wait_for_selector("text=member record")
    await page.goto(f"{base}/reports")
    async with page.expect_download() as download_info:
        await page.click("#evaluation")
    assert (await download_info.value).suggested_filename.endswith(".xlsx")
    await page.goto(f"{base}/queue")
    assert "Review queue" in await page.locator("h1").inner_text()
    await context.close()

    assert errors == [], errors
    assert foreign == [], foreign
