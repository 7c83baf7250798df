"""代办's services: records without Telegram, consent, filing on behalf, the stand-in, the
in-person confirm and joining on registration — real services on a fresh database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.db.models import (
    AuditEntry,
    ProxyFiling,
    Resident,
    ResidentConsent,
    Staff,
    User,
    Volunteer,
    Wish,
    WishEvent,
)
from bot.db.models.points import LedgerEntry
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.forres import filing, joining, records
from bot.services.intake import dispatch
from bot.services.notices import Notice, RecordingNotifier
from bot.services.people import registration
from bot.services.tasks import claims, lifecycle
from tests.conftest import ManualClock
from tests.points.conftest import create_schema, make_world

_IDS = count(50_000)
PHONE = "13800138000"
ERRAND = "帮我去医院取药，腿脚不方便"


@dataclass
class Place:
    app: AppContext
    notifier: RecordingNotifier
    grids: dict[str, int]

    async def user(self, name: str) -> int:
        async with self.app.sessions() as session:
            user = User(telegram_id=next(_IDS), display_name=name, language="zh-CN")
            session.add(user)
            await session.commit()
            return user.id

    async def staff(self, name: str, grid: str | None) -> int:
        uid = await self.user(name)
        async with self.app.sessions() as session:
            scope = "grid" if grid else "community"
            session.add(Staff(user_id=uid, scope=scope, grid_id=self.grids[grid] if grid else None))
            await session.commit()
        return uid

    async def volunteer(self, name: str, grid: str = "G01") -> int:
        uid = await self.user(name)
        async with self.app.sessions() as session:
            session.add(
                Volunteer(
                    user_id=uid,
                    name=name,
                    grid_id=self.grids[grid],
                    unit="单位",
                    branch="支部",
                    occupation="电工",
                    skills=["errand", "repair"],
                    status="approved",
                )
            )
            await session.commit()
        return uid

    async def liu(self, filer: int, grid: str = "G01") -> int:
        new = records.clean_record("刘大爷", "8栋2单元302", "138 0013 8000")
        async with self.app.sessions() as session:
            return await records.create_record(self.app, session, filer, self.grids[grid], new)

    async def file(self, filer: int, resident: int, text: str = ERRAND) -> int:
        async with self.app.sessions() as session:
            consent = await filing.record_consent(self.app, session, filer, resident, "spoken")
            draft = await filing.draft_for(self.app, session, filer, resident, text)
            wish = await filing.file_for(self.app, session, filer, resident, consent, draft)
            return wish.id


@pytest.fixture
async def place(db_url: str, clock: ManualClock) -> AsyncIterator[Place]:
    """On SQLite and on PostgreSQL."""
    world = await make_world(db_url, clock)
    yield Place(world.app, world.notifier, world.grids)
    await world.engine.dispose()


async def test_a_record_without_telegram_is_minimal_found_and_not_duplicated(place: Place) -> None:
    worker = await place.staff("刘网格员", "G01")
    liu = await place.liu(worker)
    async with place.app.sessions() as s:
        user, resident = await s.get(User, liu), await s.get(Resident, liu)
        assert user is not None and resident is not None
        assert user.telegram_id is None and user.display_name == "刘大爷"
        assert resident.phone == PHONE and resident.building == "8栋2单元302"
        assert resident.share_phone and resident.grid_id == place.grids["G01"]
    assert await place.liu(worker) == liu  # the same phone on the same grid: the same record
    async with place.app.sessions() as s:
        for query in ("刘大爷", "刘", "8栋", "8000"):
            found = await records.find_records(place.app, s, worker, query)
            assert [r.user_id for r in found] == [liu], query
            assert found[0].phone_tail == "8000" and PHONE not in repr(found[0])
        assert await records.find_records(place.app, s, worker, "1234") == []
        assert await records.find_records(place.app, s, worker, "王阿姨") == []


async def test_grid_scope_a_g01_worker_cannot_file_for_a_g02_resident(place: Place) -> None:
    g01, g02 = await place.staff("一网格员", "G01"), await place.staff("二网格员", "G02")
    community = await place.staff("王主任", None)
    liu = await place.liu(g02, grid="G02")
    async with place.app.sessions() as s:
        assert await records.find_records(place.app, s, g01, "刘大爷") == []
        assert [r.user_id for r in await records.find_records(place.app, s, community, "刘")] == [
            liu
        ]
        for call in (
            records.record_for(place.app, s, g01, liu),
            filing.record_consent(place.app, s, g01, liu, "spoken"),
            records.create_record(
                place.app, s, g01, place.grids["G02"], records.clean_record("钱奶奶", "9栋", PHONE)
            ),
        ):
            with pytest.raises(UserError) as err:
                await call
            assert err.value.key == "forres.not_your_grid"
        assert await s.scalar(select(func.count()).select_from(ResidentConsent)) == 0


async def test_volunteers_file_only_when_the_community_allows_it(place: Place) -> None:
    li = await place.volunteer("李明")
    resident = await place.user("张阿姨")
    async with place.app.sessions() as s:
        with pytest.raises(UserError) as err:
            await records.filer_of(place.app, s, li)
        assert err.value.key == "forres.volunteers_not_allowed"
        with pytest.raises(UserError) as err:
            await records.filer_of(place.app, s, resident)
        assert err.value.key == "forres.not_allowed"
    place.app.settings = Settings(
        **{
            **place.app.settings.model_dump(),
            "community": {
                **place.app.settings.community.model_dump(),
                "volunteers_may_file_for_residents": True,
            },
        }
    )
    async with place.app.sessions() as s:
        filer = await records.filer_of(place.app, s, li)
    assert filer.grid_ids == frozenset({place.grids["G01"]})


async def test_consent_is_recorded_and_the_filer_stands_in(place: Place) -> None:
    worker = await place.staff("刘网格员", "G01")
    liu = await place.liu(worker)
    wish_id = await place.file(worker, liu)
    async with place.app.sessions() as s:
        consent = (await s.scalars(select(ResidentConsent))).one()
        assert (consent.resident_id, consent.method, consent.recorded_by) == (
            liu,
            "spoken",
            worker,
        )
        assert consent.given_at == place.app.now()
        filed = await s.get(ProxyFiling, wish_id)
        wish = await s.get(Wish, wish_id)
        assert filed is not None and wish is not None
        assert (filed.filer_id, filed.consent_id) == (worker, consent.id)
        assert wish.resident_id == liu and wish.grid_id == place.grids["G01"]
        notes = [(e.note or "", e.actor_id) for e in wish.history]
        assert any('"filed_for"' in note and actor == worker for note, actor in notes)
        actions = set((await s.scalars(select(AuditEntry.action))).all())
        assert {"resident.create_for", "resident.consent", "wish.file_for"} <= actions
        # The resident's notices go to the filer; a web-form resident has nobody standing in.
        notice = Notice("task.claimed_resident", {"id": wish_id})
        assert await filing.stand_in(s, liu, notice) == worker
        relayed = filing.relayed(liu, notice)
        assert relayed.kind == filing.RELAYED and relayed.params["params"] == {"id": wish_id}
        assert await filing.stand_in(s, liu, relayed) is None  # never passed on twice
        assert await filing.stand_in(s, liu, Notice("x", {})) is None  # not about a wish
        assert await filing.stand_in(s, liu, Notice("x", {"id": wish_id + 99})) is None
        web_resident = User(telegram_id=None, display_name="王阿姨")
        s.add(web_resident)
        await s.commit()
        assert await filing.stand_in(s, web_resident.id, notice) is None
    # Consent of another resident does not cover this one.
    other = await place.staff("二号", "G01")
    async with place.app.sessions() as s:
        qian = records.clean_record("钱奶奶", "9栋", "13900139000")
        second = await records.create_record(place.app, s, other, place.grids["G01"], qian)
        draft = await filing.draft_for(place.app, s, other, second, "楼道灯坏了，晚上看不见路")
        with pytest.raises(UserError) as err:
            await filing.file_for(place.app, s, other, second, consent.id, draft)
        assert err.value.key == "forres.consent_first"


async def test_the_filer_confirms_in_person_once_and_points_are_awarded_once(
    place: Place,
) -> None:
    admin = await place.staff("王主任", None)
    worker = await place.staff("刘网格员", "G01")
    li = await place.volunteer("李明")
    liu = await place.liu(worker)
    wish_id = await place.file(worker, liu, "厨房水管漏水了，周六上午有人能来修吗")  # verified
    async with place.app.sessions() as s:
        await dispatch.approve(place.app, s, admin, wish_id, difficulty="normal", deadline=None)
    async with place.app.sessions() as s:
        await claims.claim(place.app, s, wish_id, li)
    async with place.app.sessions() as s:
        assert await lifecycle.resident_phone(s, wish_id, li) == PHONE
        await lifecycle.mark_done(place.app, s, wish_id, li, "药取回来了", None)
    async with place.app.sessions() as s:
        with pytest.raises(UserError) as err:  # not the filer
            await filing.confirm_for(place.app, s, wish_id, admin, 5)
        assert err.value.key == "forres.not_your_filing"
        await filing.confirm_for(place.app, s, wish_id, worker, 5)
        with pytest.raises(UserError) as err:  # the double tap
            await filing.confirm_for(place.app, s, wish_id, worker, 5)
        assert err.value.key == "task.state_changed"
    async with place.app.sessions() as s:
        wish = await s.get(Wish, wish_id)
        assert wish is not None and wish.status == "confirmed" and wish.rating == 5
        confirmed_by = await s.scalar(
            select(WishEvent.actor_id).where(
                WishEvent.wish_id == wish_id, WishEvent.to_status == "confirmed"
            )
        )
        assert confirmed_by == worker
        await lifecycle.verify(place.app, s, wish_id, admin)
    async with place.app.sessions() as s:
        with pytest.raises(UserError):
            await lifecycle.verify(place.app, s, wish_id, admin)
        awards = (
            await s.scalars(select(LedgerEntry).where(LedgerEntry.source_id == str(wish_id)))
        ).all()
        assert [a.user_id for a in awards] == [li]
        wish = await s.get(Wish, wish_id)
        assert wish is not None and wish.status == "closed"


async def test_joining_on_registration_moves_the_wishes_after_the_person_confirms(
    place: Place,
) -> None:
    worker = await place.staff("刘网格员", "G01")
    liu = await place.liu(worker)
    wish_id = await place.file(worker, liu)
    grandpa, stranger = await place.user("刘大爷"), await place.user("路人")
    async with place.app.sessions() as s:
        for uid, phone in ((grandpa, "+8613800138000"), (stranger, "13900001111")):
            form = registration.ResidentForm(place.grids["G01"], None, phone, True)
            await registration.register_resident(place.app, s, uid, form)
    async with place.app.sessions() as s:
        assert await joining.candidates(s, stranger) == []
        with pytest.raises(UserError) as err:
            await joining.join(place.app, s, stranger, liu, "13900001111")  # not their phone
        assert err.value.key == "forres.join_gone"
        found = await joining.candidates(s, grandpa)
        assert found == [joining.Candidate(liu, "刘**", 1)]
        with pytest.raises(UserError) as err:  # Telegram vouches for another number
            await joining.join(place.app, s, grandpa, liu, "13911112222")
        assert err.value.key == "forres.join_phone_differs"
        assert await joining.join(place.app, s, grandpa, liu, "8613800138000") == 1
    async with place.app.sessions() as s:
        wish = await s.get(Wish, wish_id)
        record = await s.get(User, liu)
        mine = await s.get(Resident, grandpa)
        assert wish is not None and wish.resident_id == grandpa
        assert record is not None and record.deleted_at is not None and record.display_name is None
        assert await s.get(Resident, liu) is None
        assert mine is not None and mine.building == "8栋2单元302"
        consent = (await s.scalars(select(ResidentConsent))).one()
        assert consent.resident_id == grandpa
        assert await joining.candidates(s, grandpa) == []
        # Their own account now: nobody stands in, and the filer no longer confirms for them.
        assert await filing.stand_in(s, grandpa, Notice("x", {"id": wish_id})) is None
        assert await records.find_records(place.app, s, worker, "刘大爷") == []


async def test_consent_and_filing_tables_exist_in_a_fresh_schema(sqlite_url: str) -> None:
    from bot.db.engine import make_engine

    engine = make_engine(sqlite_url)
    await create_schema(engine)
    async with engine.connect() as conn:
        names = await conn.run_sync(
            lambda c: set(__import__("sqlalchemy").inspect(c).get_table_names())
        )
    await engine.dispose()
    assert {"resident_consents", "proxy_filings"} <= names
