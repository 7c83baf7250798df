"""代居民提交 on the dashboard: the same 代办 services as the bot, in the viewer's grid scope,
CSRF-checked, audited; the same form sent twice files one wish."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from bot.db.models import AuditEntry, ProxyFiling, Resident, ResidentConsent, User, Wish
from tests.web.conftest import Web

TEXT = "帮我去医院取药，腿脚不方便"


async def _csrf(client: Any) -> str:
    html = await (await client.get("/forresident")).text()
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


def _fields(csrf: str, grid: int, **kw: str) -> dict[str, str]:
    data = {
        "csrf": csrf,
        "grid": str(grid),
        "name": "刘大爷",
        "building": "8栋2单元302",
        "phone": "13800138000",
        "consent": "signed",
        "text": TEXT,
        "category": "",
    }
    data.update(kw)
    return data


async def _count(web: Web, model: Any) -> int:
    async with web.app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_grid_staff_file_for_a_resident_once_in_their_grid(web: Web) -> None:
    client = await web.logged_in(web.g01_staff)
    try:
        html = await (await client.get("/forresident")).text()
        assert 'id="forres-form"' in html and "第一网格" in html and "第二网格" not in html
        csrf = await _csrf(client)
        fields = _fields(csrf, web.grids["G01"], category="health")
        first = await client.post("/forresident", data=fields, allow_redirects=False)
        again = await client.post("/forresident", data=fields, allow_redirects=False)
        assert first.status == again.status == 303
        assert first.headers["Location"] == again.headers["Location"]
    finally:
        await client.close()
    async with web.app.sessions() as s:
        wish = (await s.scalars(select(Wish))).one()
        assert first.headers["Location"] == f"/wishes/{wish.id}"
        user = await s.get(User, wish.resident_id)
        resident = await s.get(Resident, wish.resident_id)
        assert user is not None and user.telegram_id is None and user.display_name == "刘大爷"
        assert resident is not None and resident.phone == "13800138000"
        assert wish.category == "health" and wish.grid_id == web.grids["G01"]
        filed = await s.get(ProxyFiling, wish.id)
        assert filed is not None and filed.filer_id == web.g01_staff
        consent = (await s.scalars(select(ResidentConsent))).one()
        assert (consent.method, consent.recorded_by) == ("signed", web.g01_staff)
        actions = set(
            await s.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == web.g01_staff))
        )
        assert {"resident.create_for", "resident.consent", "wish.file_for"} <= actions


async def test_another_grid_no_consent_and_no_csrf_file_nothing(web: Web) -> None:
    client = await web.logged_in(web.g01_staff)
    try:
        csrf = await _csrf(client)
        other = await client.post("/forresident", data=_fields(csrf, web.grids["G02"]))
        assert other.status == 200 and "不在您负责的网格" in await other.text()
        unasked = await client.post(
            "/forresident", data=_fields(csrf, web.grids["G01"], consent="")
        )
        assert "请先记录居民的同意" in await unasked.text()
        bad_phone = await client.post(
            "/forresident", data=_fields(csrf, web.grids["G01"], phone="12")
        )
        assert 'id="forres-error"' in await bad_phone.text()
        forged = await client.post("/forresident", data=_fields("nope", web.grids["G01"]))
        assert forged.status == 403
    finally:
        await client.close()
    assert await _count(web, Wish) == 0
    assert await _count(web, ResidentConsent) == 0
    # Community staff see every grid.
    admin = await web.logged_in(web.admin)
    try:
        html = await (await admin.get("/forresident")).text()
        assert "第一网格" in html and "第二网格" in html
    finally:
        await admin.close()
