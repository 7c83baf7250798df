"""Patrol services: shifts and places, check-in by location and code, the end and its points,
hazards becoming a safety wish or a 吹哨 escalation, and the month's figures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Escalation, Offer, Wish
from bot.db.models.patrols import Hazard, PatrolShift
from bot.db.models.points import LedgerEntry
from bot.services.errors import UserError
from bot.services.patrols import attendance, hazards, shifts
from bot.services.patrols import shift_states as ss
from bot.services.patrols.hazards import HazardDraft
from bot.services.reports import evaluations
from bot.services.reports import patrols as patrol_report
from tests.patrols.conftest import GATE, PatrolWorld


async def _start(pw: PatrolWorld) -> tuple[int, int, int, shifts.ShiftView]:
    """Staff, two volunteers of G01 signed up on a shift; the clock at its start."""
    staff = await pw.w.staff()
    li, wang = await pw.w.volunteer("李明", "G01"), await pw.w.volunteer("王刚", "G01")
    shift = await pw.shift(staff)
    async with pw.app.sessions() as session:
        await shifts.sign_up(pw.app, session, shift.id, li)
        await shifts.sign_up(pw.app, session, shift.id, wang)
    pw.clock.now = shift.starts_at
    return staff, li, wang, shift


async def test_places_fill_then_free_and_the_status_follows(pw: PatrolWorld) -> None:
    staff = await pw.w.staff()
    people = [await pw.w.volunteer(f"志愿者{i}", "G01") for i in range(3)]
    other_grid = await pw.w.volunteer("河西", "G09")
    shift = await pw.shift(staff, capacity=2)
    async with pw.app.sessions() as session:
        first = await shifts.sign_up(pw.app, session, shift.id, people[0])
        again = await shifts.sign_up(pw.app, session, shift.id, people[0])  # a double tap
        assert first.signed and again.signed and again.shift.taken == 1
        full = await shifts.sign_up(pw.app, session, shift.id, people[1])
        assert full.shift.status == ss.FULL
        with pytest.raises(UserError) as err:
            await shifts.sign_up(pw.app, session, shift.id, people[2])
        assert err.value.key == "patrols.full"
        with pytest.raises(UserError) as err:
            await shifts.sign_up(pw.app, session, shift.id, other_grid)
        assert err.value.key == "patrols.not_your_grid"
        freed = await shifts.cancel_signup(pw.app, session, shift.id, people[1])
        assert freed.shift.status == ss.OPEN and freed.shift.taken == 1
        closed = await shifts.set_signups_open(pw.app, session, staff, shift.id, is_open=False)
        assert closed.status == ss.CLOSED
        with pytest.raises(UserError) as err:
            await shifts.sign_up(pw.app, session, shift.id, people[2])
        assert err.value.key == "patrols.signups_closed"
    # The invitation went to the grid's volunteers only.
    invited = {m.user_id for m in await pw.w.outbox(f"pt:{shift.id}")}
    assert invited == set(people)


async def test_ten_volunteers_race_for_two_places(any_db_pw: PatrolWorld) -> None:
    pw = any_db_pw
    staff = await pw.w.staff()
    people = [await pw.w.volunteer(f"志愿者{i}", "G01") for i in range(10)]
    shift = await pw.shift(staff, capacity=2)

    async def try_one(uid: int) -> bool:
        async with pw.app.sessions() as session:
            try:
                await shifts.sign_up(pw.app, session, shift.id, uid)
                return True
            except UserError:
                return False

    results = await asyncio.gather(*(try_one(uid) for uid in people))
    assert sum(results) == 2
    async with pw.app.sessions() as session:
        row = await session.get(PatrolShift, shift.id)
        assert row is not None and row.taken == 2 and row.status == ss.FULL


async def test_check_in_by_location_within_the_radius_only(pw: PatrolWorld) -> None:
    _, li, wang, shift = await _start(pw)
    far = (GATE[0] + 1000 / 111_195, GATE[1])  # 1 km north
    near = (GATE[0] + 100 / 111_195, GATE[1])
    async with pw.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await attendance.check_in(pw.app, session, li, shift_id=shift.id, location=far)
        assert err.value.key == "patrols.checkin.too_far"
        assert err.value.params["distance"] == 1000
        done = await attendance.check_in(pw.app, session, li, shift_id=shift.id, location=near)
        assert done.method == "location" and done.distance_m == 100
        assert done.shift.status == ss.IN_PROGRESS
        with pytest.raises(UserError) as err:
            await attendance.check_in(pw.app, session, li, shift_id=shift.id, location=near)
        assert err.value.key == "patrols.checkin.already"
        assert (await attendance.current_shift(pw.app, session, li)) is not None
        assert (await attendance.current_shift(pw.app, session, wang)) is None


async def test_check_in_window_and_codes(pw: PatrolWorld) -> None:
    staff, li, wang, shift = await _start(pw)
    stranger = await pw.w.volunteer("路人", "G01")
    pw.clock.now = shift.starts_at - timedelta(hours=2)
    async with pw.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await attendance.issue_code(pw.app, session, staff, shift.id)
        assert err.value.key == "patrols.checkin.outside_window"
    pw.clock.now = shift.starts_at - timedelta(minutes=10)
    async with pw.app.sessions() as session:
        code = await attendance.issue_code(pw.app, session, staff, shift.id)
        by_qr = await attendance.check_in(pw.app, session, li, token=code.token)
        by_pin = await attendance.check_in(pw.app, session, wang, pin=code.pin)
        assert (by_qr.method, by_pin.method) == ("qr", "code")
        with pytest.raises(UserError) as err:
            await attendance.check_in(pw.app, session, stranger, pin=code.pin)
        assert err.value.key == "patrols.checkin.not_signed"
    pw.clock.advance(minutes=30)
    async with pw.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await attendance.check_in(pw.app, session, stranger, token=code.token)
        assert err.value.key == "patrols.checkin.expired_code"


async def test_the_end_awards_patrol_time_once_per_person(pw: PatrolWorld) -> None:
    staff, li, wang, shift = await _start(pw)
    near = (GATE[0], GATE[1] + 0.0005)
    async with pw.app.sessions() as session:
        await attendance.check_in(pw.app, session, li, shift_id=shift.id, location=near)
        pw.clock.advance(hours=1)  # Wang comes an hour late
        await attendance.check_in(pw.app, session, wang, shift_id=shift.id, location=near)
    pw.clock.now = shift.ends_at + timedelta(minutes=5)
    async with pw.app.sessions() as session:
        sheet, awarded = await attendance.finish(pw.app, session, staff, shift.id)
        assert sorted(awarded) == sorted([li, wang]) and sheet.shift.status == ss.DONE
        with pytest.raises(UserError) as err:
            await attendance.finish(pw.app, session, staff, shift.id)
        assert err.value.key == "patrols.finish.already"
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.source_type == "patrol"))
        ).all()
    # 2 points an hour (the default): two hours for Li, one for Wang; one row each.
    assert {e.user_id: e.amount for e in entries} == {li: 4, wang: 2}
    assert len(entries) == 2
    # The patrol counts as a service toward the yearly duty.
    async with pw.app.sessions() as session:
        period = evaluations.year_period(pw.app.settings.tz, 2026)
        served = await evaluations.service_counts(session, period)
    assert served[li] == 1 and served[wang] == 1


async def test_finishing_needs_someone_checked_in(pw: PatrolWorld) -> None:
    staff, _, _, shift = await _start(pw)
    async with pw.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await attendance.finish(pw.app, session, staff, shift.id)
        assert err.value.key == "patrols.finish.nobody"


async def _hazard(pw: PatrolWorld, **changes: object) -> tuple[int, int, hazards.HazardView]:
    staff, li, _, shift = await _start(pw)
    async with pw.app.sessions() as session:
        with pytest.raises(UserError) as err:  # not on patrol yet
            await hazards.report(pw.app, session, li, HazardDraft("fire_exit"))
        assert err.value.key == "patrols.hazard.not_on_patrol"
        await attendance.check_in(pw.app, session, li, shift_id=shift.id, location=GATE)
        found = await hazards.report(
            pw.app,
            session,
            li,
            HazardDraft(
                "fire_exit",
                note="3栋消防通道堆满纸箱",
                photo_file_id="PHOTO-1",
                lat=GATE[0],
                lon=GATE[1],
            ),
        )
    assert found.grid_id == pw.grids["G01"] and found.status == hazards.REPORTED
    assert ("patrols.hazard_card" in pw.w.notifier.kinds(staff)) is True
    return staff, li, found


async def test_a_hazard_becomes_a_safety_wish_offered_to_volunteers(pw: PatrolWorld) -> None:
    staff, li, found = await _hazard(pw)
    helper = await pw.w.volunteer("周杰", "G01", skills=["safety"])
    async with pw.app.sessions() as session:
        decided = await hazards.to_wish(pw.app, session, staff, found.id)
        with pytest.raises(UserError) as err:  # a second decision (double tap, other staff)
            await hazards.to_wish(pw.app, session, staff, found.id)
        assert err.value.key == "patrols.hazard.decided"
        wish = await session.get(Wish, decided.wish_id)
        assert wish is not None
        assert wish.category == "safety" and wish.photo_file_id == "PHOTO-1"
        assert wish.resident_id == li and "消防通道" in wish.text
        assert wish.status in ("approved", "offered")
        offered = (await session.scalars(select(Offer.volunteer_id))).all()
    assert helper in offered
    assert "patrols.hazard.became_wish" in pw.w.notifier.kinds(li)


async def test_a_hazard_escalated_to_a_department(pw: PatrolWorld) -> None:
    staff, _, found = await _hazard(pw)
    async with pw.app.sessions() as session:
        with pytest.raises(UserError):
            await hazards.to_escalation(pw.app, session, staff, found.id, "nosuch")
        decided = await hazards.to_escalation(pw.app, session, staff, found.id, "urban")
        escalation = await session.scalar(
            select(Escalation).where(Escalation.wish_id == decided.wish_id)
        )
        wish = await session.get(Wish, decided.wish_id)
    assert escalation is not None and escalation.department == "urban"
    assert wish is not None and wish.status == "escalated"


async def test_grid_staff_of_another_grid_cannot_decide(pw: PatrolWorld) -> None:
    _, _, found = await _hazard(pw)
    other = await pw.w.staff("河西网格员", grid="G09")
    async with pw.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await hazards.dismiss(pw.app, session, other, found.id)
        assert err.value.key == "patrols.not_your_grid"
        row = await session.get(Hazard, found.id)
        assert row is not None and row.status == hazards.REPORTED


async def test_monthly_figures_per_grid(pw: PatrolWorld) -> None:
    staff, _, found = await _hazard(pw)
    async with pw.app.sessions() as session:
        decided = await hazards.to_wish(pw.app, session, staff, found.id)
        assert found.shift_id is not None
        pw.clock.now += timedelta(hours=3)
        await attendance.finish(pw.app, session, staff, found.shift_id)
        wish = await session.get(Wish, decided.wish_id)
        assert wish is not None
        wish.done_at = pw.clock.now  # served (the task flow itself is tested elsewhere)
        await session.commit()
        report = await patrol_report.monthly(pw.app, session, 2026, 11)
    g01 = next(g for g in report.grids if g.code == "G01")
    assert (g01.patrols, g01.patrollers, g01.hours) == (1, 1, 2.0)
    assert (g01.hazards_found, g01.hazards_to_wish, g01.hazards_fixed) == (1, 1, 1)
    assert report.total.hazards_found == 1
    async with pw.app.sessions() as session:
        only_g09 = await patrol_report.monthly(
            pw.app, session, 2026, 11, grid_ids={pw.grids["G09"]}
        )
    assert [g.code for g in only_g09.grids] == ["G09"] and only_g09.total.patrols == 0


async def test_the_clock_closes_shifts_staff_did_not_end(pw: PatrolWorld) -> None:
    from bot.scheduler.timers import fire_due

    staff = await pw.w.staff()
    li = await pw.w.volunteer("李明", "G01")
    shift, empty = await pw.shift(staff), await pw.shift(staff)
    async with pw.app.sessions() as session:
        await shifts.sign_up(pw.app, session, shift.id, li)
    pw.clock.now = shift.starts_at
    async with pw.app.sessions() as session:
        await attendance.check_in(pw.app, session, li, shift_id=shift.id, location=GATE)
    pw.clock.now = shift.ends_at + timedelta(hours=1)
    assert await fire_due(pw.app) == 0  # not yet: staff have two hours to end it themselves
    pw.clock.now = shift.ends_at + timedelta(hours=2, minutes=1)
    assert await fire_due(pw.app) == 2
    async with pw.app.sessions() as session:
        ran = await session.get(PatrolShift, shift.id)
        lapsed = await session.get(PatrolShift, empty.id)
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.source_type == "patrol"))
        ).all()
    assert ran is not None and ran.status == ss.DONE and ran.finished_by is None
    assert lapsed is not None and lapsed.status == ss.CANCELLED
    assert [(e.user_id, e.amount) for e in entries] == [(li, 4)]


async def test_reopening_a_full_shift_makes_it_full_not_open(pw: PatrolWorld) -> None:
    """Found by the random walk: closed → reopened with no place left is full."""
    staff = await pw.w.staff()
    li = await pw.w.volunteer("李明", "G01")
    shift = await pw.shift(staff, capacity=1)
    async with pw.app.sessions() as session:
        await shifts.sign_up(pw.app, session, shift.id, li)
        await shifts.set_signups_open(pw.app, session, staff, shift.id, is_open=False)
        reopened = await shifts.set_signups_open(pw.app, session, staff, shift.id, is_open=True)
    assert reopened.status == ss.FULL


async def test_the_monthly_push_carries_the_patrol_figures(pw: PatrolWorld) -> None:
    from datetime import UTC, datetime

    from bot.db.models.delivery import OutboxMessage
    from bot.services.reports.monthly_push import push_monthly

    staff, _, found = await _hazard(pw)
    g09 = await pw.w.staff("河西网格员", grid="G09")
    async with pw.app.sessions() as session:
        assert found.shift_id is not None
        pw.clock.now += timedelta(hours=3)
        await attendance.finish(pw.app, session, staff, found.shift_id)
    pw.clock.now = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 09:30 in Shanghai
    assert await push_monthly(pw.app) == 2
    async with pw.app.sessions() as session:
        rows = {
            row.user_id: dict(row.params["lines"])
            for row in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.batch_key == "monthly:2026-11")
            )
        }
    community = rows[staff]["monthly.patrols"]
    assert (community["patrols"], community["patrollers"], community["found"]) == (1, 1, 1)
    assert community["hours"] == "2.0"
    assert "monthly.patrols_none" in rows[g09]  # G09 had no patrol
