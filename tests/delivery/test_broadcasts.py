"""Segments and the broadcast service: who gets it, pause, resume, cancel, the final report."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.db.models import Grid, Resident, Staff, User, Volunteer
from bot.db.models.delivery import Broadcast
from bot.delivery import segments
from bot.services.errors import UserError
from bot.services.outreach import broadcasts
from bot.services.outreach.broadcasts import Draft, Segment
from tests.delivery.conftest import World

CONSENT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Town:
    grids: dict[str, int]  # code → id
    staff: int  # community-wide staff
    grid_staff: int  # the worker of G02 only
    vols: dict[str, int]  # name → user id
    residents: dict[str, int]


async def _town(world: World) -> Town:
    async with world.app.sessions() as session:
        grid_ids = {g.code: g.id for g in await session.scalars(select(Grid))}
    people = await world.people(11)
    (staff, grid_staff, li, wang, zhao, qian, sun, zhou, wu, res1, res2) = people
    async with world.app.sessions() as session:
        session.add_all(
            [
                Staff(user_id=staff, scope="community"),
                Staff(user_id=grid_staff, scope="grid", grid_id=grid_ids["G02"]),
                _vol(li, "李明", grid_ids["G02"], "区供电公司", ["repair"], ["sat_morning"]),
                _vol(wang, "王芳", grid_ids["G01"], "第一中学", ["education"], ["weekday_evening"]),
                _vol(zhao, "赵强", grid_ids["G09"], "河西医院", ["health"], ["sat_morning"]),
                _vol(qian, "钱进", grid_ids["G02"], "市供电局", ["repair", "digital"], []),
                _vol(sun, "孙悦", grid_ids["G02"], "区供电公司", ["repair"], [], status="pending"),
                _vol(zhou, "周全", grid_ids["G01"], "Power Grid Co", ["errands"], ["sun_morning"]),
                _vol(wu, "吴用", grid_ids["G02"], "区供电公司", ["repair"], ["sat_morning"]),
                Resident(user_id=res1, grid_id=grid_ids["G02"], consent_at=CONSENT),
                Resident(user_id=res2, grid_id=grid_ids["G01"], consent_at=CONSENT),
            ]
        )
        blocked = await session.get(User, wu)
        assert blocked is not None
        blocked.is_blocked = True  # blocked the bot: never in a segment
        g2 = await session.get(Grid, grid_ids["G02"])
        assert g2 is not None
        g2.group_chat_id = -100_002
        await session.commit()
    return Town(
        grids=grid_ids,
        staff=staff,
        grid_staff=grid_staff,
        vols={"li": li, "wang": wang, "zhao": zhao, "qian": qian, "sun": sun, "zhou": zhou},
        residents={"g02": res1, "g01": res2},
    )


def _vol(
    user_id: int,
    name: str,
    grid_id: int,
    unit: str,
    skills: list[str],
    slots: list[str],
    status: str = "approved",
) -> Volunteer:
    return Volunteer(
        user_id=user_id,
        name=name,
        grid_id=grid_id,
        unit=unit,
        branch=f"{unit}党支部",
        occupation="职员",
        skills=skills,
        availability=slots,
        status=status,
    )


async def test_segments_pick_exactly_the_right_people(world: World) -> None:
    town = await _town(world)
    v = town.vols
    async with world.app.sessions() as s:
        assert await segments.volunteers(s, grid_ids=[town.grids["G02"]]) == sorted(
            [v["li"], v["qian"]]
        )  # not the pending one, not the one who blocked the bot
        assert await segments.volunteers(s, community="幸福社区") == sorted(
            [v["li"], v["wang"], v["qian"], v["zhou"]]
        )
        assert await segments.volunteers(s, community="河西社区") == [v["zhao"]]
        assert await segments.volunteers(s, skills=["repair"]) == sorted([v["li"], v["qian"]])
        assert await segments.volunteers(s, skills=["digital", "health"]) == sorted(
            [v["qian"], v["zhao"]]
        )
        assert await segments.volunteers(s, unit="供电") == sorted([v["li"], v["qian"]])
        assert await segments.volunteers(s, unit="power grid") == [v["zhou"]]  # any case
        assert await segments.volunteers(s, unit="%") == []  # typed literally, not a pattern
        assert await segments.volunteers(s, slots=["sat_morning"]) == sorted([v["li"], v["zhao"]])
        assert await segments.volunteers(
            s, grid_ids=[town.grids["G02"]], skills=["repair"], slots=["sat_morning"]
        ) == [v["li"]]
        assert await segments.residents(s, grid_ids=[town.grids["G02"]]) == [town.residents["g02"]]
        assert await segments.residents(s) == sorted(town.residents.values())
        assert await segments.group_chats(s) == [-100_002]
        assert await segments.group_chats(s, grid_ids=[town.grids["G01"]]) == []


async def test_a_broadcast_reaches_its_segment_and_the_sender_gets_a_report(world: World) -> None:
    town = await _town(world)
    async with world.app.sessions() as s:
        draft = Draft(
            "周六上午在小区广场义诊，欢迎报名。", None, Segment("vol_skill", skills=("repair",))
        )
        assert await broadcasts.count(s, town.staff, draft.segment) == 2
        sent = await broadcasts.create(world.app, s, town.staff, draft)
    assert sent.recipients == 2 and sent.status == "sending" and sent.pending == 2
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
        async with world.app.sessions() as s:
            done = await broadcasts.progress(s, sent.id)
        assert done.status == "done" and done.delivered == 2 and done.pending == 0
        telegram = await world.telegram_ids()
        assert world.fake.last(telegram[town.vols["li"]]).text == draft.text
        report = await world.fake.expect(telegram[town.staff], "发送完毕", after=0)
        assert "已送达 2" in report.text
    finally:
        await engine.stop()
    async with world.app.sessions() as s:
        broadcast = await s.get(Broadcast, sent.id)
        assert broadcast is not None and broadcast.finished_at is not None


async def test_paused_rows_wait_and_resume_sends_them(world: World) -> None:
    town = await _town(world)
    async with world.app.sessions() as s:
        sent = await broadcasts.create(
            world.app,
            s,
            town.staff,
            Draft("通知", None, Segment("vol_community", community="幸福社区")),
        )
        paused = await broadcasts.pause(world.app, s, town.staff, sent.id)
    assert paused.status == "paused" and paused.count("paused") == 4
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)  # paused rows do not count as work
        assert not world.fake.deliveries
        async with world.app.sessions() as s:
            with pytest.raises(UserError) as again:
                await broadcasts.pause(world.app, s, town.staff, sent.id)
            assert again.value.key == "broadcast.wrong_state"
            resumed = await broadcasts.resume(world.app, s, town.staff, sent.id)
        assert resumed.status == "sending"
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    async with world.app.sessions() as s:
        assert (await broadcasts.progress(s, sent.id)).delivered == 4


async def test_cancel_closes_what_was_not_sent_and_reports(world: World) -> None:
    town = await _town(world)
    async with world.app.sessions() as s:
        sent = await broadcasts.create(
            world.app,
            s,
            town.staff,
            Draft(
                "通知", None, Segment("res_grid", grid_ids=(town.grids["G01"], town.grids["G02"]))
            ),
        )
        cancelled = await broadcasts.cancel(world.app, s, town.staff, sent.id)
    assert cancelled.status == "cancelled" and cancelled.count("cancelled") == 2
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    telegram = await world.telegram_ids()
    residents = [telegram[uid] for uid in town.residents.values()]
    assert not any(d.chat_id in residents for d in world.fake.deliveries)
    report = world.fake.last(telegram[town.staff])
    assert "已取消" in report.text and "未发送 2" in report.text


async def test_group_chats_segment(world: World) -> None:
    town = await _town(world)
    world.fake.group(-100_002, "第二网格联络群")
    async with world.app.sessions() as s:
        sent = await broadcasts.create(
            world.app, s, town.staff, Draft("停水通知", None, Segment("groups"))
        )
    assert sent.recipients == 1
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    assert world.fake.last(-100_002).text == "停水通知"


async def test_grid_staff_reach_their_own_grid_only(world: World) -> None:
    town = await _town(world)
    async with world.app.sessions() as s:
        with pytest.raises(UserError) as other:
            await broadcasts.scoped(
                s, town.grid_staff, Segment("vol_grid", grid_ids=(town.grids["G01"],))
            )
        assert other.value.key == "broadcast.own_grid_only"
        # "All volunteers with this skill" means: in their grid.
        segment = await broadcasts.scoped(
            s, town.grid_staff, Segment("vol_skill", skills=("repair",))
        )
        assert segment.grid_ids == (town.grids["G02"],)
        assert (
            await broadcasts.count(
                s, town.grid_staff, Segment("vol_community", community="幸福社区")
            )
            == 2
        )
        sent = await broadcasts.create(
            world.app,
            s,
            town.staff,
            Draft("x", None, Segment("vol_community", community="幸福社区")),
        )
        # The grid worker neither sees nor controls the community's broadcast.
        assert await broadcasts.recent(s, town.grid_staff) == []
        with pytest.raises(UserError) as denied:
            await broadcasts.pause(world.app, s, town.grid_staff, sent.id)
        assert denied.value.key == "broadcast.not_allowed"
        assert [p.id for p in await broadcasts.recent(s, town.staff)] == [sent.id]


async def test_refusals_change_nothing(world: World) -> None:
    town = await _town(world)
    async with world.app.sessions() as s:
        for draft, key in [
            (
                Draft("", None, Segment("vol_grid", grid_ids=(town.grids["G02"],))),
                "broadcast.empty",
            ),
            (
                Draft("长" * 4097, None, Segment("vol_grid", grid_ids=(town.grids["G02"],))),
                "broadcast.too_long",
            ),
            (
                Draft("长" * 1025, "photo-id", Segment("vol_grid", grid_ids=(town.grids["G02"],))),
                "broadcast.too_long",
            ),
            (Draft("x", None, Segment("vol_grid")), "broadcast.pick_one"),
            (Draft("x", None, Segment("vol_unit", unit="没有这个单位")), "broadcast.nobody"),
            (Draft("x", None, Segment("everyone")), "broadcast.bad_segment"),
        ]:
            with pytest.raises(UserError) as refused:
                await broadcasts.create(world.app, s, town.staff, draft)
            assert refused.value.key == key
        assert (await s.scalars(select(Broadcast))).all() == []
    assert await world.rows() == []


async def test_a_double_tap_on_send_makes_one_broadcast(any_db_world: World) -> None:
    world = any_db_world
    town = await _town(world)
    draft = Draft("通知", None, Segment("vol_skill", skills=("repair",)), token="tap-tap")

    async def send() -> int:
        async with world.app.sessions() as s:
            return (await broadcasts.create(world.app, s, town.staff, draft)).id

    first, second = await asyncio.gather(send(), send())
    assert first == second
    async with world.app.sessions() as s:
        assert len((await s.scalars(select(Broadcast))).all()) == 1
    assert len(await world.rows(f"bc:{first}")) == 2


async def test_only_the_sender_or_community_staff_follow_a_broadcast(world: World) -> None:
    town = await _town(world)
    async with world.app.sessions() as s:
        draft = Draft("x", None, Segment("vol_grid", grid_ids=(town.grids["G02"],)))
        own = await broadcasts.create(world.app, s, town.grid_staff, draft)
        other = await broadcasts.create(world.app, s, town.staff, draft)
        assert (await broadcasts.view(s, town.grid_staff, own.id)).recipients == 2
        assert (await broadcasts.view(s, town.staff, own.id)).id == own.id
        with pytest.raises(UserError) as denied:
            await broadcasts.view(s, town.grid_staff, other.id)
        assert denied.value.key == "broadcast.not_allowed"
        with pytest.raises(UserError) as missing:
            await broadcasts.view(s, town.staff, 999)
        assert missing.value.key == "broadcast.not_found"
