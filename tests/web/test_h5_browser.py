"""The web wish form in a real browser at a phone's size (375×667) with a WeChat-like user
agent: the poster's link → form → confirm → status page. No script on the page, no console
error, no request to any other host; screenshots go to tmp_path."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from bot.db.models import Wish
from bot.services.intake.web_form import is_web_filed
from tests.web.conftest import Web
from tests.web.test_browser import browser  # noqa: F401  (the fixture)
from tests.web.test_h5 import _form_path

pytestmark = [pytest.mark.browser]
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 "
    "XWEB/5061 MMWEBSDK/20230504 MMWEBID/1234 MicroMessenger/8.0.37.2380(0x2800253D) "
    "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)


async def test_a_resident_files_a_wish_from_a_phone_in_wechat(
    web: Web,
    browser: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    client = await web.client()
    base = str(client.make_url("")).rstrip("/")
    own_host = urlparse(base).netloc
    context = await browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 375, "height": 667},
        user_agent=WECHAT_UA,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    page = await context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: foreign.append(r.url) if urlparse(r.url).netloc != own_host else None,
    )
    try:
        await page.goto(base + _form_path(web))
        assert await page.input_value("#building") == "8"
        size = await page.eval_on_selector("#text", "e => getComputedStyle(e).fontSize")
        assert float(size.removesuffix("px")) >= 18  # large type for elderly eyes
        await page.screenshot(path=str(tmp_path / "h5-form.png"), full_page=True)
        await page.fill("#text", "明天上午帮我去医院取药，腿脚不方便")
        await page.fill("#room", "2单元302")
        await page.fill("#name", "刘大爷")
        await page.fill("#phone", "13800138000")
        await page.check("input[name=consent]")
        await page.click("#h5-form button[type=submit]")
        await page.wait_for_selector("#h5-confirm")
        await page.screenshot(path=str(tmp_path / "h5-confirm.png"), full_page=True)
        await page.click("#h5-confirm button[type=submit]")
        await page.wait_for_selector("#status")
        assert await page.inner_text("#status") == "待审核"
        assert "/h5/s/" in page.url and "138" not in page.url
        await page.screenshot(path=str(tmp_path / "h5-status.png"), full_page=True)
        # Nothing wider than the phone: no sideways scrolling.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
    finally:
        await context.close()
        await client.close()
    assert not errors, errors
    assert not foreign, foreign
    async with web.app.sessions() as s:
        wish = (await s.scalars(select(Wish))).one()
        assert wish.status == "submitted" and is_web_filed(wish)
