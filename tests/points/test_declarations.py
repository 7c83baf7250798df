"""党员申报: declared by the volunteer, reviewed by their grid's staff (else community staff)."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.errors import UserError
from bot.services.points import declarations
from bot.services.points.declarations import DeclarationForm
from tests.points.conftest import World

FORM = DeclarationForm(
    what="陪独居老人去医院复查，帮忙挂号取药", when_text="11月18日上午", note="约3小时"
)


async def _submit(w: World, user_id: int, form: DeclarationForm = FORM) -> int:
    async with w.app.sessions() as session:
        return (await declarations.submit(w.app, session, user_id, form)).id


async def test_declaration_goes_to_grid_staff_and_approval_awards_once(world: World) -> None:
    community_staff = await world.staff("社区书记")
    grid_staff = await world.staff("网格员", grid="G01")
    vol = await world.volunteer("陈红", grid="G01")
    did = await _submit(world, vol)
    assert world.notifier.kinds(grid_staff) == ["declare.review"]
    assert world.notifier.kinds(community_staff) == []  # the grid has its own reviewer
    async with world.app.sessions() as session:
        view = await declarations.declaration_view(session, did)
    assert view.category == "health" and view.suggested_points == 10
    assert (view.what, view.when_text, view.note) == (FORM.what, FORM.when_text, FORM.note)
    async with world.app.sessions() as session:
        done = await declarations.approve(world.app, session, grid_staff, did)
    assert done.status == "approved" and done.points == 10
    entries = await world.entries(vol)
    assert [(e.kind, e.amount, e.source_type, e.approved_by) for e in entries] == [
        ("award", 10, "declaration", grid_staff)
    ]
    assert "陪独居老人" in entries[0].reason and entries[0].category == "health"
    told = [n for uid, n in world.notifier.sent if uid == vol]
    assert told[-1].kind == "declare.approved" and told[-1].params["balance"] == 10
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as again:
            await declarations.reject(world.app, session, community_staff, did, "重复")
    assert again.value.key == "declare.already_reviewed"
    assert await world.balance(vol) == 10


async def test_without_grid_staff_the_community_staff_review(world: World) -> None:
    community_staff = await world.staff("社区书记")
    vol = await world.volunteer(grid="G02")
    await _submit(world, vol)
    assert world.notifier.kinds(community_staff) == ["declare.review"]


async def test_points_are_capped_by_config_and_reject_tells_why(world: World) -> None:
    staff = await world.staff()
    vol = await world.volunteer()
    first, second = await _submit(world, vol), await _submit(world, vol)
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as too_many:
            await declarations.approve(world.app, session, staff, first, 21)
    assert too_many.value.key == "declare.points_invalid" and too_many.value.params["max"] == 20
    async with world.app.sessions() as session:
        await declarations.approve(world.app, session, staff, first, 20)
    async with world.app.sessions() as session:
        await declarations.reject(world.app, session, staff, second, "照片看不清，请补充")
    assert await world.balance(vol) == 20
    rejected = [n for uid, n in world.notifier.sent if uid == vol][-1]
    assert rejected.kind == "declare.rejected"
    assert rejected.params["reason"] == "照片看不清，请补充"
    assert declarations.parse_points(world.app, "15") == 15
    with pytest.raises(UserError):
        declarations.parse_points(world.app, "25")


async def test_other_grid_staff_cannot_review(world: World) -> None:
    await world.staff("网格员一", grid="G01")
    other = await world.staff("网格员二", grid="G02")
    vol = await world.volunteer(grid="G01")
    did = await _submit(world, vol)
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as refused:
            await declarations.approve(world.app, session, other, did)
    assert refused.value.key == "points.not_your_grid"
    async with world.app.sessions() as session:
        assert await declarations.pending(session, other) == []


async def test_two_staff_approving_at_once_award_once(both: World) -> None:
    staff = [await both.staff(f"员{i}") for i in range(4)]
    vol = await both.volunteer()
    did = await _submit(both, vol)

    async def approve(staff_id: int) -> bool:
        async with both.app.sessions() as session:
            try:
                await declarations.approve(both.app, session, staff_id, did)
            except UserError:
                return False
            return True

    assert (await asyncio.gather(*(approve(s) for s in staff))).count(True) == 1
    assert await both.balance(vol) == 10


@pytest.mark.parametrize(
    "form",
    [
        DeclarationForm(what="", when_text="昨天"),
        DeclarationForm(what="帮忙", when_text=""),
        DeclarationForm(what="x" * 301, when_text="昨天"),
        DeclarationForm(what="/points", when_text="昨天"),
    ],
)
async def test_bad_declarations_are_refused(world: World, form: DeclarationForm) -> None:
    vol = await world.volunteer()
    async with world.app.sessions() as session:
        with pytest.raises(UserError):
            await declarations.submit(world.app, session, vol, form)


async def test_only_approved_volunteers_declare(world: World) -> None:
    resident = await world.user("居民")
    async with world.app.sessions() as session:
        with pytest.raises(UserError) as refused:
            await declarations.submit(world.app, session, resident, FORM)
    assert refused.value.key == "points.volunteers_only"
