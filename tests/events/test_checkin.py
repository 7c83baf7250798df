"""Check-in codes: window, expiry, other events, replays; attendance and points once each."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models.events import EventSignup
from bot.db.models.points import LedgerEntry
from bot.services.errors import UserError
from bot.services.outreach import checkin, signups
from bot.services.outreach.events import EventView
from tests.events.conftest import World


async def _code(world: World, staff: int, event_id: int) -> checkin.CodeView:
    async with world.app.sessions() as session:
        return await checkin.issue_code(world.app, session, staff, event_id)


async def _check_in(world: World, user_id: int, **code: str) -> checkin.CheckinResult:
    async with world.app.sessions() as session:
        return await checkin.check_in(world.app, session, user_id, **code)


async def _refused(world: World, user_id: int, **code: str) -> UserError:
    with pytest.raises(UserError) as err:
        await _check_in(world, user_id, **code)
    return err.value


async def _signed(world: World, event: EventView, *user_ids: int) -> None:
    for uid in user_ids:
        async with world.app.sessions() as session:
            await signups.sign_up(world.app, session, event.id, uid)


async def _ledger(world: World) -> list[tuple[int, int, str]]:
    async with world.app.sessions() as session:
        rows = await session.execute(
            select(LedgerEntry.user_id, LedgerEntry.amount, LedgerEntry.source_id).where(
                LedgerEntry.source_type == "event"
            )
        )
        return sorted(rows.all())


async def test_codes_only_during_the_window(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff)
    world.clock.now = event.starts_at - timedelta(minutes=31)
    with pytest.raises(UserError) as err:
        await _code(world, staff, event.id)
    assert err.value.key == "events.checkin.outside_window"
    assert set(err.value.params) == {"title", "opens", "closes"}
    world.clock.now = event.starts_at - timedelta(minutes=30)
    code = await _code(world, staff, event.id)
    assert checkin.is_pin(code.pin) and len(code.token) >= 12
    # A /start payload: at most 64 characters of A-Z a-z 0-9 _ -.
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", f"ci_{code.token}")
    assert code.expires_at == world.clock.now + timedelta(minutes=5)
    world.clock.now = event.ends_at
    with pytest.raises(UserError):
        await _code(world, staff, event.id)


async def test_valid_expired_replayed_wrong_and_other_event_codes(world: World) -> None:
    staff = await world.staff()
    ours = await world.event(staff, title="清洁")
    theirs = await world.event(staff, title="义诊")
    vol, late, stranger = await world.volunteers(3)
    await _signed(world, ours, vol, late)
    await _signed(world, theirs, stranger)
    world.clock.now = ours.starts_at
    code = await _code(world, staff, ours.id)
    other = await _code(world, staff, theirs.id)

    done = await _check_in(world, vol, token=code.token)
    assert (done.event.id, done.at) == (ours.id, world.clock.now)
    replay = await _refused(world, vol, token=code.token)
    assert replay.key == "events.checkin.already"
    assert (await _refused(world, vol, pin=code.pin)).key == "events.checkin.already"
    assert (await _refused(world, late, token="nonsense")).key == "events.checkin.wrong_code"
    wrong_pin = "000000" if code.pin != "000000" and other.pin != "000000" else "999999"
    assert (await _refused(world, late, pin=wrong_pin)).key == "events.checkin.wrong_code"
    foreign = await _refused(world, late, token=other.token)
    assert (foreign.key, foreign.params["title"]) == ("events.checkin.not_your_event", "义诊")
    world.clock.advance(minutes=5)
    assert (await _refused(world, late, token=code.token)).key == "events.checkin.expired_code"
    assert (await _refused(world, late, pin=code.pin)).key == "events.checkin.expired_code"
    async with world.app.sessions() as session:
        rows = (await session.scalars(select(EventSignup).order_by(EventSignup.id))).all()
    assert [(r.user_id, r.attended, r.checkin_method) for r in rows] == [
        (vol, True, "qr"),
        (late, False, None),
        (stranger, False, None),
    ]


async def test_a_refreshed_code_leaves_the_previous_one_working_until_it_expires(
    world: World,
) -> None:
    staff = await world.staff()
    event = await world.event(staff)
    a, b, c = await world.volunteers(3)
    await _signed(world, event, a, b, c)
    world.clock.now = event.starts_at
    first = await _code(world, staff, event.id)
    world.clock.advance(minutes=3)
    second = await _code(world, staff, event.id)
    assert second.pin != first.pin and second.token != first.token
    await _check_in(world, a, pin=first.pin)
    await _check_in(world, b, pin=second.pin)
    world.clock.advance(minutes=2)
    assert (await _refused(world, c, token=first.token)).key == "events.checkin.expired_code"
    await _check_in(world, c, token=second.token)


async def test_waiting_list_and_pending_volunteers_cannot_check_in(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff, slots=1)
    first, waiting = await world.volunteers(2)
    pending = await world.volunteer("待审核", status="pending")
    await _signed(world, event, first, waiting)
    world.clock.now = event.starts_at
    code = await _code(world, staff, event.id)
    assert (await _refused(world, waiting, token=code.token)).key == (
        "events.checkin.on_waiting_list"
    )
    assert (await _refused(world, pending, token=code.token)).key == "events.volunteers_only"


async def test_no_check_in_after_the_end_even_with_a_live_code(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff)
    vol = await world.volunteer()
    await _signed(world, event, vol)
    world.clock.now = event.ends_at - timedelta(minutes=1)
    code = await _code(world, staff, event.id)
    world.clock.now = event.ends_at
    assert (await _refused(world, vol, token=code.token)).key == "events.checkin.event_over"


async def test_check_out_once_after_checking_in(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff)
    vol = await world.volunteer()
    await _signed(world, event, vol)
    world.clock.now = event.starts_at
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await checkin.check_out(world.app, session, vol, event.id)
    assert err.value.key == "events.checkin.not_checked_in"
    await _check_in(world, vol, token=(await _code(world, staff, event.id)).token)
    world.clock.advance(hours=2)
    async with world.app.sessions() as session:
        out = await checkin.check_out(world.app, session, vol, event.id)
        assert out.at == world.clock.now
        with pytest.raises(UserError) as err:
            await checkin.check_out(world.app, session, vol, event.id)
    assert err.value.key == "events.checkin.already_out"


async def test_attendance_points_once_each_after_the_event(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff, slots=3, points=5)
    scanned, by_hand, absent, walk_in = await world.volunteers(4)
    await _signed(world, event, scanned, by_hand, absent, walk_in)  # walk_in is waiting
    world.clock.now = event.starts_at
    await _check_in(world, scanned, token=(await _code(world, staff, event.id)).token)
    async with world.app.sessions() as session:
        await checkin.mark(world.app, session, staff, event.id, by_hand, attended=True)
        await checkin.mark(world.app, session, staff, event.id, walk_in, attended=True)
        sheet = await checkin.mark(world.app, session, staff, event.id, walk_in, attended=False)
        sheet = await checkin.mark(world.app, session, staff, event.id, walk_in, attended=True)
    assert {r.user_id: r.attended for r in sheet.rows} == {
        scanned: True,
        by_hand: True,
        absent: False,
        walk_in: True,
    }
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await checkin.confirm(world.app, session, staff, event.id)
    assert err.value.key == "events.attendance.too_early"
    world.clock.now = event.ends_at
    async with world.app.sessions() as session:
        sheet, awarded = await checkin.confirm(world.app, session, staff, event.id)
    assert sorted(awarded) == sorted([scanned, by_hand, walk_in])
    assert sheet.event.status == "closed" and sheet.present == 3
    source = f"{event.id}"
    assert await _ledger(world) == sorted(
        [(scanned, 5, source), (by_hand, 5, source), (walk_in, 5, source)]
    )
    told = await world.outbox(f"ev:{event.id}:points:5")
    assert sorted(r.user_id for r in told) == sorted(awarded)
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await checkin.confirm(world.app, session, staff, event.id)
        assert err.value.key == "events.attendance.already_confirmed"
        with pytest.raises(UserError):
            await checkin.mark(world.app, session, staff, event.id, absent, attended=True)
    assert len(await _ledger(world)) == 3


async def test_two_staff_confirming_at_once_award_once(any_db_world: World) -> None:
    world = any_db_world
    staff_a, staff_b = await world.staff("甲"), await world.staff("乙")
    event = await world.event(staff_a, slots=5, points=3)
    people = await world.volunteers(5)
    await _signed(world, event, *people)
    world.clock.now = event.starts_at
    for uid in people:
        async with world.app.sessions() as session:
            await checkin.mark(world.app, session, staff_a, event.id, uid, attended=True)
    world.clock.now = event.ends_at + timedelta(minutes=10)

    async def confirm(staff: int) -> object:
        async with world.app.sessions() as session:
            try:
                return await checkin.confirm(world.app, session, staff, event.id)
            except UserError as err:
                return err

    results = await asyncio.gather(confirm(staff_a), confirm(staff_b))
    assert sorted(type(r).__name__ for r in results) == ["UserError", "tuple"]
    assert await _ledger(world) == sorted((uid, 3, f"{event.id}") for uid in people)


async def test_pins_are_not_reused_while_alive(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    staff = await world.staff()
    event = await world.event(staff)
    world.clock.now = event.starts_at
    drawn = iter(["123456", "123456", "654321"])
    monkeypatch.setattr(checkin, "_random_pin", lambda: next(drawn))
    assert (await _code(world, staff, event.id)).pin == "123456"
    assert (await _code(world, staff, event.id)).pin == "654321"


def test_a_typed_pin_is_read_as_people_type_it() -> None:
    """Full-width digits and spaces between them are the same pin; anything else is not one."""
    assert checkin.typed_pin("１２３ ４５６") == "123456"
    assert checkin.typed_pin(" 123456\n") == "123456"
    assert checkin.typed_pin("12345") is None
    assert checkin.typed_pin("12a456") is None
    assert checkin.typed_pin("") is None
