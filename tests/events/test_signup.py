"""Events: creating and inviting, sign-up, the waiting list, cancelling, reminders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.db.models import Grid
from bot.db.models.events import Event
from bot.db.models.timers import Timer
from bot.scheduler.timers import fire_due
from bot.services.errors import UserError
from bot.services.outreach import events, signups
from bot.services.outreach.events import Segment
from tests.events.conftest import World


async def _sign(world: World, event_id: int, user_id: int) -> events.SignupState:
    async with world.app.sessions() as session:
        return await signups.sign_up(world.app, session, event_id, user_id)


async def _leave(world: World, event_id: int, user_id: int) -> events.SignupState:
    async with world.app.sessions() as session:
        return await signups.cancel_signup(world.app, session, event_id, user_id)


async def _taken(world: World, event_id: int) -> int:
    async with world.app.sessions() as session:
        return (await events.get_event(session, event_id)).taken


async def test_places_fill_then_the_waiting_line_grows_in_order(world: World) -> None:
    event = await world.event(slots=2)
    a, b, c, d = await world.volunteers(4)
    assert (await _sign(world, event.id, a)).status == "signed"
    assert (await _sign(world, event.id, b)).status == "signed"
    third = await _sign(world, event.id, c)
    fourth = await _sign(world, event.id, d)
    assert (third.status, third.position) == ("waiting", 1)
    assert (fourth.status, fourth.position) == ("waiting", 2)
    assert await _taken(world, event.id) == 2


async def test_a_freed_place_goes_to_the_first_in_line_who_is_told(world: World) -> None:
    event = await world.event(slots=1)
    a, b, c = await world.volunteers(3)
    for uid in (a, b, c):
        await _sign(world, event.id, uid)
    left = await _leave(world, event.id, a)
    assert left.promoted == [b]
    assert await world.statuses(event.id) == {a: "cancelled", b: "signed", c: "waiting"}
    assert await _taken(world, event.id) == 1
    assert world.notifier.kinds(b) == ["events.promoted"]
    assert world.notifier.kinds(c) == []


async def test_leaving_the_line_promotes_nobody_and_a_free_place_is_given_back(
    world: World,
) -> None:
    event = await world.event(slots=1)
    a, b = await world.volunteers(2)
    await _sign(world, event.id, a)
    await _sign(world, event.id, b)
    assert (await _leave(world, event.id, b)).promoted == []
    assert await world.statuses(event.id) == {a: "signed", b: "cancelled"}
    assert await _taken(world, event.id) == 1
    await _leave(world, event.id, a)
    assert await _taken(world, event.id) == 0


async def test_signing_up_again_after_cancelling_goes_to_the_back(world: World) -> None:
    event = await world.event(slots=1)
    a, b, c = await world.volunteers(3)
    for uid in (a, b, c):
        await _sign(world, event.id, uid)
    await _leave(world, event.id, b)
    again = await _sign(world, event.id, b)
    assert (again.status, again.position) == ("waiting", 2)


async def test_refusals_change_nothing(world: World) -> None:
    event = await world.event(slots=5)
    vol = await world.volunteer()
    pending = await world.volunteer("待审核", status="pending")
    resident = await world.user("居民")
    await _sign(world, event.id, vol)
    for who, key in (
        (vol, "events.already_signed"),
        (pending, "events.volunteers_only"),
        (resident, "events.volunteers_only"),
    ):
        with pytest.raises(UserError) as err:
            await _sign(world, event.id, who)
        assert err.value.key == key
    with pytest.raises(UserError) as err:
        await _leave(world, event.id, pending)
    assert err.value.key == "events.not_signed"
    with pytest.raises(UserError) as err:
        await _sign(world, 999, vol)
    assert err.value.key == "events.not_found"
    world.clock.now = event.signup_deadline
    with pytest.raises(UserError) as err:
        await _sign(world, event.id, await world.volunteer("迟到"))
    assert err.value.key == "events.deadline_passed"
    world.clock.now = event.starts_at
    with pytest.raises(UserError) as err:
        await _leave(world, event.id, vol)
    assert err.value.key == "events.too_late_to_cancel"
    assert await _taken(world, event.id) == 1


async def test_the_last_place_raced_by_20_goes_to_exactly_one(any_db_world: World) -> None:
    world = any_db_world
    event = await world.event(slots=3)
    early = await world.volunteers(2)
    for uid in early:
        await _sign(world, event.id, uid)
    racers = await world.volunteers(20, grid="G02")
    results = await asyncio.gather(*(_sign(world, event.id, uid) for uid in racers))
    winners = [r for r in results if r.status == "signed"]
    assert len(winners) == 1
    assert sorted(r.position for r in results if r.status == "waiting") == list(range(1, 20))
    assert await _taken(world, event.id) == 3
    statuses = await world.statuses(event.id)
    assert sum(1 for s in statuses.values() if s == "signed") == 3
    assert sum(1 for s in statuses.values() if s == "waiting") == 19


async def test_simultaneous_cancellations_promote_different_people(any_db_world: World) -> None:
    world = any_db_world
    event = await world.event(slots=3)
    holders = await world.volunteers(3)
    line = await world.volunteers(5, grid="G02")
    for uid in holders + line:
        await _sign(world, event.id, uid)
    results = await asyncio.gather(*(_leave(world, event.id, uid) for uid in holders))
    promoted = [uid for r in results for uid in r.promoted]
    assert sorted(promoted) == sorted(line[:3])
    statuses = await world.statuses(event.id)
    assert [statuses[uid] for uid in line] == ["signed"] * 3 + ["waiting"] * 2
    assert await _taken(world, event.id) == 3


async def test_the_same_person_pressing_twice_at_once_gets_one_place(any_db_world: World) -> None:
    world = any_db_world
    event = await world.event(slots=5)
    vol = await world.volunteer()
    results = await asyncio.gather(
        _sign(world, event.id, vol), _sign(world, event.id, vol), return_exceptions=True
    )
    assert sum(1 for r in results if isinstance(r, events.SignupState)) == 1
    refused = [r for r in results if isinstance(r, UserError)]
    assert [r.key for r in refused] == ["events.already_signed"]
    assert await _taken(world, event.id) == 1


async def test_invitations_go_to_the_segment_and_the_grids_linked_group(world: World) -> None:
    async with world.app.sessions() as session:
        await session.execute(update(Grid).where(Grid.code == "G01").values(group_chat_id=-100501))
        await session.commit()
    g1 = await world.volunteers(2, grid="G01")
    await world.volunteers(1, grid="G02")
    event = await world.event()
    rows = await world.outbox(f"ev:{event.id}")
    assert sorted(r.user_id for r in rows if r.user_id) == sorted(g1)
    assert [r.chat_id for r in rows if r.chat_id] == [-100501]
    assert {r.kind for r in rows} == {"events.invite"}
    assert all(r.params == {"event_id": event.id} for r in rows)


async def test_community_and_skill_segments(world: World) -> None:
    near = await world.volunteer("甲", "G01", skills=["repair"])
    also = await world.volunteer("乙", "G02", skills=["health"])
    far = await world.volunteer("丙", "G09", skills=["repair"])
    whole = await world.event(segment=Segment("community", community="幸福社区"))
    users = {r.user_id for r in await world.outbox(f"ev:{whole.id}")}
    assert users == {near, also}
    skilled = await world.event(skills=("repair",), segment=Segment("skill"))
    users = {r.user_id for r in await world.outbox(f"ev:{skilled.id}")}
    assert users == {near, far}


async def test_reminders_the_day_before_and_an_hour_before_reach_those_with_a_place(
    world: World,
) -> None:
    event = await world.event(slots=1)
    a, b = await world.volunteers(2)
    await _sign(world, event.id, a)
    await _sign(world, event.id, b)  # waiting: no reminder
    world.clock.now = event.starts_at - timedelta(days=1)
    assert await fire_due(world.app) == 1
    day = await world.outbox(f"ev:{event.id}:remind:day")
    assert [(r.user_id, r.params["which"]) for r in day] == [(a, "day")]
    world.clock.now = event.starts_at - timedelta(minutes=59)
    assert await fire_due(world.app) == 1
    assert [r.user_id for r in await world.outbox(f"ev:{event.id}:remind:hour")] == [a]
    assert await fire_due(world.app) == 0  # each fires once


async def test_an_event_soon_gets_only_the_reminders_still_ahead(world: World) -> None:
    starts = world.clock.now + timedelta(hours=5)
    event = await world.event(
        starts_at=starts, ends_at=starts + timedelta(hours=1), signup_deadline=starts
    )
    async with world.app.sessions() as session:
        keys = (await session.scalars(select(Timer.key))).all()
    assert sorted(keys) == [f"event:{event.id}:rate", f"event:{event.id}:remind:hour"]


async def test_calling_off_tells_everyone_and_drops_the_reminders(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff, slots=1)
    a, b = await world.volunteers(2)
    await _sign(world, event.id, a)
    await _sign(world, event.id, b)
    async with world.app.sessions() as session:
        await events.cancel_event(world.app, session, staff, event.id)
    told = await world.outbox(f"ev:{event.id}:off")
    assert sorted(r.user_id for r in told) == sorted([a, b])
    async with world.app.sessions() as session:
        assert (await session.scalars(select(Timer))).all() == []
        assert (await session.get(Event, event.id)).status == "cancelled"  # type: ignore[union-attr]
    with pytest.raises(UserError):
        await _sign(world, event.id, await world.volunteer("新人"))


async def test_upcoming_lists_invited_and_joined_events_with_their_state(world: World) -> None:
    mine = await world.volunteer("甲", "G01")
    own_grid = await world.event(title="本网格", slots=1)
    other_grid = await world.event(
        title="别的网格", segment=Segment("grid", grid_id=world.grids["G02"])
    )
    await world.event(title="别的网格2", segment=Segment("grid", grid_id=world.grids["G02"]))
    await _sign(world, other_grid.id, mine)  # joined through a forwarded invitation
    async with world.app.sessions() as session:
        states = await signups.upcoming_for(world.app, session, mine)
    assert [(s.event.title, s.status) for s in states] == [("本网格", None), ("别的网格", "signed")]
    assert own_grid.id in {s.event.id for s in states}


def test_drafts_are_checked_before_anything_is_written(world: World) -> None:
    bad = [
        (world.draft(slots=0), "events.form.number_range"),
        (world.draft(points=-1), "events.form.number_range"),
        (world.draft(starts_at=world.clock.now - timedelta(hours=1)), "events.form.in_the_past"),
        (
            world.draft(signup_deadline=world.clock.now + timedelta(days=3)),
            "events.form.bad_deadline",
        ),
        (world.draft(skills=("nonsense",)), "errors.stale_button"),
        (world.draft(segment=Segment("skill")), "events.form.skill_segment_needs_skills"),
    ]
    for draft, key in bad:
        with pytest.raises(UserError) as err:
            events.check_draft(world.app, draft)
        assert err.value.key == key
    events.check_draft(world.app, world.draft())


async def test_grid_staff_publish_for_their_own_grid_only(world: World) -> None:
    grid_staff = await world.staff("网格员", grid="G01")
    await world.volunteers(2, grid="G01")
    async with world.app.sessions() as session:
        shown = await events.preview(world.app, session, grid_staff, world.draft())
    assert (shown.event.id, shown.volunteers, shown.groups) == (0, 2, 0)
    await world.event(grid_staff)
    for segment in (
        Segment("grid", grid_id=world.grids["G02"]),
        Segment("community", community="幸福社区"),
    ):
        with pytest.raises(UserError) as err:
            await world.event(grid_staff, segment=segment)
        assert err.value.key == "events.form.not_your_grid"
    with pytest.raises(UserError) as err:
        await world.event(await world.volunteer())
    assert err.value.key == "errors.staff_only"
