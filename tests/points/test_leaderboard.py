"""Leaderboards: verified points, ties by services, scopes, periods, opt-out anonymised."""

from __future__ import annotations

from bot.services.points import leaderboard, ledger, passbook
from tests.points.conftest import World, at


async def _service(w: World, user_id: int, amount: int, source_id: str) -> None:
    async with w.app.sessions() as session:
        await ledger.insert_entry(
            w.app,
            session,
            user_id=user_id,
            amount=amount,
            kind="award",
            reason="服务",
            source_type="event",
            source_id=source_id,
        )
        await session.commit()


async def _board(
    w: World, viewer: int, scope: str = "grid", period: str = "month"
) -> leaderboard.Board:
    async with w.app.sessions() as session:
        return await leaderboard.leaderboard(
            w.app,
            session,
            viewer_id=viewer,
            scope=scope,
            period=period,
        )


def _names(board: leaderboard.Board) -> list[tuple[int, str | None, int, int]]:
    return [(r.place, r.name, r.points, r.services) for r in board.rows]


async def test_order_by_points_then_services_and_shared_places(world: World) -> None:
    a, b, c, d = [await world.volunteer(n) for n in ("甲", "乙", "丙", "丁")]
    await _service(world, a, 20, "1")
    await _service(world, b, 10, "2")
    await _service(world, b, 10, "3")  # 20 points in 2 services: ahead of 甲
    await _service(world, c, 20, "4")  # same as 甲 on both: same place
    await world.grant(d, 5)  # an adjustment counts as points, not as a service
    board = await _board(world, a)
    assert _names(board) == [(1, "乙", 20, 2), (2, "甲", 20, 1), (2, "丙", 20, 1), (4, "丁", 5, 0)]
    assert board.me is not None and board.me.place == 2 and board.total == 4


async def test_spending_does_not_lower_verified_points(world: World) -> None:
    a, b = await world.volunteer("甲"), await world.volunteer("乙")
    await _service(world, a, 30, "1")
    await _service(world, b, 20, "2")
    async with world.app.sessions() as session:
        await ledger.insert_entry(
            world.app,
            session,
            user_id=a,
            amount=-25,
            kind="spend",
            reason="兑换",
            source_type="redemption",
            source_id="1",
        )
        await session.commit()
    assert [r.name for r in (await _board(world, b)).rows] == ["甲", "乙"]


async def test_opted_out_volunteer_is_anonymous_to_others_but_not_to_self(world: World) -> None:
    shy = await world.volunteer("害羞", public=False)
    other = await world.volunteer("大方")
    await _service(world, shy, 30, "1")
    await _service(world, other, 10, "2")
    seen_by_other = await _board(world, other)
    assert [r.name for r in seen_by_other.rows] == [None, "大方"]
    assert seen_by_other.rows[0].user_id == shy  # the anonymous label is built from it
    seen_by_self = await _board(world, shy)
    assert [r.name for r in seen_by_self.rows] == ["害羞", "大方"]
    assert seen_by_self.me is not None and seen_by_self.me.is_viewer
    async with world.app.sessions() as session:
        await passbook.set_public_board(session, shy, True)
    assert [r.name for r in (await _board(world, other)).rows] == ["害羞", "大方"]


async def test_scopes_grid_community_all(world: World) -> None:
    g1 = await world.volunteer("一网格", grid="G01")
    g2 = await world.volunteer("二网格", grid="G02")
    river = await world.volunteer("河西", grid="G09")
    for i, uid in enumerate((g1, g2, river)):
        await _service(world, uid, 10 * (i + 1), str(i))
    assert [r.name for r in (await _board(world, g1, "grid")).rows] == ["一网格"]
    community = await _board(world, g1, "community")
    assert [r.name for r in community.rows] == ["二网格", "一网格"]
    assert community.scope_name == "幸福社区"
    assert [r.name for r in (await _board(world, g1, "all")).rows] == ["河西", "二网格", "一网格"]


async def test_periods_and_the_unranked_viewer(world: World) -> None:
    old, new, idle = [await world.volunteer(n) for n in ("上月", "本月", "没分")]
    world.clock.now = at(2026, 10, 15)
    await _service(world, old, 50, "1")
    world.clock.now = at(2026, 11, 20)
    await _service(world, new, 5, "2")
    month = await _board(world, idle, period="month")
    assert [r.name for r in month.rows] == ["本月"] and month.me is None
    quarter = await _board(world, idle, period="quarter")
    assert [r.name for r in quarter.rows] == ["上月", "本月"]
    assert quarter.start.isoformat() == "2026-10-01"


async def test_only_the_top_is_listed_but_the_viewer_sees_their_place(world: World) -> None:
    people = [await world.volunteer(f"V{i}") for i in range(15)]
    for i, uid in enumerate(people):
        await _service(world, uid, 100 - i, str(i))
    board = await _board(world, people[-1])
    assert len(board.rows) == 10 and board.total == 15
    assert board.me is not None and board.me.place == 15 and board.me.name == "V14"
