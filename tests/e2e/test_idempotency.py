"""Idempotent actions: a double tap or the same update delivered twice has one effect, and
the second press is told what the first was told (issue 9, part 3)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import LedgerEntry, ProcessedAction, Redemption, Wish
from bot.demo.stage import Person, Stage
from bot.services.points import ledger, shop
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e


async def _count(stage: Stage, model: type) -> int:
    async with stage.app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _double_tap(person: Person, text: str, expect: str) -> None:
    """Two presses of the same button in one breath (no waiting between them)."""
    fake = person.stage.fake
    mark, answered = fake.mark(), len(fake.callback_answers)
    await fake.press(person.user, person.id, text=text)
    await fake.press(person.user, person.id, text=text)
    await fake.expect(person.id, expect, after=mark, timeout=10)
    await fake.wait_for(lambda: len(fake.callback_answers) >= answered + 2, timeout=10)
    await fake.settle(timeout=10)


def _toasts(stage: Stage) -> list[str]:
    return [a.text or "" for a in stage.fake.callback_answers if a.text]


async def test_confirm_wish_double_tap_files_one_wish(stage: Stage) -> None:
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
    await _double_tap(ann, "没问题", "号心愿")
    assert await _count(stage, Wish) == 1
    filed = [m for m in ann.inbox() if "号心愿" in m.text]
    assert len(filed) == 1
    # The second press heard the same words as the first.
    assert filed[0].text[:60] in _toasts(stage)[-1] or _toasts(stage)[-1] in filed[0].text


async def test_confirm_wish_replayed_update_files_one_wish(stage: Stage) -> None:
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
    await ann.press("没问题", expect="号心愿")
    first = ann.last().text
    await stage.fake.redeliver_last(ann.user)
    await stage.fake.settle(timeout=10)
    assert await _count(stage, Wish) == 1
    assert ann.last().text == first  # the replay is answered with nothing new, no apology
    async with stage.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedAction)) == 1


async def _shopper(stage: Stage, admin: Person) -> tuple[Person, int]:
    await admin.say("/start")
    li = stage.person(201, "李明")
    uid = await volunteer(stage, li)
    staff_uid = await user_id(stage, admin)
    async with stage.app.sessions() as session:
        await ledger.insert_entry(
            stage.app,
            session,
            user_id=uid,
            amount=100,
            kind="adjust",
            reason="测试",
            source_type="test",
            source_id="1",
        )
        await session.commit()
        await shop.add_reward(
            stage.app, session, staff_uid, shop.RewardForm("雨伞", 20, 5, 0, "社区服务站")
        )
    await li.say("/shop", expect="积分超市")
    await li.press("雨伞", expect="需要积分")
    return li, uid


async def _holds(stage: Stage, uid: int) -> list[int]:
    async with stage.app.sessions() as session:
        rows = await session.scalars(
            select(LedgerEntry.amount).where(LedgerEntry.user_id == uid, LedgerEntry.kind == "hold")
        )
        return list(rows)


async def test_redeem_double_tap_holds_points_once(stage: Stage, admin: Person) -> None:
    li, uid = await _shopper(stage, admin)
    await _double_tap(li, "兑换", "取货码")
    assert await _count(stage, Redemption) == 1
    assert await _holds(stage, uid) == [-20]
    assert "取货码" in _toasts(stage)[-1]


async def test_redeem_replayed_update_holds_points_once(stage: Stage, admin: Person) -> None:
    li, uid = await _shopper(stage, admin)
    done = await li.press("兑换", expect="取货码")
    assert done is not None
    await stage.fake.redeliver_last(li.user)
    await stage.fake.settle(timeout=10)
    assert await _count(stage, Redemption) == 1
    assert await _holds(stage, uid) == [-20]
    assert li.last().text == done.text
