"""The demo's 党群接单 scene: a resident signs up as a 群众志愿者 and helps a neighbour."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.demo.stage import Person, Stage

if TYPE_CHECKING:
    from bot.demo.run import Transcript


async def resident_helps(
    stage: Stage, log: Transcript, admin: Person, ann: Person, liu: Person
) -> None:
    """党群接单: Ann, a resident, signs up as a 群众志愿者 and fixes a neighbour's door."""
    log.section("党群接单 · a resident helps too")
    await ann.say("/helper", expect="群众志愿者")
    await ann.say("张阿姨", expect="帮邻居")
    await ann.press("家居维修")
    await ann.press("完成", expect="有空")
    await ann.press("周六上午")
    await ann.press("完成", expect="核对")
    mark = stage.fake.mark()
    await ann.press("提交", expect="审核通过后")
    card = await admin.expect("群众志愿者", after=mark)
    await admin.press("✅ 通过", message_id=card.message_id, expect="已通过")
    await liu.say("单元门的闭门器坏了，门老是关不上", expect="核对")
    mark = stage.fake.mark()
    await liu.press("没问题", expect="已登记为心愿 #")
    card = await admin.expect("闭门器", after=mark)
    await admin.press("✅ 通过", message_id=card.message_id, expect="难度")
    await admin.press("一般", expect="期限")
    mark = stage.fake.mark()
    await admin.press("7天", expect="已通过")
    offer = await ann.expect("闭门器", after=mark)
    mark = stage.fake.mark()
    await ann.press("我来接单", message_id=offer.message_id, expect="接单成功")
    task = await ann.expect("8栋2单元", after=mark)
    await ann.press("✅ 已完成", message_id=task.message_id, expect="完成情况")
    mark = stage.fake.mark()
    await ann.say("换了闭门器的弹簧，门能关上了", expect="标记完成")
    ask = await liu.expect("打个分", after=mark)
    mark = stage.fake.mark()
    await liu.press("⭐⭐⭐⭐⭐", message_id=ask.message_id, expect="谢谢您的评价")
    verify = await admin.expect("请核实", after=mark)
    mark = stage.fake.mark()
    await admin.press("✅ 核实通过", message_id=verify.message_id, expect="已核实")
    await ann.expect("社区已核实", after=mark)
    await admin.say("/rates", expect="群众志愿者")
