"""A Claim storm on a grid post: after the first wins, the others hear "taken" in one read.

Before: each of the other presses went the whole way (conversation state, the person, the
policy, the replay check, the claim service) to hear it (bot/tg/taken_press.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.stage import Stage
from bot.i18n import Translator
from bot.services.people import actors
from bot.services.tasks import holders, lifecycle
from bot.tg.taken_press import claimed_wish
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer
from tests.e2e.test_authz_holes import GROUP, answer, filed_and_approved, link_group, wish_row

pytestmark = pytest.mark.e2e

ZH, EN = Translator("zh-CN"), Translator("en")


def counting(stage: Stage) -> list[int]:
    """Wraps the pump's shortcut: the update ids it answered itself."""
    assert stage.runner is not None and stage.runner.pump is not None
    pump = stage.runner.pump
    inner: Callable[[Update, AsyncSession], Awaitable[bool]] | None = pump.shortcut
    assert inner is not None
    answered: list[int] = []

    async def shortcut(update: Update, session: AsyncSession) -> bool:
        done = await inner(update, session)
        if done:
            answered.append(update.update_id)
        return done

    pump.shortcut = shortcut
    return answered


async def test_a_storm_of_claims_one_wins_the_rest_hear_taken_in_their_language(
    sqlite_url: str, clock: ManualClock
) -> None:
    # One press at a time, so every press after the first comes after the win.
    async with Stage(
        sqlite_url, admins=(9001,), clock=clock, telegram={"max_concurrent_updates": 1}
    ) as stage:
        admin = stage.person(9001, "王主任")
        await admin.say("/start")
        staff = await user_id(stage, admin)
        await link_group(stage)
        ann = await resident(stage, stage.person(101, "张阿姨"))
        near = [stage.person(300 + i, f"志愿者{i}") for i in range(5)]
        for person in near:
            await volunteer(stage, person, grid="G02")
        english = near[3]
        async with stage.app.sessions() as session:
            await actors.set_language(session, await user_id(stage, english), "en")
        far = stage.person(401, "孙丽")
        await volunteer(stage, far, grid="G03")
        stranger = stage.person(402, "路人")
        wish_id = await filed_and_approved(stage, staff, ann, "楼道灯坏了，晚上看不见路")
        await stage.fake.wait_for(lambda: any(m.buttons for m in stage.fake.messages(GROUP)))
        post = stage.fake.messages(GROUP)[-1]
        data = f"t:claim:{wish_id}:"
        assert claimed_wish(data) == wish_id
        answered_here = counting(stage)
        # All pressed before the bot has seen any: the first wins, the winner taps twice.
        winner = near[0]
        pressers = [winner, winner, *near[1:], far, stranger]
        queries = [
            await stage.fake.press(p.user, GROUP, post.message_id, data=data) for p in pressers
        ]
        got = [await answer(stage, q) for q in queries]
        texts = [a.text or "" for a in got]
        assert "接单成功" in texts[0] and texts[1] == texts[0]  # the double tap: same answer
        taken_zh = ZH("task.already_taken", id=wish_id)
        taken_en = EN("task.already_taken", id=wish_id)
        assert texts[2:6] == [taken_zh, taken_zh, taken_en, taken_zh]
        assert all(a.show_alert for a in got[2:6])  # as the claim service answers it
        # Not allowed to press it at all: the policy's refusals, from the full path.
        assert taken_zh not in texts[6] and taken_zh not in texts[7]
        assert len(answered_here) == 4  # the four other volunteers of the grid, nobody else
        row = await wish_row(stage, wish_id)
        assert row.volunteer_id == await user_id(stage, winner)

        # The holder lets go: the memory is dropped at once, the next press may claim.
        async with stage.app.sessions() as session:
            await lifecycle.release(
                stage.app, session, wish_id, await user_id(stage, winner), "busy"
            )
        assert holders.of(stage.app.sessions.kw["bind"]).post(wish_id) is None


def test_an_entry_is_trusted_for_seconds_only(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(holders.time, "monotonic", lambda: now[0])
    memory = holders.Holders()
    memory.held(7, holder_id=1, grid_id=2, chat_id=-100, message_id=5)
    memory.held(8, holder_id=1, grid_id=2, chat_id=None, message_id=None)  # no post: no entry
    assert memory.post(7) is not None and memory.post(8) is None
    now[0] += holders.TTL_SECONDS + 0.1
    assert memory.post(7) is None


def test_only_a_plain_claim_is_recognised() -> None:
    assert claimed_wish("t:claim:12:") == 12
    for data in ("t:claim:12:x", "t:claim::", "t:claim:1e3:", "t:decl:12:", "w:ok:12", None):
        assert claimed_wish(data) is None, data
