"""The ledger: awards by rule, caps, idempotency, adjustments, passbook, statement, expiry."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from bot.db.models import AuditEntry
from bot.i18n import Translator
from bot.services.errors import UserError
from bot.services.points import adjustments, expiry, ledger, passbook
from tests.points.conftest import World, at, make_world


async def test_award_is_idempotent_per_source_and_kind(world: World) -> None:
    vol = await world.volunteer()
    async with world.app.sessions() as session:
        first = await ledger.award(
            world.app,
            session,
            user_id=vol,
            amount=10,
            reason="活动",
            source_type="event",
            source_id="7",
        )
        again = await ledger.award(
            world.app,
            session,
            user_id=vol,
            amount=10,
            reason="活动",
            source_type="event",
            source_id="7",
        )
        await session.commit()
    assert first is not None and first.amount == 10 and first.kind == "award"
    assert again is None
    assert [e.amount for e in await world.entries(vol)] == [10]


async def test_concurrent_duplicate_awards_count_once(both: World) -> None:
    vol = await both.volunteer()

    async def one() -> bool:
        async with both.app.sessions() as session:
            entry = await ledger.award(
                both.app,
                session,
                user_id=vol,
                amount=5,
                reason="活动",
                source_type="event",
                source_id="42",
            )
            await session.commit()
            return entry is not None

    results = await asyncio.gather(*(one() for _ in range(12)))
    assert results.count(True) == 1
    assert await both.balance(vol) == 5


async def test_wish_points_are_category_times_difficulty_plus_bonuses(world: World) -> None:
    vol = await world.volunteer()
    wish = await world.wish(vol, category="repair", difficulty="hard", urgent=True, rating=5)
    async with world.app.sessions() as session:
        entry = await ledger.award_for_wish(world.app, session, wish)
    # repair/hard 20 + urgent 2 + five stars 2 + first service of the year 5
    assert entry is not None and entry.amount == 29
    assert entry.category == "repair" and entry.source_type == "wish"
    assert entry.source_id == str(wish)
    for part in ("家居维修", "困难", "加急 +2", "五星好评 +2", "本年度首次服务 +5"):
        assert part in entry.reason
    # A second task the same year: no first-of-year bonus; four stars: no five-star bonus.
    second = await world.wish(vol, category="errand", difficulty="easy", rating=4)
    async with world.app.sessions() as session:
        entry2 = await ledger.award_for_wish(world.app, session, second)
    assert entry2 is not None and entry2.amount == 3  # errand/easy
    assert "首次" not in entry2.reason
    assert await world.balance(vol) == 32
    notices = [n for uid, n in world.notifier.sent if uid == vol]
    assert [n.kind for n in notices] == ["points.awarded", "points.awarded"]
    assert notices[-1].params["balance"] == 32


async def test_award_for_wish_twice_awards_once(world: World) -> None:
    vol = await world.volunteer()
    wish = await world.wish(vol)
    async with world.app.sessions() as session:
        assert await ledger.award_for_wish(world.app, session, wish) is not None
    async with world.app.sessions() as session:
        assert await ledger.award_for_wish(world.app, session, wish) is None
    assert len(await world.entries(vol)) == 1
    assert world.notifier.kinds(vol) == ["points.awarded"]


@pytest.mark.parametrize(
    ("status", "rating", "has_volunteer"),
    [("done", 5, True), ("confirmed", 5, True), ("closed", None, True), ("verified", 5, False)],
)
async def test_unfinished_or_unrated_tasks_earn_nothing(
    world: World, status: str, rating: int | None, has_volunteer: bool
) -> None:
    vol = await world.volunteer()
    wish = await world.wish(vol if has_volunteer else None, status=status, rating=rating)
    async with world.app.sessions() as session:
        assert await ledger.award_for_wish(world.app, session, wish) is None
    assert await world.entries() == []


async def test_closed_and_rated_task_earns(world: World) -> None:
    vol = await world.volunteer()
    wish = await world.wish(vol, status="closed", rating=3)
    async with world.app.sessions() as session:
        entry = await ledger.award_for_wish(world.app, session, wish)
    assert entry is not None and entry.amount == 10 + 5  # repair/normal + first of year


async def test_daily_and_weekly_caps_trim_and_say_so(clock) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        w = await make_world(
            f"sqlite+aiosqlite:///{tmp}/caps.db",
            clock,
            cap_per_day=25,
            cap_per_week=40,
            bonus_first_of_year=0,
            bonus_five_star=0,
        )
        try:
            vol = await w.volunteer()
            hard = [await w.wish(vol, difficulty="hard") for _ in range(4)]  # 20 points each
            got = []
            for wish in hard[:2]:
                async with w.app.sessions() as session:
                    entry = await ledger.award_for_wish(w.app, session, wish)
                    assert entry is not None
                    got.append((entry.amount, entry.reason))
            assert got[0][0] == 20
            assert got[1][0] == 5 and "每日上限 25" in got[1][1]
            clock.advance(days=1)  # Saturday (same week)
            async with w.app.sessions() as session:
                entry = await ledger.award_for_wish(w.app, session, hard[2])
            assert entry is not None and entry.amount == 15 and "每周上限 40" in entry.reason
            # Fully capped: still written (0 points), so it is never retried.
            async with w.app.sessions() as session:
                entry = await ledger.award_for_wish(w.app, session, hard[3])
            assert entry is not None and entry.amount == 0
            assert await ledger.award_missing(w.app) == 0
            clock.advance(days=2)  # Monday: a new week
            extra = await w.wish(vol, difficulty="hard")
            async with w.app.sessions() as session:
                entry = await ledger.award_for_wish(w.app, session, extra)
            assert entry is not None and entry.amount == 20
            assert await w.balance(vol) == 60
        finally:
            await w.engine.dispose()


async def test_award_missing_is_the_safety_net(world: World) -> None:
    a, b = await world.volunteer("甲"), await world.volunteer("乙")
    w1 = await world.wish(a)
    await world.wish(b, status="closed", rating=4)
    await world.wish(b, status="in_progress", rating=None)  # not finished: not awarded
    async with world.app.sessions() as session:
        await ledger.award_for_wish(world.app, session, w1)  # already done
    assert await ledger.award_missing(world.app) == 1
    assert await ledger.award_missing(world.app) == 0
    assert await world.balance(b) == 15


async def test_passbook_periods_follow_the_community_timezone(world: World) -> None:
    vol = await world.volunteer()
    # 2026-09-30 17:00 UTC is already 1 October in Shanghai: this quarter, not last.
    moments = [(at(2026, 9, 30, 15), 1), (at(2026, 9, 30, 17), 2), (at(2026, 11, 1, 3), 4)]
    for moment, amount in moments:
        world.clock.now = moment
        await world.grant(vol, amount)
    world.clock.now = at(2026, 11, 20)
    async with world.app.sessions() as session:
        book = await passbook.passbook(world.app, session, vol)
    assert (book.balance, book.month, book.quarter, book.year) == (7, 4, 6, 7)
    assert [e.amount for e in book.latest] == [4, 2, 1]


async def test_passbook_shows_latest_ten_newest_first(world: World) -> None:
    vol = await world.volunteer()
    for amount in range(1, 13):
        world.clock.advance(minutes=1)
        await world.grant(vol, amount)
    async with world.app.sessions() as session:
        book = await passbook.passbook(world.app, session, vol)
    assert [e.amount for e in book.latest] == list(range(12, 2, -1))
    assert book.balance == sum(range(1, 13))


async def test_statement_csv_has_running_balance_and_reads_in_excel(world: World) -> None:
    vol = await world.volunteer()
    await world.grant(vol, 10)
    world.clock.advance(minutes=1)
    async with world.app.sessions() as session:
        await ledger.insert_entry(
            world.app,
            session,
            user_id=vol,
            amount=-4,
            kind="spend",
            reason="兑换“毛巾”",
            source_type="redemption",
            source_id="1",
        )
        await session.commit()
    async with world.app.sessions() as session:
        rows = await passbook.statement(session, vol)
    data = passbook.statement_csv(world.app, rows, Translator("zh-CN"))
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["时间", "类型", "积分", "余额", "说明", "来源"]
    assert table[1][1:4] == ["调整", "+10", "10"]
    assert table[2][1:] == ["兑换", "-4", "6", "兑换“毛巾”", "redemption:1"]
    assert table[1][0] == "2026-11-20 18:00"  # shown in Shanghai time


async def test_staff_adjustment_is_audited_and_cannot_go_negative(world: World) -> None:
    vol = await world.volunteer("张伟")
    staff = await world.staff()
    async with world.app.sessions() as session:
        found = await adjustments.find_volunteers(session, staff, "张")
    assert [p.user_id for p in found] == [vol]
    async with world.app.sessions() as session:
        entry = await adjustments.adjust(
            world.app,
            session,
            staff_user_id=staff,
            user_id=vol,
            amount=8,
            reason="帮助组织义诊",
            request_id="r1",
        )
    assert entry is not None and entry.kind == "adjust" and entry.approved_by == staff
    async with world.app.sessions() as session:
        again = await adjustments.adjust(
            world.app,
            session,
            staff_user_id=staff,
            user_id=vol,
            amount=8,
            reason="帮助组织义诊",
            request_id="r1",
        )
    assert again is None  # the same form confirmed twice counts once
    with pytest.raises(UserError) as refused:
        async with world.app.sessions() as session:
            await adjustments.adjust(
                world.app,
                session,
                staff_user_id=staff,
                user_id=vol,
                amount=-9,
                reason="更正",
                request_id="r2",
            )
    assert refused.value.key == "points.adjust_below_zero" and refused.value.params["balance"] == 8
    assert await world.balance(vol) == 8
    async with world.app.sessions() as session:
        audits = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "points.adjust"))
        ).all()
    assert len(audits) == 1 and audits[0].detail == {"amount": 8, "reason": "帮助组织义诊"}
    assert world.notifier.kinds(vol) == ["points.adjusted"]


async def test_grid_staff_adjust_only_their_grid(world: World) -> None:
    vol = await world.volunteer("李四", grid="G02")
    grid_staff = await world.staff("网格员", grid="G01")
    async with world.app.sessions() as session:
        assert await adjustments.find_volunteers(session, grid_staff, "李") == []
    with pytest.raises(UserError) as refused:
        async with world.app.sessions() as session:
            await adjustments.adjust(
                world.app,
                session,
                staff_user_id=grid_staff,
                user_id=vol,
                amount=3,
                reason="x",
                request_id="r",
            )
    assert refused.value.key == "points.not_your_grid"


@pytest.mark.parametrize(("text", "amount"), [("5", 5), ("-5", -5), ("＋12", 12), (" - 3", -3)])
def test_adjust_amounts_are_parsed(text: str, amount: int) -> None:
    assert adjustments.parse_adjust_amount(text) == amount


@pytest.mark.parametrize("text", ["0", "abc", "5000", ""])
def test_bad_adjust_amounts_are_refused(text: str) -> None:
    with pytest.raises(UserError):
        adjustments.parse_adjust_amount(text)


async def test_monthly_statement_goes_to_volunteers_with_activity_or_points(world: World) -> None:
    active, idle, empty = [await world.volunteer(n) for n in ("甲", "乙", "丙")]
    world.clock.now = at(2026, 10, 10)
    await world.grant(idle, 7)
    world.clock.now = at(2026, 11, 5)
    await world.grant(active, 12)
    world.clock.now = at(2026, 12, 1, 1)
    assert await passbook.monthly_statements(world.app, date(2026, 11, 1)) == 2
    sent = dict(await queued(world.app, "points.monthly_statement"))
    assert set(sent) == {active, idle} and empty not in sent
    assert await passbook.monthly_statements(world.app, date(2026, 11, 1)) == 0  # once a month
    assert sent[active] == {
        "year": 2026,
        "month": 11,
        "earned": 12,
        "spent": 0,
        "balance": 12,
    }
    assert sent[idle]["earned"] == 0 and sent[idle]["balance"] == 7


async def test_expiry_lapses_unspent_old_points_once_oldest_spent_first(clock) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        w = await make_world(f"sqlite+aiosqlite:///{tmp}/x.db", clock, expiry="end_of_next_year")
        try:
            vol = await w.volunteer()
            clock.now = at(2025, 3, 1)
            await w.grant(vol, 50)  # earned in 2025: lapses at the end of 2026
            clock.now = at(2026, 2, 1)
            await w.grant(vol, 30)
            async with w.app.sessions() as session:  # 20 spent: taken from the 2025 points
                await ledger.insert_entry(
                    w.app,
                    session,
                    user_id=vol,
                    amount=-20,
                    kind="spend",
                    reason="兑换",
                    source_type="redemption",
                    source_id="9",
                )
                await session.commit()
            clock.now = at(2026, 12, 1, 1)
            assert await expiry.remind_expiry(w.app, clock.now) == 1
            reminder = w.notifier.sent[-1][1]
            assert reminder.kind == "points.expiry_reminder"
            assert reminder.params == {"amount": 30, "date": "2026-12-31"}
            clock.now = at(2027, 1, 1, 1)
            assert await expiry.expire_points(w.app, clock.now) == 1
            assert await expiry.expire_points(w.app, clock.now) == 0  # once per year
            assert await w.balance(vol) == 30  # the 2026 points stay
            expired = [e for e in await w.entries(vol) if e.kind == "expire"]
            assert [(e.amount, e.source_id) for e in expired] == [(-30, "2025")]
        finally:
            await w.engine.dispose()


async def test_expiry_never_by_default(world: World) -> None:
    vol = await world.volunteer()
    world.clock.now = at(2020, 1, 1)
    await world.grant(vol, 10)
    assert await expiry.expire_points(world.app, at(2027, 1, 1)) == 0
    assert await world.balance(vol) == 10


async def queued(app, kind: str) -> list[tuple[int, dict]]:  # type: ignore[no-untyped-def]
    """What went to the outbox for a kind of notice: (user id, params), in order."""
    from sqlalchemy import select

    from bot.db.models.delivery import OutboxMessage

    async with app.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.user_id, OutboxMessage.params)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        return [(int(uid), dict(params)) for uid, params in rows.all()]
