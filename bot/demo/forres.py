"""The demo's 代办 scene: a grid worker files a wish for an elderly resident who has no
Telegram, and (with --keep) another resident files one from the poster's web link (H5)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import aiohttp

from bot.demo.stage import Person, Stage

if TYPE_CHECKING:
    from bot.demo.run import Transcript

WORKER_ID = 301
NAMES = {WORKER_ID: "赵网格员(网格员)"}


async def filing_on_behalf(stage: Stage, log: Transcript, admin: Person, chen: Person) -> None:
    """Zhao joins as G01's grid worker, visits 孙奶奶 (no Telegram), files her wish with her
    spoken consent and approves it; Chen takes it and is told to phone her; Zhao hears it."""
    log.names.update(NAMES)
    worker = stage.person(WORKER_ID, "赵网格员")
    invite = await admin.say("/invite staff G01", expect="邀请链接")
    code = invite.text.rsplit("?start=", 1)[1].split()[0]
    await worker.say(f"/start {code}", expect="欢迎加入")
    await worker.say("/forresident", expect="电话后四位")
    await worker.say("孙奶奶", expect="没有找到")
    await worker.press("新建居民记录", expect="怎么称呼")
    await worker.say("孙奶奶", expect="哪一栋")
    await worker.say("3栋1单元201", expect="联系电话")
    await worker.say("13900001111", expect="当面问")
    await worker.press("口头同意", expect="的心愿")
    await worker.say("周六上午想请人陪我去社区医院量血压，腿脚不好", expect="请核对")
    mark = stage.fake.mark()
    await worker.press("确认提交", expect="已为孙奶奶登记心愿 #")
    card = await worker.expect("量血压", after=mark)  # G01's review card is the worker's
    await worker.press("✅ 通过", message_id=card.message_id, expect="难度")
    await worker.press("一般", expect="期限")
    mark = stage.fake.mark()
    await worker.press("7天", expect="已通过")
    offer = await chen.expect("量血压", after=mark)
    mark = stage.fake.mark()
    await chen.press("我来接单", message_id=offer.message_id, expect="接单成功")
    await chen.expect("没有 Telegram", after=mark)
    await worker.expect("接单了", after=mark)


async def web_form_wish(stage: Stage, log: Transcript, admin: Person, form_link: str) -> None:
    """A resident without Telegram opens the poster's web link and files a wish (--keep)."""
    mark = stage.fake.mark()
    async with aiohttp.ClientSession() as http:
        async with http.get(form_link) as response:
            form = await response.text()
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
        fields = {
            **hidden,
            "text": "楼下的路灯不亮了，晚上出门看不清",
            "room": "1单元101",
            "name": "周阿姨",
            "phone": "13700001111",
            "consent": "1",
            "website": "",
            "step": "confirm",
            "category": "environment",
        }
        base = form_link.split("/h5?", 1)[0]
        async with http.post(f"{base}/h5", data=fields, allow_redirects=False) as filed:
            status = filed.headers.get("Location", "")
    log.say(log.t("demo.web_form_filed", link=f"{base}{status}"))
    await admin.expect("网页提交", after=mark)


def poster_form_link(stage: Stage, log: Transcript) -> str:
    """The web link (H5) on the poster of G02's building 9, the one Ann scanned."""
    from bot.poster_cli import DEMO_BOT_USERNAME, poster_content

    return poster_content(stage.app.settings, "G02", "9", DEMO_BOT_USERNAME, log.t).form_link
