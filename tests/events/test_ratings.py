"""Event evaluation: the prompt to those present (once each), ratings once, the results."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db.models.events import EventSignup
from bot.scheduler.timers import fire_due
from bot.services.errors import UserError
from bot.services.outreach import checkin, ratings, signups
from tests.events.conftest import World


async def _present(world: World, staff: int, event_id: int, *user_ids: int) -> None:
    for uid in user_ids:
        async with world.app.sessions() as session:
            await checkin.mark(world.app, session, staff, event_id, uid, attended=True)


async def test_attendees_rate_once_and_organisers_see_the_results(any_db_world: World) -> None:
    w = any_db_world
    staff = await w.staff()
    event = await w.event(staff)
    a, b, c = await w.volunteers(3)
    for uid in (a, b, c):
        async with w.app.sessions() as session:
            await signups.sign_up(w.app, session, event.id, uid)
    w.at(event.starts_at)
    assert await fire_due(w.app) == 2  # the day's and the hour's reminders
    await _present(w, staff, event.id, a, b)
    async with w.app.sessions() as session:
        with pytest.raises(UserError) as err:  # not over yet
            await ratings.rate(w.app, session, event.id, a, 5)
    assert err.value.key == "events.rating.too_early"
    # At the end the timer asks the two present, through the outbox, once each.
    w.at(event.ends_at)
    assert await fire_due(w.app) == 1
    asked = await w.outbox(f"ev:{event.id}:rate")
    assert sorted(r.user_id for r in asked) == sorted([a, b])
    assert {r.kind for r in asked} == {"events.rate_prompt"}
    # Staff mark c present afterwards and confirm: only c is asked now.
    await _present(w, staff, event.id, c)
    async with w.app.sessions() as session:
        await checkin.confirm(w.app, session, staff, event.id)
    asked = await w.outbox(f"ev:{event.id}:rate")
    assert sorted(r.user_id for r in asked) == sorted([a, b, c])
    async with w.app.sessions() as session:
        assert await ratings.rate(w.app, session, event.id, a, 5) == 5
        await ratings.rate(w.app, session, event.id, b, 2)
        await ratings.comment(w.app, session, event.id, a, "组织得很好，下次还来")
        with pytest.raises(UserError) as err:
            await ratings.rate(w.app, session, event.id, a, 1)
        assert err.value.key == "events.rating.already"
        with pytest.raises(UserError):
            await ratings.comment(w.app, session, event.id, a, "再说一句")
        with pytest.raises(UserError):
            await ratings.rate(w.app, session, event.id, a, 6)
        summary = await ratings.results(session, event.id)
        rated = await ratings.averages(session, event.starts_at, event.ends_at)
    assert (summary.count, summary.present, summary.average) == (2, 3, 3.5)
    assert summary.histogram == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert summary.comments == ["组织得很好，下次还来"]
    assert [(r.event_id, r.count, r.average) for r in rated] == [(event.id, 2, 3.5)]
    assert ratings.overall(rated) == 3.5


async def test_only_those_present_may_rate(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff)
    a, absent = await world.volunteers(2)
    for uid in (a, absent):
        async with world.app.sessions() as session:
            await signups.sign_up(world.app, session, event.id, uid)
    world.at(event.ends_at + timedelta(minutes=1))
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await ratings.rate(world.app, session, event.id, absent, 5)
        assert err.value.key == "events.rating.not_attended"
        assert await session.get(EventSignup, 1) is not None
        summary = await ratings.results(session, event.id)
    assert summary.count == 0 and summary.average is None


async def test_a_called_off_event_asks_nobody(world: World) -> None:
    staff = await world.staff()
    event = await world.event(staff)
    async with world.app.sessions() as session:
        from bot.services.outreach import events

        await events.cancel_event(world.app, session, staff, event.id)
    world.at(event.ends_at)
    assert await fire_due(world.app) == 0  # the rating prompt went with the reminders
    assert await world.outbox(f"ev:{event.id}:rate") == []
