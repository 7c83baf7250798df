"""党群接单 in the services: a resident volunteer signs up, and what counts them apart."""

from __future__ import annotations

import pytest

from bot.db.models import Volunteer
from bot.services.errors import UserError
from bot.services.people import helpers
from bot.services.tasks import volunteer_pool
from tests.points.conftest import World


async def test_resident_volunteers_get_no_duty_boost_in_the_ranking(world: World) -> None:
    """The yearly duty (每年至少下沉社区1次) is a member's: the ranking's duty feature leaves a
    resident volunteer who has not served yet alone, and lifts a member in the same place."""
    member = await world.volunteer("党员", grid="G01")
    helper = await world.volunteer("居民志愿者", grid="G01")
    async with world.app.sessions() as session:
        row = await session.get(Volunteer, helper)
        assert row is not None
        row.kind = "resident"
        await session.commit()
    async with world.app.sessions() as session:
        ctx = await volunteer_pool.build_pool(session, world.app.settings, world.app.now())
    served = dict(zip(ctx.pool.ids.tolist(), ctx.pool.served_this_year.tolist(), strict=True))
    assert served[member] is False and served[helper] is True


async def test_only_a_registered_resident_may_sign_up_as_a_helper(world: World) -> None:
    from bot.db.models import Resident

    stranger = await world.user("路人")
    form = helpers.HelperForm(name="赵梅", skills=["repair"], availability=["sat_morning"])
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await helpers.register_helper(world.app, session, stranger, form)
    assert err.value.key == "helper.residents_only"
    async with world.app.sessions() as session:
        session.add(
            Resident(
                user_id=stranger,
                grid_id=world.grids["G02"],
                building="8栋",
                consent_at=world.clock.now,
            )
        )
        await session.commit()
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as empty:
            await helpers.register_helper(
                world.app, session, stranger, helpers.HelperForm(name="赵梅")
            )
        assert empty.value.key == "volunteer.choose_one"
        status = await helpers.register_helper(world.app, session, stranger, form)
    assert status == "pending"
    async with world.app.sessions() as session:
        row = await session.get(Volunteer, stranger)
        assert row is not None
        assert (row.kind, row.grid_id, row.unit, row.building) == (
            "resident",
            world.grids["G02"],
            "",
            "8栋",
        )
        with pytest.raises(UserError) as twice:
            await helpers.check_may_register(session, stranger)
    assert twice.value.key == "volunteer.already_registered"
