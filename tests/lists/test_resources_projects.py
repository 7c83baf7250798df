"""三张清单: the resources list (add, edit, search, suggest for a wish) and the projects list
(milestones, progress, linked wishes and events, the report)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db.models import Event
from bot.services.errors import UserError
from bot.services.lists import projects, resources
from bot.services.reports import evaluations
from bot.services.reports.projects import project_lines
from tests.points.conftest import World

LINE = "场地|党群服务中心活动室|幸福社区党委|工作日 9:00-17:00|刘主任|0510-8123456|儿童,其他"


async def test_parse_add_search_and_scope(both: World) -> None:
    world = both
    staff = await world.staff("书记")
    grid_staff = await world.staff("网格员", grid="G01")
    other_grid = await world.staff("网格员二", grid="G02")
    form = resources.parse_line(world.app, LINE)
    assert form.kind == "venue" and form.categories == ("children", "other")
    assert form.contact_phone == "0510-8123456"
    async with world.app.sessions() as session:
        hall = await resources.add(world.app, session, staff, form)
        tools = await resources.add(
            world.app,
            session,
            grid_staff,
            resources.parse_line(world.app, "设备|电工工具箱|供电公司第三党支部|周末|王师傅||维修"),
        )
    assert hall.grid_id is None and tools.grid_id == world.grids["G01"]
    async with world.app.sessions() as session:
        # Search by words of the title, provider, time, kind or category (either language).
        found = await resources.search_for_staff(world.app, session, staff, "工具 周末")
        assert [r.id for r in found] == [tools.id]
        assert [
            r.id for r in await resources.search_for_staff(world.app, session, staff, "repair")
        ] == [tools.id]
        assert [
            r.id for r in await resources.search_for_staff(world.app, session, staff, "场地")
        ] == [hall.id]
        # Grid staff see their grid's and community-wide ones; other grids' stay hidden.
        seen = await resources.search_for_staff(world.app, session, other_grid)
        assert [r.id for r in seen] == [hall.id]
        with pytest.raises(UserError) as hidden:
            await resources.get(session, other_grid, tools.id)
        assert hidden.value.key == "resources.unknown"
        with pytest.raises(UserError) as not_theirs:
            await resources.set_active(world.app, session, grid_staff, hall.id, False)
        assert not_theirs.value.key == "lists.not_your_grid"


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("场地 | 只有名称", "resources.usage"),
        ("飞船 | 名称 | 提供方", "resources.kind_invalid"),
        ("场地 | 名称 | 提供方 | | | | 不存在的类别", "resources.category_invalid"),
        ("场地 | | 提供方", "resources.field_invalid"),
        ("场地 | 名称 | 提供方 | 周末 | 张三 | 12", "errors.phone"),
    ],
)
def test_bad_lines_are_refused_kindly(world: World, line: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        resources.parse_line(world.app, line)
    assert err.value.key == key


async def test_suggestions_follow_category_grid_and_switch(world: World) -> None:
    staff = await world.staff("书记")
    grid_staff = await world.staff("网格员", grid="G02")
    async with world.app.sessions() as session:
        tools = await resources.add(
            world.app,
            session,
            grid_staff,
            resources.parse_line(world.app, "设备|工具箱|物业|全天|||维修"),
        )
        lawyer = await resources.add(
            world.app,
            session,
            staff,
            resources.parse_line(world.app, "技能|法律咨询|律师事务所|周六上午|||法律"),
        )
    async with world.app.sessions() as session:
        assert [
            r.id for r in await resources.suggest_for(session, "repair", world.grids["G02"])
        ] == [tools.id]
        assert await resources.suggest_for(session, "repair", world.grids["G01"]) == []
        assert [
            r.id for r in await resources.suggest_for(session, "legal", world.grids["G01"])
        ] == [lawyer.id]
        await resources.set_active(world.app, session, staff, lawyer.id, False)
        assert await resources.suggest_for(session, "legal", world.grids["G01"]) == []
        edited = await resources.edit(
            world.app,
            session,
            grid_staff,
            tools.id,
            resources.parse_line(world.app, "设备|工具箱和梯子|物业|全天|||维修,环境"),
        )
    assert edited.title == "工具箱和梯子" and edited.categories == ("repair", "environment")


async def test_project_progress_links_and_report(both: World) -> None:
    world = both
    staff = await world.staff("书记")
    vol = await world.volunteer()
    title, owner, goal = projects.parse_project("银发助餐 | 王书记 | 为80岁以上独居老人送餐")
    async with world.app.sessions() as session:
        view = await projects.create(world.app, session, staff, title, owner, goal)
    assert view.progress is None and view.status == "active"
    async with world.app.sessions() as session:
        for line in ("摸底走访", "签约餐厅 | 2026-12-31", "首批送餐"):
            name, due = projects.parse_milestone(world.app, line)
            view = await projects.add_milestone(world.app, session, staff, view.id, name, due)
    assert [m.title for m in view.milestones] == ["摸底走访", "签约餐厅", "首批送餐"]
    assert view.milestones[1].due_at is not None
    served = await world.wish(vol, status="verified")
    waiting = await world.wish(None, status="approved")
    async with world.app.sessions() as session:
        event = Event(
            title="助餐启动仪式",
            place="党群服务中心",
            starts_at=world.clock.now + timedelta(days=1),
            ends_at=world.clock.now + timedelta(days=1, hours=2),
            slots=10,
            signup_deadline=world.clock.now,
            created_by=staff,
        )
        session.add(event)
        await session.commit()
        event_id = event.id
    async with world.app.sessions() as session:
        await projects.link(world.app, session, staff, view.id, "心愿", served)
        await projects.link(world.app, session, staff, view.id, "wish", waiting)
        await projects.link(world.app, session, staff, view.id, "wish", served)  # twice: once
        view = await projects.link(world.app, session, staff, view.id, "活动", event_id)
        first = view.milestones[0].id
        view = await projects.complete_milestone(world.app, session, staff, view.id, first)
        view = await projects.complete_milestone(world.app, session, staff, view.id, first)
        with pytest.raises(UserError) as unknown:
            await projects.link(world.app, session, staff, view.id, "wish", 99999)
    assert unknown.value.key == "projects.link_unknown"
    assert [w for w, _ in view.wishes] == [served, waiting] and view.wishes_served == 1
    assert view.milestones_done == 1 and view.progress == pytest.approx(1 / 3)
    now = world.clock.now.astimezone(world.app.settings.tz)
    period = evaluations.month_period(world.app.settings.tz, now.year, now.month)
    async with world.app.sessions() as session:
        (line,) = await project_lines(session, None, period)
    assert (line.milestones_done, line.milestones, line.milestones_in_period) == (1, 3, 1)
    assert (line.wishes_served, line.wishes, line.events) == (1, 2, 1)
    async with world.app.sessions() as session:
        done = await projects.finish(world.app, session, staff, view.id)
        with pytest.raises(UserError) as finished:
            await projects.add_milestone(world.app, session, staff, view.id, "再加一个")
    assert done.progress == 1.0 and finished.value.key == "projects.finished"


async def test_grid_staff_keep_their_own_projects(world: World) -> None:
    community = await world.staff("书记")
    g1 = await world.staff("网格员", grid="G01")
    g2 = await world.staff("网格员二", grid="G02")
    async with world.app.sessions() as session:
        mine = await projects.create(world.app, session, g1, "楼道微更新", "网格员", "")
        shared = await projects.create(world.app, session, community, "书记项目", "书记", "")
    async with world.app.sessions() as session:
        assert [p.id for p in await projects.listing_for_staff(session, g2)] == [shared.id]
        assert {p.id for p in await projects.listing_for_staff(session, community)} == {
            mine.id,
            shared.id,
        }
        with pytest.raises(UserError):
            await projects.add_milestone(world.app, session, g2, mine.id, "越权")
        with pytest.raises(UserError) as shared_err:
            await projects.finish(world.app, session, g1, shared.id)
    assert shared_err.value.key == "lists.not_your_grid"
