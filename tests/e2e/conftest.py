"""End-to-end: the real bot (BotRunner, long polling) against the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.demo.stage import Person, Stage
from tests.conftest import ManualClock

ADMIN = 9001


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    async with Stage(sqlite_url, admins=(ADMIN,), clock=clock) as s:
        yield s


@pytest.fixture
def admin(stage: Stage) -> Person:
    return stage.person(ADMIN, "王主任")


async def register_resident(
    person: Person, grid_button: str = "第二网格", building: str = "8栋1单元"
) -> None:
    await resident_until_phone(person, grid_button, building)
    await person.say("跳过", expect="登记完成")


async def resident_until_phone(
    person: Person, grid_button: str = "第二网格", building: str = "8栋1单元"
) -> None:
    """A resident's registration up to the phone question (consent given)."""
    await person.say("/start", expect="身份")
    await person.press("我是居民", expect="网格")
    await person.press(grid_button, expect="楼栋")
    await person.say(building, expect="隐私")
    await person.press("同意", expect="电话")


async def register_volunteer(
    person: Person, admin: Person, name: str = "李明", skills: tuple[str, ...] = ("家居维修",)
) -> None:
    await person.say("/start", expect="身份")
    await person.press("我是在职党员", expect="姓名")
    await person.say(name, expect="网格")
    await person.press("第二网格", expect="工作单位")
    await person.say("区供电公司", expect="党组织")
    await person.say("供电公司第三党支部", expect="职业")
    await person.say("电工", expect="服务")
    for skill in skills:
        await person.press(skill)
    await person.press("完成", expect="特长")
    await person.say("水电维修", expect="有空")
    await person.press("工作日晚上")
    await person.press("周六上午")
    await person.press("完成", expect="最多")
    await person.press("2", expect="核对")
    mark = admin.stage.fake.mark()
    await person.press("提交", expect="审核")
    card = await admin.expect(name, after=mark)
    assert "通过" in " ".join(card.button_texts())
    await admin.press("✅ 通过", message_id=card.message_id, expect="已通过")
    await person.expect("通过了")
