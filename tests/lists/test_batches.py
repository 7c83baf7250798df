"""召集人汇总: declarations gathered by a convenor, forwarded in a batch, verified by staff."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db.models import DeclarationBatch
from bot.db.models.lists import BATCH_FORWARDED, BATCH_RETURNED, BATCH_VERIFIED
from bot.services.errors import UserError
from bot.services.points import batch_states, batches, convenors, declarations
from bot.services.points.declarations import DeclarationForm
from tests.conftest import ManualClock
from tests.points.conftest import World, make_world

FORM = DeclarationForm(what="帮独居老人换灯泡、打扫楼道", when_text="11月18日上午")


@pytest.fixture
async def cw(db_url: str, clock: ManualClock) -> AsyncIterator[World]:
    """A world whose community works with convenors (on SQLite and PostgreSQL)."""
    w = await make_world(db_url, clock, declarations_via_convenor=True)
    try:
        yield w
    finally:
        await w.engine.dispose()


async def _submit(w: World, user_id: int, what: str = FORM.what) -> int:
    async with w.app.sessions() as session:
        form = DeclarationForm(what=what, when_text=FORM.when_text)
        return (await declarations.submit(w.app, session, user_id, form)).id


async def _setup(w: World) -> tuple[int, int, int, list[int]]:
    staff = await w.staff("网格员", grid="G01")
    convenor = await w.volunteer("召集人老周", grid="G01")
    async with w.app.sessions() as session:
        await convenors.appoint(w.app, session, staff, convenor, "grid")
    members = [await w.volunteer(f"党员{i}", grid="G01") for i in range(3)]
    return staff, convenor, members[0], members


async def test_declarations_go_to_the_convenor_then_a_batch_to_staff(cw: World) -> None:
    staff, convenor, _, members = await _setup(cw)
    other_grid = await cw.volunteer("外网格", grid="G02")
    ids = [await _submit(cw, m) for m in members]
    await _submit(cw, other_grid)
    await _submit(cw, convenor)  # their own: not theirs to gather
    assert cw.notifier.kinds(convenor)[-3:] == ["convenor.declared"] * 3
    # The members' go to the convenor; only the convenor's own goes to staff directly.
    assert cw.notifier.kinds(staff) == ["declare.review"]
    async with cw.app.sessions() as session:
        assert [d.id for d in await batches.waiting(session, convenor)] == ids
    async with cw.app.sessions() as session:
        view = await batches.forward(cw.app, session, convenor, "三位党员本周入户服务，已核对")
    assert [d.id for d in view.items] == ids and view.status == BATCH_FORWARDED
    assert cw.notifier.kinds(staff)[-1] == "convenor.batch_review"
    async with cw.app.sessions() as session:
        assert await batches.waiting(session, convenor) == []
        with pytest.raises(UserError) as nothing:
            await batches.forward(cw.app, session, convenor, "再转一次")
    assert nothing.value.key == "convenor.nothing_waiting"
    # Staff reject one with a reason, then approve the rest at once.
    async with cw.app.sessions() as session:
        view = await batches.decide_item(
            cw.app, session, staff, view.id, ids[0], approve=False, reason="时间对不上"
        )
    assert view.status == BATCH_FORWARDED and len(view.pending) == 2
    async with cw.app.sessions() as session:
        view = await batches.approve_all(cw.app, session, staff, view.id)
    assert view.status == BATCH_VERIFIED
    assert [d.status for d in view.items] == ["rejected", "approved", "approved"]
    assert await cw.balance(members[0]) == 0
    assert await cw.balance(members[1]) == view.items[1].points
    assert cw.notifier.kinds(convenor)[-1] == "convenor.batch_verified"
    async with cw.app.sessions() as session:
        with pytest.raises(UserError) as closed:
            await batches.approve_all(cw.app, session, staff, view.id)
    assert closed.value.key == "convenor.batch_closed"
    assert len(await cw.entries(members[1])) == 1  # approved once


async def test_a_returned_batch_gives_its_items_back_to_the_convenor(cw: World) -> None:
    staff, convenor, _, members = await _setup(cw)
    ids = [await _submit(cw, m) for m in members[:2]]
    async with cw.app.sessions() as session:
        first = await batches.forward(cw.app, session, convenor, "两条申报")
    async with cw.app.sessions() as session:
        await batches.decide_item(cw.app, session, staff, first.id, ids[0], approve=True)
    async with cw.app.sessions() as session:
        back = await batches.return_batch(cw.app, session, staff, first.id, "请补充服务时长")
    assert back.status == BATCH_RETURNED
    assert cw.notifier.sent[-1][1].params["reason"] == "请补充服务时长"
    async with cw.app.sessions() as session:
        assert [d.id for d in await batches.waiting(session, convenor)] == [ids[1]]
        second = await batches.forward(cw.app, session, convenor, "补充了时长")
    assert [d.id for d in second.items] == [ids[1]]


async def test_who_may_convene_and_verify(cw: World) -> None:
    staff, convenor, member, _ = await _setup(cw)
    other_staff = await cw.staff("别的网格员", grid="G02")
    await _submit(cw, member)
    async with cw.app.sessions() as session:
        with pytest.raises(UserError) as not_convenor:
            await batches.waiting(session, member)
    assert not_convenor.value.key == "convenor.not_convenor"
    async with cw.app.sessions() as session:
        view = await batches.forward(cw.app, session, convenor, "一条")
    async with cw.app.sessions() as session:
        with pytest.raises(UserError) as scope:
            await batches.approve_all(cw.app, session, other_staff, view.id)
        assert await batches.forwarded(session, other_staff) == []
        assert [b.id for b in await batches.forwarded(session, staff)] == [view.id]
    assert scope.value.key == "convenor.not_your_grid"
    resident_helper = await cw.volunteer("居民志愿者", grid="G01")
    async with cw.app.sessions() as session:
        from bot.db.models import Volunteer

        row = await session.get(Volunteer, resident_helper)
        assert row is not None
        row.kind = "resident"
        await session.commit()
    async with cw.app.sessions() as session:
        with pytest.raises(UserError) as members_only:
            await convenors.appoint(cw.app, session, staff, resident_helper, "grid")
    assert members_only.value.key == "convenor.members_only"


async def test_without_the_setting_staff_review_directly(world: World) -> None:
    staff, convenor, member, _ = await _setup(world)
    await _submit(world, member)
    assert world.notifier.kinds(staff)[-1] == "declare.review"
    assert "convenor.declared" not in world.notifier.kinds(convenor)


async def test_org_convenor_gathers_their_branch_across_grids(cw: World) -> None:
    staff = await cw.staff("书记")
    convenor = await cw.volunteer("支部召集人", grid="G01")
    async with cw.app.sessions() as session:
        view = await convenors.appoint(cw.app, session, staff, convenor, "org")
    assert view.branch == "支部" and view.grid_name is None
    far = await cw.volunteer("河西党员", grid="G09")  # same branch ("支部"), another community
    did = await _submit(cw, far)
    async with cw.app.sessions() as session:
        assert [d.id for d in await batches.waiting(session, convenor)] == [did]


# --- the batch's state machine ------------------------------------------------------------


def test_exhaustive_walk_of_the_batch_state_machine() -> None:
    """Every sequence of up to 5 actions on batches of 0-3 items, against the model:
    verified exactly when the last item is decided, final states accept nothing."""
    for size in range(4):
        for length in range(6):
            for actions in itertools.product(("decide", "return"), repeat=length):
                status, pending = BATCH_FORWARDED, size
                for action in actions:
                    if status != BATCH_FORWARDED or (action == "decide" and pending == 0):
                        with pytest.raises(ValueError):
                            batch_states.after(status, action, pending - 1)
                        if status != BATCH_FORWARDED:
                            break
                        continue
                    pending -= action == "decide"
                    new = batch_states.after(status, action, pending)
                    assert batch_states.allowed(status, new)
                    if action == "return":
                        assert new == BATCH_RETURNED
                    else:
                        assert (new == BATCH_VERIFIED) == (pending == 0)
                    status = new


Step = tuple[str, int]  # ("all" | "ok" | "no" | "ret", item index)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.tuples(st.sampled_from(["all", "ok", "no", "ret"]), st.integers(0, 2)), max_size=6)
)
async def test_batch_property_random_decisions(tmp_path: Path, steps: list[Step]) -> None:
    """Random staff actions on a 3-item batch: an item is decided at most once, points are
    awarded once per approval, and the batch is verified iff nothing is pending (unless
    returned)."""
    w = await make_world(f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.db", ManualClock())
    try:
        staff, convenor, _, members = await _setup(w)
        ids = [await _submit(w, m) for m in members]
        async with w.app.sessions() as session:
            batch_id = (await batches.forward(w.app, session, convenor, "三条")).id
        for action, index in steps:
            async with w.app.sessions() as session:
                try:
                    if action == "all":
                        await batches.approve_all(w.app, session, staff, batch_id)
                    elif action == "ret":
                        await batches.return_batch(w.app, session, staff, batch_id, "退回")
                    else:
                        await batches.decide_item(
                            w.app,
                            session,
                            staff,
                            batch_id,
                            ids[index],
                            approve=action == "ok",
                            reason="不符",
                        )
                except UserError as err:
                    assert err.key in ("convenor.batch_closed", "declare.already_reviewed")
        async with w.app.sessions() as session:
            view = await batches.batch_view(session, batch_id)
            status = await session.scalar(
                select(DeclarationBatch.status).where(DeclarationBatch.id == batch_id)
            )
        assert status == view.status
        if view.status != BATCH_RETURNED:
            assert (view.status == BATCH_VERIFIED) == (view.pending == [])
        for item, member in zip(view.items, members, strict=True):
            entries = await w.entries(member)
            assert len(entries) == (1 if item.status == "approved" else 0)
    finally:
        await w.engine.dispose()


async def test_a_convenor_who_erases_their_data_leaves_no_summary(cw: World) -> None:
    from bot.db.models import Convenor
    from bot.services.people import actors

    _, convenor, member, _ = await _setup(cw)
    await _submit(cw, member)
    async with cw.app.sessions() as session:
        batch = await batches.forward(cw.app, session, convenor, "老周的汇总意见")
    async with cw.app.sessions() as session:
        await actors.erase_user(cw.app, session, convenor)
    async with cw.app.sessions() as session:
        assert await session.get(Convenor, convenor) is None
        assert (await batches.batch_view(session, batch.id)).summary == ""


async def test_staff_list_waits_for_the_convenor_then_shows_nothing_twice(cw: World) -> None:
    """With convenors, staff's pending list (the dashboard) leaves out what a convenor still
    gathers; a forwarded batch's items are back in it; without a convenor, as before."""
    _, convenor, member, _ = await _setup(cw)
    lone = await cw.volunteer("河西党员", grid="G09")
    lone_branch = "河西支部"
    async with cw.app.sessions() as session:
        from bot.db.models import Volunteer

        row = await session.get(Volunteer, lone)
        assert row is not None
        row.branch = lone_branch
        await session.commit()
    gathered = await _submit(cw, member)
    direct = await _submit(cw, lone)  # nobody gathers G09 or 河西支部: staff review it
    community = await cw.staff("书记")

    async def listed() -> list[int]:
        async with cw.app.sessions() as session:
            views = await declarations.pending(session, community, via_convenor=True)
            return [v.id for v in views]

    assert await listed() == [direct]
    async with cw.app.sessions() as session:
        assert [v.id for v in await declarations.pending(session, community)] == [gathered, direct]
        await batches.forward(cw.app, session, convenor, "一条")
    assert await listed() == [gathered, direct]
