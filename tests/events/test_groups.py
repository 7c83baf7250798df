"""Linking grid group chats (联络群): staff only, one group per grid, moves and migrations."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import AuditEntry, Grid
from bot.services.errors import UserError
from bot.services.outreach import groups
from tests.events.conftest import World


async def _links(world: World) -> dict[str, int | None]:
    async with world.app.sessions() as session:
        return dict((await session.execute(select(Grid.code, Grid.group_chat_id))).all())


async def test_staff_link_and_unlink_a_group(world: World) -> None:
    staff = await world.staff()
    async with world.app.sessions() as session:
        result = await groups.link_group(session, staff, -1001, "g02")
        assert (result.grid_code, result.replaced_chat_id, result.previous_grid_code) == (
            "G02",
            None,
            None,
        )
        assert await groups.grid_of_chat(session, -1001) == "G02"
    assert (await _links(world))["G02"] == -1001
    async with world.app.sessions() as session:
        assert await groups.unlink_group(session, staff, -1001) == "G02"
        with pytest.raises(UserError) as err:
            await groups.unlink_group(session, staff, -1001)
        assert err.value.key == "groups.not_linked"
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert (await _links(world))["G02"] is None
    assert actions == ["group.link", "group.unlink"]


async def test_relinking_moves_the_group_and_replaces_the_grids_old_group(world: World) -> None:
    staff = await world.staff()
    async with world.app.sessions() as session:
        await groups.link_group(session, staff, -1001, "G01")
        await groups.link_group(session, staff, -1002, "G02")
        moved = await groups.link_group(session, staff, -1001, "G02")
    assert (moved.previous_grid_code, moved.replaced_chat_id) == ("G01", -1002)
    assert await _links(world) == {"G01": None, "G02": -1001, "G09": None}


async def test_only_staff_and_grid_staff_only_for_their_grid(world: World) -> None:
    volunteer = await world.volunteer()
    grid_staff = await world.staff("网格员", grid="G01")
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await groups.link_group(session, volunteer, -1001, "G01")
        assert err.value.key == "groups.staff_only"
        with pytest.raises(UserError) as err:
            await groups.link_group(session, grid_staff, -1001, "G02")
        assert err.value.key == "groups.not_your_grid"
        with pytest.raises(UserError) as err:
            await groups.link_group(session, grid_staff, -1001, "G77")
        assert err.value.key == "groups.unknown_grid"
        await groups.link_group(session, grid_staff, -1001, "G01")
    assert (await _links(world))["G01"] == -1001


async def test_a_group_upgraded_to_a_supergroup_keeps_its_link(world: World) -> None:
    staff = await world.staff()
    async with world.app.sessions() as session:
        await groups.link_group(session, staff, -1001, "G01")
        await groups.follow_migration(session, -1001, -100123456)
    assert (await _links(world))["G01"] == -100123456
