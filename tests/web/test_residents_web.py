"""居民记录 on the dashboard: the records without Telegram in the viewer's grids (phone masked),
"删除记录" → confirm → a CSRF-checked POST that forgets the record; another grid's record is
forbidden, a missing one not found, and a second POST changes nothing."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from bot.db.models import AuditEntry, Resident, User
from bot.services.forres import forget, records
from tests.web.conftest import Web

PHONE = "13800138000"


async def _record(web: Web, grid: str, name: str, phone: str = PHONE) -> int:
    new = records.clean_record(name, "8栋2单元302", phone)
    async with web.app.sessions() as s:
        return await records.create_record(web.app, s, web.admin, web.grids[grid], new)


def _csrf(html: str) -> str:
    match = re.search(r'id="forget-form">\s*<input type="hidden" name="csrf" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


async def _forgotten(web: Web, user_id: int) -> bool:
    async with web.app.sessions() as s:
        user = await s.get(User, user_id)
        assert user is not None
        return user.deleted_at is not None and await s.get(Resident, user_id) is None


async def _audits(web: Web) -> int:
    async with web.app.sessions() as s:
        query = select(func.count()).select_from(AuditEntry)
        return int(await s.scalar(query.where(AuditEntry.action == forget.FORGET)) or 0)


async def test_grid_staff_list_their_records_masked_confirm_and_forget_once(web: Web) -> None:
    liu = await _record(web, "G01", "刘大爷")
    await _record(web, "G02", "孙奶奶", "13900139000")
    client: Any = await web.logged_in(web.g01_staff)
    try:
        listing = await (await client.get("/forresident")).text()
        assert 'href="/residents"' in listing
        html = await (await client.get("/residents")).text()
        assert "刘大爷" in html and "****8000" in html and PHONE not in html
        assert "孙奶奶" not in html  # another grid's record
        assert f'href="/residents/{liu}/forget"' in html
        confirm = await client.get(f"/residents/{liu}/forget")
        page = await confirm.text()
        assert confirm.status == 200 and "刘大爷" in page and PHONE not in page
        assert not await _forgotten(web, liu)  # the confirm page changes nothing
        csrf = _csrf(page)
        first = await client.post(f"/residents/{liu}/forget", data={"csrf": csrf})
        assert first.status == 200 and "已删除刘大爷的居民记录" in await first.text()
        again = await client.post(f"/residents/{liu}/forget", data={"csrf": csrf})
        assert again.status == 200 and "已经删除过了" in await again.text()
        after = await (await client.get("/residents")).text()
        assert "刘大爷" not in after
    finally:
        await client.close()
    assert await _forgotten(web, liu)
    assert await _audits(web) == 1


async def test_csrf_scope_and_unknown_records_are_refused(web: Web) -> None:
    liu = await _record(web, "G01", "刘大爷")
    sun = await _record(web, "G02", "孙奶奶", "13900139000")
    with_telegram = await web.user("张阿姨")
    client: Any = await web.logged_in(web.g01_staff)
    try:
        csrf = _csrf(await (await client.get(f"/residents/{liu}/forget")).text())
        forged = await client.post(f"/residents/{liu}/forget", data={"csrf": "nope"})
        missing = await client.post(f"/residents/{liu}/forget", data={})
        assert forged.status == missing.status == 403
        other_page = await client.get(f"/residents/{sun}/forget")
        assert other_page.status == 403 and "孙奶奶" not in await other_page.text()
        other = await client.post(f"/residents/{sun}/forget", data={"csrf": csrf})
        assert other.status == 403
        for unknown in (987654, with_telegram):
            assert (await client.get(f"/residents/{unknown}/forget")).status == 404
            gone = await client.post(f"/residents/{unknown}/forget", data={"csrf": csrf})
            assert gone.status == 404
        assert (await client.get("/residents/abc/forget")).status == 404
    finally:
        await client.close()
    assert not await _forgotten(web, liu) and not await _forgotten(web, sun)
    assert await _audits(web) == 0
    # Not logged in: sent to log in, and a POST is refused.
    anonymous: Any = await web.client()
    try:
        assert (await anonymous.get("/residents", allow_redirects=False)).status == 302
        post = await anonymous.post(f"/residents/{sun}/forget", data={"csrf": csrf})
        assert post.status == 403
    finally:
        await anonymous.close()
    # Community staff see and forget every grid's records.
    admin: Any = await web.logged_in(web.admin)
    try:
        html = await (await admin.get("/residents")).text()
        assert "刘大爷" in html and "孙奶奶" in html
        csrf = _csrf(await (await admin.get(f"/residents/{sun}/forget")).text())
        done = await admin.post(f"/residents/{sun}/forget", data={"csrf": csrf})
        assert done.status == 200
    finally:
        await admin.close()
    assert await _forgotten(web, sun) and not await _forgotten(web, liu)


async def test_the_list_is_paged(web: Web, monkeypatch: Any) -> None:
    from bot.web.pages import residents

    monkeypatch.setattr(residents, "PAGE_SIZE", 1)
    await _record(web, "G01", "刘大爷")
    await _record(web, "G02", "孙奶奶", "13900139000")
    client: Any = await web.logged_in(web.admin)
    try:
        first = await (await client.get("/residents")).text()
        second = await (await client.get("/residents?page=2")).text()
        assert "刘大爷" in first and "孙奶奶" not in first and "1 / 2" in first
        assert "孙奶奶" in second and "刘大爷" not in second and "2 / 2" in second
        assert 'href="?page=1"' in second
    finally:
        await client.close()
