"""The rewards shop: hold → handover (spend) or cancel (release); no overselling, no negative
balance, also when many redeem at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from sqlalchemy import select

from bot.db.models.points import Redemption, Reward
from bot.services.errors import UserError
from bot.services.points import shop
from tests.points.conftest import World


async def _redeem(w: World, user_id: int, reward_id: int) -> shop.RedemptionView:
    async with w.app.sessions() as session:
        return await shop.redeem(w.app, session, user_id, reward_id)


async def _stock(w: World, reward_id: int) -> int:
    async with w.app.sessions() as session:
        reward = await session.get(Reward, reward_id)
        assert reward is not None
        return reward.stock


async def _refused(coro) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError) as info:
        await coro
    return info.value.key


async def test_redeem_holds_points_then_handover_spends_them(world: World) -> None:
    vol = await world.volunteer("李明")
    staff = await world.staff("王主任")
    await world.grant(vol, 100)
    reward = await world.reward("保温杯", price=30, stock=3)
    got = await _redeem(world, vol, reward)
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", got.code)
    assert got.status == "held" and got.price == 30 and got.volunteer_name == "李明"
    assert await world.balance(vol) == 70  # held at once
    assert await _stock(world, reward) == 2
    # Staff get told there is something to prepare.
    assert ("shop.staff_new_redemption", got.code) in [
        (n.kind, n.params.get("code")) for uid, n in world.notifier.sent if uid == staff
    ]
    async with world.app.sessions() as session:
        found = await shop.find_by_code(session, staff, got.code.lower())
    assert found.id == got.id
    async with world.app.sessions() as session:
        done = await shop.hand_over(world.app, session, staff, got.id)
    assert done.status == "handed_over"
    assert await world.balance(vol) == 70
    kinds = [(e.kind, e.amount) for e in await world.entries(vol) if e.source_type == "redemption"]
    assert kinds == [("hold", -30), ("release", 30), ("spend", -30)]
    spend = (await world.entries(vol))[-1]
    assert "保温杯" in spend.reason and got.code in spend.reason
    assert world.notifier.kinds(vol)[-1] == "shop.handed_over"
    # A second confirmation changes nothing.
    async with world.app.sessions() as session:
        key = await _refused(shop.hand_over(world.app, session, staff, got.id))
    assert key == "shop.already_handed_over"
    async with world.app.sessions() as session:
        key = await _refused(shop.cancel(world.app, session, staff, got.id))
    assert key == "shop.already_handed_over"
    assert await world.balance(vol) == 70 and await _stock(world, reward) == 2


async def test_cancel_releases_points_and_returns_stock(world: World) -> None:
    vol = await world.volunteer()
    staff = await world.staff()
    await world.grant(vol, 40)
    reward = await world.reward(price=25, stock=1)
    got = await _redeem(world, vol, reward)
    assert await _stock(world, reward) == 0
    async with world.app.sessions() as session:
        await shop.cancel(world.app, session, staff, got.id)
    assert await world.balance(vol) == 40 and await _stock(world, reward) == 1
    assert world.notifier.kinds(vol)[-1] == "shop.cancelled_by_staff"
    async with world.app.sessions() as session:
        key = await _refused(shop.hand_over(world.app, session, staff, got.id))
    assert key == "shop.already_cancelled"


async def test_volunteer_cancels_own_but_not_anothers(world: World) -> None:
    a, b = await world.volunteer("甲"), await world.volunteer("乙")
    await world.grant(a, 30)
    reward = await world.reward(price=30, stock=2)
    got = await _redeem(world, a, reward)
    async with world.app.sessions() as session:
        assert await _refused(shop.cancel(world.app, session, b, got.id)) == "errors.stale_button"
    async with world.app.sessions() as session:
        mine = await shop.my_redemptions(session, a)
    assert [m.id for m in mine] == [got.id]
    async with world.app.sessions() as session:
        await shop.cancel(world.app, session, a, got.id)
    assert await world.balance(a) == 30
    assert "shop.cancelled_by_staff" not in world.notifier.kinds(a)


async def test_refusals_change_nothing(world: World) -> None:
    vol = await world.volunteer()
    staff = await world.staff()
    await world.grant(vol, 50)
    pricey = await world.reward("自行车", price=500, stock=1)
    limited = await world.reward("雨伞", price=10, stock=5, limit=1)
    empty = await world.reward("口罩", price=1, stock=0)
    async with world.app.sessions() as session:
        assert await _refused(shop.redeem(world.app, session, vol, pricey)) == (
            "shop.not_enough_points"
        )
    await _redeem(world, vol, limited)
    async with world.app.sessions() as session:
        assert await _refused(shop.redeem(world.app, session, vol, limited)) == (
            "shop.limit_reached"
        )
    async with world.app.sessions() as session:
        assert await _refused(shop.redeem(world.app, session, vol, empty)) == "shop.sold_out"
    async with world.app.sessions() as session:
        await shop.edit_reward(world.app, session, staff, pricey, "active", False)
    async with world.app.sessions() as session:
        assert await _refused(shop.redeem(world.app, session, vol, pricey)) == (
            "shop.unknown_reward"
        )
    assert await world.balance(vol) == 40
    assert (await _stock(world, pricey), await _stock(world, limited)) == (1, 4)
    async with world.app.sessions() as session:
        count = len((await session.scalars(select(Redemption))).all())
    assert count == 1


async def test_only_approved_volunteers_redeem(world: World) -> None:
    pending = await world.volunteer("待审", status="pending")
    await world.grant(pending, 50)
    reward = await world.reward(price=10)
    async with world.app.sessions() as session:
        key = await _refused(shop.redeem(world.app, session, pending, reward))
    assert key == "points.volunteers_only"


async def test_staff_manage_rewards(world: World) -> None:
    staff = await world.staff()
    vol = await world.volunteer()
    reward = await world.reward("毛巾", price=20, stock=2)
    async with world.app.sessions() as session:
        await shop.edit_reward(world.app, session, staff, reward, "price", 15)
        await shop.edit_reward(world.app, session, staff, reward, "pickup_place", "二楼")
    async with world.app.sessions() as session:
        view = await shop.get_reward(session, reward)
        listed = await shop.list_rewards(session, for_volunteers=True)
    assert (view.price, view.pickup_place) == (15, "二楼")
    assert [r.id for r in listed] == [reward]
    async with world.app.sessions() as session:
        await _refused(shop.edit_reward(world.app, session, vol, reward, "price", 1))
    assert shop.parse_field("stock", " 12 ") == 12
    for field, bad in (("price", "0"), ("stock", "-1"), ("name", "x" * 31), ("price", "abc")):
        with pytest.raises(UserError):
            shop.parse_field(field, bad)


async def test_twenty_concurrent_redemptions_never_oversell(both: World) -> None:
    reward = await both.reward("电影票", price=10, stock=5)
    people = [await both.volunteer(f"志愿者{i}") for i in range(20)]
    for uid in people:
        await both.grant(uid, 10)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_redeem(both, uid, reward) for uid in people), return_exceptions=True
    )
    elapsed = time.perf_counter() - started
    won = [r for r in results if isinstance(r, shop.RedemptionView)]
    lost = [r for r in results if isinstance(r, UserError)]
    assert len(won) == 5 and len(lost) == 15, results
    assert {e.key for e in lost} == {"shop.sold_out"}
    assert await _stock(both, reward) == 0
    assert len({r.code for r in won}) == 5
    for uid in people:
        assert await both.balance(uid) in (0, 10)
    assert sum([await both.balance(uid) for uid in people]) == 150
    assert elapsed < 30


async def test_a_volunteer_racing_their_own_balance_never_goes_negative(both: World) -> None:
    vol = await both.volunteer()
    await both.grant(vol, 100)
    reward = await both.reward("体检券", price=30, stock=50)
    results = await asyncio.gather(
        *(_redeem(both, vol, reward) for _ in range(10)), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, shop.RedemptionView)]
    assert len(won) == 3
    assert all(
        isinstance(r, UserError) and r.key == "shop.not_enough_points"
        for r in results
        if not isinstance(r, shop.RedemptionView)
    )
    assert await both.balance(vol) == 10
    assert await _stock(both, reward) == 47


async def test_concurrent_handover_and_cancel_settle_once(both: World) -> None:
    vol = await both.volunteer()
    staff_a, staff_b = await both.staff("甲"), await both.staff("乙")
    await both.grant(vol, 30)
    reward = await both.reward(price=30, stock=1)
    got = await _redeem(both, vol, reward)

    async def act(kind: str, staff: int) -> str:
        async with both.app.sessions() as session:
            try:
                if kind == "give":
                    await shop.hand_over(both.app, session, staff, got.id)
                else:
                    await shop.cancel(both.app, session, staff, got.id)
            except UserError as err:
                return err.key
            return kind

    outcomes = await asyncio.gather(
        *(act(k, s) for k in ("give", "cancel") for s in (staff_a, staff_b))
    )
    done = [o for o in outcomes if o in ("give", "cancel")]
    assert len(done) == 1
    entries = [e for e in await both.entries(vol) if e.source_type == "redemption"]
    if done == ["give"]:
        assert [e.kind for e in entries] == ["hold", "release", "spend"]
        assert await both.balance(vol) == 0 and await _stock(both, reward) == 0
    else:
        assert [e.kind for e in entries] == ["hold", "release"]
        assert await both.balance(vol) == 30 and await _stock(both, reward) == 1
