"""三张清单 end to end: staff keep the resources list in the bot, a wish's review card names the
matching resource, and a service project is followed from creation to its report."""

from __future__ import annotations

import pytest

from bot.demo.stage import Person, Stage
from tests.e2e.seed import resident, volunteer

pytestmark = pytest.mark.e2e


async def test_resources_suggested_on_the_review_card(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    await admin.say("/resources", expect="资源清单还是空的")
    await admin.say("/addresource 飞船 | 名称 | 提供方", expect="类型只能是")
    added = await admin.say(
        "/addresource 设备 | 电工工具箱 | 供电公司第三党支部 | 周末 | 王师傅 | 13900001111 | 维修",
        expect="已加入资源清单",
    )
    assert "13900001111" in added.text  # staff see the contact
    found = await admin.say("/resources 工具", expect="找到 1 项")
    assert "电工工具箱" in found.text
    await admin.say("/resources 法律", expect="没有找到")
    # A repair wish: its review card names the resource (not the phone).
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
    mark = stage.fake.mark()
    await ann.press("没问题", expect="已登记为心愿 #")
    card = await admin.expect("水管漏水", after=mark)
    assert "可用资源：#1 电工工具箱（供电公司第三党支部）" in card.text
    assert "13900001111" not in card.text
    # Switched off, it is no longer suggested.
    shown = await admin.say("/resource 1", expect="电工工具箱")
    await admin.press("停用", message_id=shown.message_id, expect="已停用")
    await ann.say("楼下的门坏了，需要修一下", expect="核对")
    mark = stage.fake.mark()
    await ann.press("没问题", expect="已登记为心愿 #")
    card = await admin.expect("门坏了", after=mark)
    assert "可用资源" not in card.text
    # A resident never reaches the list.
    await ann.say("/resources", expect="工作人员")


async def test_project_from_creation_to_report(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    await volunteer(stage, stage.person(201, "李明"))
    await admin.say("/projects", expect="项目清单还是空的")
    await admin.say("/newproject 银发助餐 | 王书记 | 为80岁以上独居老人送餐", expect="已建项目 #1")
    await admin.say("/milestone 1 摸底走访", expect="1 个里程碑")
    card = await admin.say("/milestone 1 签约餐厅 | 2026-12-31", expect="2 个里程碑")
    assert "期限：2026-12-31" in card.text
    await admin.say("/milestone 1 首批送餐 | 明天", expect="日期请写成")
    await admin.say("/projectlink 1 心愿 999", expect="没有编号为 #999")
    card = await admin.say("/project 1", expect="进度：0%")
    await admin.press("✅ 完成：摸底走访", message_id=card.message_id, expect="进度：50%")
    report = await admin.say("/projects", expect="项目清单 ·")
    assert "银发助餐（王书记）" in report.text and "里程碑 1/2，本月完成 1" in report.text
    await admin.press("🏁 项目完成", message_id=card.message_id, expect="已完成")
    await admin.say("/projects", expect="进度 100%")


async def test_a_redelivered_add_creates_one_resource_and_one_project(
    stage: Stage, admin: Person
) -> None:
    from sqlalchemy import func, select

    from bot.db.models import Project, Resource

    await admin.say("/start")
    first = await admin.say("/addresource 场地 | 活动室 | 社区党委", expect="已加入资源清单")
    mark = stage.fake.mark()
    await stage.fake.redeliver_last(admin.user)
    again = await admin.expect("资源", after=mark)
    await stage.fake.settle(timeout=10)
    assert again.text == first.text
    made = await admin.say("/newproject 楼道微更新 | 李书记", expect="已建项目 #1")
    mark = stage.fake.mark()
    await stage.fake.redeliver_last(admin.user)
    assert (await admin.expect("项目", after=mark)).text == made.text
    await stage.fake.settle(timeout=10)
    async with stage.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Resource)) == 1
        assert await session.scalar(select(func.count()).select_from(Project)) == 1
