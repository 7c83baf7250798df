"""Standing posts: define, claim (one holder, under a race too), monthly check-ins with points
once per month, terms that run out, giving back, vacancies broadcast, the yearly duty."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.db.models.points import LedgerEntry
from bot.services.errors import UserError
from bot.services.posts import posts
from bot.services.reports import evaluations
from bot.services.reports import patrols as patrol_report
from tests.patrols.conftest import PatrolWorld


async def _post(pw: PatrolWorld, staff: int, grid: str | None = "G01") -> posts.PostView:
    async with pw.app.sessions() as session:
        return await posts.create_post(
            pw.app,
            session,
            staff,
            kind="stairwell",
            title="8栋楼道长",
            grid_id=pw.grids[grid] if grid else None,
            duties="每周巡看楼道，收集邻里诉求",
        )


async def test_claim_check_in_monthly_and_points_once(pw: PatrolWorld) -> None:
    staff = await pw.w.staff()
    li = await pw.w.volunteer("李明", "G01")
    post = await _post(pw, staff)
    assert post.status == "vacant"
    async with pw.app.sessions() as session:
        held = await posts.claim(pw.app, session, li, post.id)
        assert held.status == "held" and held.holder_id == li
        assert held.term_ends_at is not None and held.term_ends_at.year == 2027
        first = await posts.check_in(
            pw.app, session, li, post.id, "整理了楼道杂物，劝导两户电动车下楼"
        )
        assert (first.month, first.points) == ("2026-11", 2)
        assert first.post.checked_in_this_month
        with pytest.raises(UserError) as err:
            await posts.check_in(pw.app, session, li, post.id, "又来一次")
        assert err.value.key == "posts.already_checked_in"
    pw.clock.advance(days=15)  # December
    async with pw.app.sessions() as session:
        second = await posts.check_in(pw.app, session, li, post.id, "组织楼道大扫除")
        assert second.month == "2026-12"
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.source_type == "post"))
        ).all()
    assert sorted(e.source_id for e in entries) == [
        f"{held.term_id}:2026-11",
        f"{held.term_id}:2026-12",
    ]
    # Each month on the post counts as a service toward the yearly duty.
    async with pw.app.sessions() as session:
        served = await evaluations.service_counts(
            session, evaluations.year_period(pw.app.settings.tz, 2026)
        )
        report = await patrol_report.monthly(pw.app, session, 2026, 12)
    assert served[li] == 2
    g01 = next(g for g in report.grids if g.code == "G01")
    assert (g01.posts_held, g01.post_checkins) == (1, 1)


async def test_one_holder_even_when_two_press_at_once(any_db_pw: PatrolWorld) -> None:
    pw = any_db_pw
    staff = await pw.w.staff()
    people = [await pw.w.volunteer(f"志愿者{i}", "G01") for i in range(6)]
    post = await _post(pw, staff)

    async def try_one(uid: int) -> bool:
        async with pw.app.sessions() as session:
            try:
                await posts.claim(pw.app, session, uid, post.id)
                return True
            except UserError:
                return False

    assert sum(await asyncio.gather(*(try_one(uid) for uid in people))) == 1


async def test_rules_on_who_may_claim_and_check_in(pw: PatrolWorld) -> None:
    staff = await pw.w.staff()
    li, wang = await pw.w.volunteer("李明", "G01"), await pw.w.volunteer("王刚", "G01")
    other = await pw.w.volunteer("河西", "G09")
    pending = await pw.w.volunteer("待审", "G01", status="pending")
    post = await _post(pw, staff)
    async with pw.app.sessions() as session:
        for who, key in ((other, "posts.other_grid"), (pending, "posts.members_only")):
            with pytest.raises(UserError) as err:
                await posts.claim(pw.app, session, who, post.id)
            assert err.value.key == key
        await posts.claim(pw.app, session, li, post.id)
        again = await posts.claim(pw.app, session, li, post.id)  # a double tap: no change
        assert again.holder_id == li
        with pytest.raises(UserError) as err:
            await posts.claim(pw.app, session, wang, post.id)
        assert err.value.key == "posts.taken"
        with pytest.raises(UserError) as err:
            await posts.check_in(pw.app, session, wang, post.id, "我不是岗位人")
        assert err.value.key == "posts.not_yours"
        with pytest.raises(UserError):
            await posts.check_in(pw.app, session, li, post.id, "   ")
        back = await posts.give_back(pw.app, session, li, post.id)
        assert back.status == "vacant" and back.holder_id is None
        mine = await posts.claim(pw.app, session, wang, post.id)
        assert mine.holder_id == wang


async def test_a_term_runs_out_and_the_post_is_vacant_again(pw: PatrolWorld) -> None:
    staff = await pw.w.staff()
    li = await pw.w.volunteer("李明", "G01")
    post = await _post(pw, staff)
    async with pw.app.sessions() as session:
        await posts.claim(pw.app, session, li, post.id)
    pw.clock.advance(days=400)
    async with pw.app.sessions() as session:
        listed = await posts.list_posts(pw.app, session, li, staff=False)
        assert [p.status for p in listed] == ["vacant"]
        with pytest.raises(UserError) as err:
            await posts.check_in(pw.app, session, li, post.id, "任期已过")
        assert err.value.key == "posts.not_yours"


async def test_vacant_posts_are_broadcast_through_the_broadcast_service(pw: PatrolWorld) -> None:
    staff = await pw.w.staff()
    g01 = [await pw.w.volunteer(f"一网格{i}", "G01") for i in range(3)]
    await pw.w.volunteer("河西", "G09")
    await _post(pw, staff)
    held = await _post(pw, staff)
    async with pw.app.sessions() as session:
        await posts.claim(pw.app, session, g01[0], held.id)
        count, reached = await posts.broadcast_vacancies(pw.app, session, staff)
        again = await posts.broadcast_vacancies(pw.app, session, staff)  # same day: same one
    assert (count, reached) == (1, 3) and again == (1, 3)
    rows = list(await pw.w.outbox("bc:1"))
    assert sorted(m.user_id for m in rows if m.user_id) == sorted(g01)
    assert "8栋楼道长" in rows[0].params["text"]
    assert len(await pw.w.outbox("bc:2")) == 0


async def test_delete_me_empties_hazard_and_post_reports_and_frees_the_post(
    pw: PatrolWorld,
) -> None:
    from bot.db.models.patrols import Hazard, PostCheckin
    from bot.services.people.erasure import erase_traces

    staff = await pw.w.staff()
    li = await pw.w.volunteer("李明", "G01")
    post = await _post(pw, staff)
    async with pw.app.sessions() as session:
        await posts.claim(pw.app, session, li, post.id)
        await posts.check_in(pw.app, session, li, post.id, "我家住8栋302，电话138…")
        session.add(
            Hazard(
                grid_id=pw.grids["G01"],
                reporter_id=li,
                kind="other",
                note="我家门口",
                photo_file_id="P",
                lat=31.5,
                lon=120.3,
            )
        )
        await session.commit()
        await erase_traces(session, li)
        await session.commit()
        hazard = (await session.scalars(select(Hazard))).one()
        report = (await session.scalars(select(PostCheckin))).one()
        freed = await posts.get_post(pw.app, session, post.id)
    assert (hazard.note, hazard.photo_file_id, hazard.lat, hazard.lon) == ("", None, None, None)
    assert report.report == ""
    assert freed.status == "vacant" and freed.holder_id is None


async def test_holders_not_checked_in_are_reminded_once_a_month(pw: PatrolWorld) -> None:
    staff = await pw.w.staff()
    li, wang = await pw.w.volunteer("李明", "G01"), await pw.w.volunteer("王刚", "G01")
    first, second = await _post(pw, staff), await _post(pw, staff)
    async with pw.app.sessions() as session:
        held = await posts.claim(pw.app, session, li, first.id)
        await posts.claim(pw.app, session, wang, second.id)
        await posts.check_in(pw.app, session, wang, second.id, "本月已打卡")
    assert await posts.remind_checkins(pw.app) == 1
    assert await posts.remind_checkins(pw.app) == 1  # the same reminder: one outbox row
    rows = await pw.w.outbox(f"postci:{held.term_id}:2026-11")
    assert [r.user_id for r in rows] == [li]


async def test_grid_staff_see_and_end_only_their_grids_posts(pw: PatrolWorld) -> None:
    staff = await pw.w.staff()
    other = await pw.w.staff("河西网格员", grid="G09")
    li = await pw.w.volunteer("李明", "G01")
    post = await _post(pw, staff)
    async with pw.app.sessions() as session:
        await posts.claim(pw.app, session, li, post.id)
        for call in (
            posts.staff_post(pw.app, session, other, post.id),
            posts.give_back(pw.app, session, other, post.id, staff=True),
        ):
            with pytest.raises(UserError) as err:
                await call
            assert err.value.key == "posts.not_your_grid"
        assert await posts.list_posts(pw.app, session, other, staff=True) == []
        seen = await posts.staff_post(pw.app, session, staff, post.id)
    assert seen.holder_name == "李明"
