"""A wish from the poster's web form (H5) through the real bot: staff approve it from their
Telegram card, a volunteer claims it and is told to phone (the resident has no chat), and the
resident's status page shows the volunteer's given name."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.db.models import Wish
from bot.demo.stage import Person, Stage
from bot.services.outreach.posters import PosterPlace, form_link
from bot.services.web_access import settings_signing_key
from bot.web.app import make_web_app
from tests.e2e.seed import volunteer

pytestmark = pytest.mark.e2e

PHONE = "13800138000"


async def test_a_web_form_wish_is_approved_by_staff_and_claimed_by_a_volunteer(
    stage: Stage, admin: Person
) -> None:
    await admin.say("/start")
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    settings = stage.app.settings
    link = form_link(settings.web.base_url, settings_signing_key(settings), PosterPlace("G02", "8"))
    client = TestClient(TestServer(make_web_app(stage.app, "wishbot_demo_bot")))
    await client.start_server()
    try:
        form = await (await client.get(link.removeprefix(settings.web.base_url))).text()
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
        fields = {
            **hidden,
            "text": "厨房水管漏水了，周六上午有人能来修吗",
            "room": "2单元302",
            "name": "刘大爷",
            "phone": PHONE,
            "consent": "1",
            "website": "",
            "step": "confirm",
            "category": "repair",
        }
        mark = stage.fake.mark()
        filed = await client.post("/h5", data=fields, allow_redirects=False)
        assert filed.status == 303, await filed.text()
        status_path = filed.headers["Location"]
        # Staff's Telegram card carries the web mark and the call-back details; they approve.
        card = await admin.expect("网页提交 · 待电话核实", after=mark)
        assert PHONE in card.text
        await admin.press("✅ 通过", message_id=card.message_id, expect="难度")
        await admin.press("一般", expect="期限")
        mark = stage.fake.mark()
        await admin.press("不限", expect="已通过")
        offer = await li.expect("适合您", after=mark)
        assert PHONE not in offer.text and "刘大爷" not in offer.text
        mark = stage.fake.mark()
        await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
        details = await li.expect("2单元302", after=mark)
        assert "没有 Telegram" in details.text and PHONE not in details.text
        page = await (await client.get(status_path)).text()
        assert 'id="volunteer">明<' in page and "李明" not in page
    finally:
        await client.close()
    async with stage.app.sessions() as session:
        wish = (await session.scalars(select(Wish))).one()
        assert wish.status == "claimed" and wish.volunteer_id == li_uid
