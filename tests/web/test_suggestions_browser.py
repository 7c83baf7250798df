"""The suggestions page in a real browser (Debian's chromium): reached from the nav, the
month's figures and the list render, no console error, no foreign request; screenshot in tmp."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.demo.stage import Stage
from tests.e2e.seed import resident
from tests.web.test_browser import ADMIN, browser, stage  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def test_suggestions_page_in_a_browser(
    stage: Stage,  # noqa: F811
    browser: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    ann = stage.person(5001, "张阿姨")
    await resident(stage, ann, grid="G02")
    await ann.say("/suggest 建议小区门口装个遮雨棚，下雨天等车都淋湿了", expect="已收到")
    link = await admin.say("/web", expect="登录链接")
    url = re.search(r"http://\S+", link.text)
    assert url
    base = stage.app.settings.web.base_url
    own = urlparse(base).netloc
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = await context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: foreign.append(r.url) if urlparse(r.url).netloc != own else None)
    await page.goto(url.group(0))
    await page.click("#login")
    await page.wait_for_url(f"{base}/overview")
    await page.click("nav >> text=居民建议")
    await page.wait_for_url(f"{base}/suggestions")
    body = await page.inner_text("main")
    assert "遮雨棚" in body and "已收到" in body
    assert "1" in await page.inner_text("#suggestion-figures")
    await page.screenshot(path=str(tmp_path / "suggestions.png"), full_page=True)
    assert errors == [] and foreign == []
    await context.close()
