"""Forgetting a record without Telegram (代办's /delete_me, done by staff): scope, refusals,
open wishes cancelled as the resident's own cancel, every table emptied of them, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db.models import (
    AuditEntry,
    ProcessedAction,
    ProxyFiling,
    Resident,
    ResidentConsent,
    User,
    Wish,
)
from bot.services.errors import UserError
from bot.services.forres import forget
from bot.services.intake import dispatch
from bot.services.tasks import claims, lifecycle
from tests.e2e.test_privacy import every_value
from tests.forres import test_forres_services as base
from tests.forres.test_forres_services import ERRAND, PHONE, Place

place = base.place  # the same fixture: a fresh world on SQLite and on PostgreSQL

NAME, BUILDING = "刘大爷", "8栋2单元302"
REPAIR = "厨房水管漏水了，周六上午有人能来修吗"


async def _refused(place: Place, staff: int, record: int) -> str:
    async with place.app.sessions() as s:
        with pytest.raises(UserError) as err:
            await forget.forget_record(place.app, s, staff, record)
        assert not s.in_transaction()
    return err.value.key


async def _count(place: Place, model: type, *where: object) -> int:
    async with place.app.sessions() as s:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await s.scalar(query) or 0)


async def test_only_staff_in_scope_forget_and_only_records_without_telegram(
    place: Place,
) -> None:
    worker = await place.staff("刘网格员", "G01")
    other = await place.staff("赵网格员", "G02")
    li = await place.volunteer("李明")
    liu = await place.liu(worker)
    telegram_user = await place.user("张阿姨")
    async with place.app.sessions() as s:
        resident = Resident(user_id=telegram_user, grid_id=place.grids["G01"], phone="13900001111")
        resident.consent_at = resident.created_at = place.app.now()
        s.add(resident)
        await s.commit()
    assert await _refused(place, other, liu) == "forres.not_your_grid"
    assert await _refused(place, li, liu) == "forget.staff_only"  # even if they may file
    assert await _refused(place, telegram_user, liu) == "forget.staff_only"
    assert await _refused(place, worker, telegram_user) == "forget.has_telegram"
    assert await _refused(place, worker, 987_654) == "forget.unknown"
    async with place.app.sessions() as s:
        user = await s.get(User, liu)
        assert user is not None and user.display_name == NAME and user.deleted_at is None
        assert await s.get(Resident, liu) is not None
    # The list and the confirm page: in scope only, the phone by its last four digits.
    async with place.app.sessions() as s:
        mine, total = await forget.list_records(s, worker, 50, 0)
        assert total == 1 and [(r.user_id, r.phone_tail, r.wishes) for r in mine] == [
            (liu, "8000", 0)
        ]
        assert PHONE not in repr(mine)
        assert await forget.list_records(s, other, 50, 0) == ([], 0)
        with pytest.raises(UserError):
            await forget.list_records(s, li, 50, 0)
        with pytest.raises(UserError) as err:
            await forget.record_to_forget(s, other, liu)
        assert err.value.key == "forres.not_your_grid"
        shown = await forget.record_to_forget(s, worker, liu)
        assert (shown.name, shown.building, shown.phone_tail) == (NAME, BUILDING, "8000")


async def test_forgetting_cancels_open_tasks_and_leaves_them_in_no_table_once(
    place: Place,
) -> None:
    admin = await place.staff("王主任", None)
    worker = await place.staff("刘网格员", "G01")
    li = await place.volunteer("李明")
    liu = await place.liu(worker)
    held = await place.file(worker, liu, REPAIR)
    await place.file(worker, liu, ERRAND)  # not yet approved: cancelled too
    async with place.app.sessions() as s:
        await dispatch.approve(place.app, s, admin, held, difficulty="normal", deadline=None)
    async with place.app.sessions() as s:
        await claims.claim(place.app, s, held, li)
    async with place.app.sessions() as s:
        assert await lifecycle.resident_phone(s, held, li) == PHONE
    needles = [NAME, PHONE, BUILDING, REPAIR, ERRAND]
    before = await every_value(place.app)
    assert all(any(n in v for _, _, v in before) for n in needles)  # else the walk proves nothing
    consents, filings = await _count(place, ResidentConsent), await _count(place, ProxyFiling)
    place.notifier.sent.clear()

    async with place.app.sessions() as s:
        done = await forget.forget_record(place.app, s, worker, liu)
    assert (done.user_id, done.already, done.cancelled) == (liu, False, 2)

    # The volunteer holding the task is told, as when a resident cancels, and loses the phone.
    assert (li, "task.cancelled_by_resident") in [(u, n.kind) for u, n in place.notifier.sent]
    async with place.app.sessions() as s:
        with pytest.raises(UserError):
            await lifecycle.resident_phone(s, held, li)
        statuses = set(await s.scalars(select(Wish.status).where(Wish.resident_id == liu)))
        assert statuses == {"cancelled"}
        user = await s.get(User, liu)
        assert user is not None and user.display_name is None and user.deleted_at is not None
        assert await s.get(Resident, liu) is None
    leaks = [
        (table, column, value[:60], needle)
        for needle in needles
        for table, column, value in await every_value(place.app)
        if needle in value
    ]
    assert leaks == []
    # The 代办 rows stay for the counts (they hold no personal field); the act is audited.
    assert await _count(place, ResidentConsent) == consents == 2
    assert await _count(place, ProxyFiling) == filings == 2
    forgets = AuditEntry.action == forget.FORGET
    assert await _count(place, AuditEntry, forgets, AuditEntry.actor_id == worker) == 1

    # Again (a double press, or another staff member): nothing more, said kindly.
    sent = len(place.notifier.sent)
    async with place.app.sessions() as s:
        again = await forget.forget_record(place.app, s, admin, liu)
    assert (again.already, again.cancelled) == (True, 0)
    assert len(place.notifier.sent) == sent
    assert await _count(place, AuditEntry, forgets) == 1
    async with place.app.sessions() as s:
        assert await forget.list_records(s, worker, 50, 0) == ([], 0)


async def test_two_presses_at_once_forget_once(place: Place) -> None:
    admin = await place.staff("王主任", None)
    worker = await place.staff("刘网格员", "G01")
    li = await place.volunteer("李明")
    liu = await place.liu(worker)
    held = await place.file(worker, liu, REPAIR)
    async with place.app.sessions() as s:
        await dispatch.approve(place.app, s, admin, held, difficulty="normal", deadline=None)
    async with place.app.sessions() as s:
        await claims.claim(place.app, s, held, li)
    place.notifier.sent.clear()

    async def press(staff: int) -> forget.Forgotten:
        async with place.app.sessions() as s:
            return await forget.forget_record(place.app, s, staff, liu)

    results = await asyncio.gather(press(worker), press(admin))
    assert sum(r.cancelled for r in results) == 1
    told = [u for u, n in place.notifier.sent if n.kind == "task.cancelled_by_resident"]
    assert told == [li]
    forgets = AuditEntry.action == forget.FORGET
    assert await _count(place, AuditEntry, forgets) == 1
    async with place.app.sessions() as s:
        user = await s.get(User, liu)
        assert user is not None and user.deleted_at is not None and user.display_name is None


async def test_a_call_in_progress_is_not_doubled_and_one_cut_short_is_redone(
    place: Place,
) -> None:
    worker = await place.staff("刘网格员", "G01")
    liu = await place.liu(worker)
    key = f"forget:{liu}"
    async with place.app.sessions() as s:  # another press started a moment ago
        s.add(ProcessedAction(key=key, user_id=worker, created_at=place.app.now()))
        await s.commit()
    async with place.app.sessions() as s:
        busy = await forget.forget_record(place.app, s, worker, liu)
    assert busy.already
    async with place.app.sessions() as s:
        user = await s.get(User, liu)
        assert user is not None and user.deleted_at is None and user.display_name == NAME
    async with place.app.sessions() as s:  # ... and was cut short ten minutes ago
        claim = await s.get(ProcessedAction, key)
        assert claim is not None
        claim.created_at = place.app.now() - timedelta(minutes=10)
        await s.commit()
    async with place.app.sessions() as s:
        done = await forget.forget_record(place.app, s, worker, liu)
    assert not done.already
    async with place.app.sessions() as s:
        user = await s.get(User, liu)
        assert user is not None and user.deleted_at is not None and user.display_name is None
