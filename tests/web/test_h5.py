"""The web wish form (H5) over HTTP: the poster's signed link, the anonymous form's checks,
filing through the bot's intake services, the staff queue's web mark, the private status link."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from bot.db.models import Resident, User, Volunteer, Wish
from bot.i18n import Translator
from bot.services.intake import web_form
from bot.services.outreach.posters import PosterPlace, form_link
from bot.services.web_access import settings_signing_key
from bot.tg.wish_cards import staff_card
from tests.web.conftest import Web

TEXT = "明天上午帮我去医院取药，腿脚不方便"


def _form_path(web: Web, grid: str = "G01", building: str | None = "8") -> str:
    key = settings_signing_key(web.app.settings)
    link = form_link(web.app.settings.web.base_url, key, PosterPlace(grid, building))
    return link.removeprefix(web.app.settings.web.base_url)


def _hidden(html: str) -> dict[str, str]:
    form = html.split('id="h5-form"', 1)[1] if 'id="h5-form"' in html else html
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def _fields(hidden: dict[str, str], **kw: str) -> dict[str, str]:
    data = {
        **hidden,
        "text": TEXT,
        "room": "2单元302",
        "name": "刘大爷",
        "phone": "138 0013 8000",
        "consent": "1",
        "website": "",
    }
    data.update(kw)
    return data


async def _open_form(client: Any, web: Web) -> dict[str, str]:
    response = await client.get(_form_path(web))
    html = await response.text()
    assert response.status == 200, html
    return _hidden(html)


async def _file(client: Any, web: Web, **kw: str) -> Any:
    hidden = await _open_form(client, web)
    preview = await client.post("/h5", data=_fields(hidden, **kw))
    assert preview.status == 200, await preview.text()
    return await client.post(
        "/h5", data=_fields(hidden, step="confirm", category="health", **kw), allow_redirects=False
    )


async def _count(web: Web, model: Any) -> int:
    async with web.app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_posters_link_opens_the_form_pre_filled(web: Web) -> None:
    client = await web.client()
    try:
        response = await client.get(_form_path(web))
        html = await response.text()
        assert response.status == 200
        assert 'id="building" value="8"' in html and "第一网格" in html
        assert 'name="website"' in html  # the honeypot
        assert "script-src 'none'" in response.headers["Content-Security-Policy"]
        english = await client.get(_form_path(web) + "&lang=en")
        assert "What do you need help with?" in await english.text()
    finally:
        await client.close()


async def test_a_bad_grid_code_gets_a_kind_page_and_no_form(web: Web) -> None:
    client = await web.client()
    try:
        good = _form_path(web)
        for path in (
            "/h5",
            good.replace("b=8", "b=9"),  # building changed, signature not
            good.replace("g=G01", "g=G02"),
            good[:-2] + "00",
            _form_path(web, grid="G99"),  # signed, but no such grid
        ):
            response = await client.get(path)
            html = await response.text()
            assert response.status == 400, path
            assert "重新扫描" in html and 'id="h5-form"' not in html
    finally:
        await client.close()


async def test_a_filed_wish_reaches_the_staff_queue_with_the_web_mark(web: Web) -> None:
    client = await web.client()
    try:
        hidden = await _open_form(client, web)
        preview = await client.post("/h5", data=_fields(hidden))
        html = await preview.text()
        assert 'id="h5-confirm"' in html and 'id="when"' in html
        assert re.search(r'<option value="\w+" selected>', html)  # the classifier's guess
        response = await client.post(
            "/h5", data=_fields(hidden, step="confirm", category="errand"), allow_redirects=False
        )
        assert response.status == 303
        status_path = response.headers["Location"]
        assert "138" not in status_path and "刘" not in status_path
    finally:
        await client.close()
    async with web.app.sessions() as s:
        wish = (await s.scalars(select(Wish))).one()
        resident = await s.get(Resident, wish.resident_id)
        user = await s.get(User, wish.resident_id)
        assert resident is not None and user is not None
        assert user.telegram_id is None and user.display_name == "刘大爷"
        assert resident.phone == "13800138000" and resident.building == "8 2单元302"
        assert wish.status == "submitted" and wish.category == "errand"
        assert web_form.is_web_filed(wish)
    staff = await web.logged_in(web.g01_staff)
    try:
        queue = await (await staff.get("/queue")).text()
        assert f"#{wish.id}" in queue and "网页提交 · 待电话核实" in queue
        assert "请回电核实：刘大爷 · 13800138000 · 8 2单元302" in queue
    finally:
        await staff.close()
    # The bot's review card to staff says so too.
    assert any(n.kind == "staff.wish_review" for _, n in web.notifier.sent)
    async with web.app.sessions() as s:
        card = await staff_card(s, web.app, Translator("zh-CN"), wish.id)
    assert card is not None and "网页提交 · 待电话核实" in card.text
    assert "13800138000" in card.text


async def test_a_form_left_open_too_long_or_forged_is_refused(web: Web) -> None:
    client = await web.client()
    try:
        hidden = await _open_form(client, web)
        forged = await client.post("/h5", data=_fields(hidden, token="1." + "0" * 32))
        assert forged.status == 400 and "重新扫描" in await forged.text()
        web.clock.advance(hours=3)
        stale = await client.post("/h5", data=_fields(hidden, step="confirm"))
        assert stale.status == 400 and "放得太久" in await stale.text()
    finally:
        await client.close()
    assert await _count(web, Wish) == 0


async def test_the_honeypot_files_nothing(web: Web) -> None:
    client = await web.client()
    try:
        hidden = await _open_form(client, web)
        data = _fields(hidden, step="confirm", website="http://spam.example")
        response = await client.post("/h5", data=data)
        assert response.status == 400
    finally:
        await client.close()
    assert await _count(web, Wish) == 0 and await _count(web, Resident) == 0


async def test_over_long_text_bad_phone_and_no_consent_are_refused_kindly(web: Web) -> None:
    client = await web.client()
    try:
        hidden = await _open_form(client, web)
        too_long = "帮" * (web.app.settings.wishes.max_length + 1)
        for kw, words in (
            ({"text": too_long}, str(web.app.settings.wishes.max_length)),
            ({"phone": "12345"}, "电话号码好像不对"),
            ({"consent": ""}, "请勾选同意"),
        ):
            response = await client.post("/h5", data=_fields(hidden, step="confirm", **kw))
            html = await response.text()
            assert response.status == 400 and words in html and 'id="error"' in html
    finally:
        await client.close()
    assert await _count(web, Wish) == 0


async def test_sql_ish_and_html_text_is_shown_escaped(web: Web) -> None:
    nasty = "<script>alert(1)</script>'; DROP TABLE wishes; -- 帮我修水管"
    client = await web.client()
    try:
        hidden = await _open_form(client, web)
        preview = await (await client.post("/h5", data=_fields(hidden, text=nasty))).text()
        assert "<script>alert(1)</script>" not in preview
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#39;; DROP TABLE wishes;" in preview
        response = await client.post(
            "/h5", data=_fields(hidden, text=nasty, step="confirm"), allow_redirects=False
        )
        status = await (await client.get(response.headers["Location"])).text()
        assert "<script>alert(1)</script>" not in status and "&lt;script&gt;" in status
    finally:
        await client.close()
    async with web.app.sessions() as s:
        assert (await s.scalars(select(Wish.text))).one() == nasty


async def test_posts_are_rate_limited_per_address_and_per_phone(web: Web) -> None:
    client = await web.client()
    try:
        for _ in range(3):  # three filings per phone per hour
            response = await _file(client, web, text=f"{TEXT} 第{_}次")
            assert response.status == 303
        refused = await _file(client, web, text=f"{TEXT} 第四次")
        assert refused.status == 429
        assert await _count(web, Wish) == 3
        hidden = await _open_form(client, web)
        statuses = [
            (await client.post("/h5", data=_fields(hidden, phone="13900139000"))).status
            for _ in range(5)
        ]
        assert statuses == [200, 200, 429, 429, 429]  # ten POSTs per address in ten minutes
    finally:
        await client.close()


async def test_status_link_shows_progress_and_refuses_another_wishs_link(web: Web) -> None:
    client = await web.client()
    try:
        response = await _file(client, web)
        path = response.headers["Location"].split("?")[0]
        page = await client.get(path)
        html = await page.text()
        assert page.status == 200 and 'id="status">待审核<' in html and TEXT in html
        wish_id, mac = path.rsplit("/", 1)[1].split("-")
        other = await web.wish("G01", "别人的心愿")
        for forged in (f"/h5/s/{other}-{mac}", f"/h5/s/{wish_id}-{'0' * 32}"):
            refused = await client.get(forged)
            assert refused.status == 404 and "别人的心愿" not in await refused.text()
        # A status token of a bot-filed wish (not from the form) shows nothing either.
        key = settings_signing_key(web.app.settings)
        refused = await client.get(f"/h5/s/{web_form.status_token(key, other)}")
        assert refused.status == 404
    finally:
        await client.close()


async def test_resident_confirms_and_rates_through_the_status_link(web: Web) -> None:
    client = await web.client()
    try:
        response = await _file(client, web)
        path = response.headers["Location"].split("?")[0]
        volunteer = await web.user("张伟")
        async with web.app.sessions() as s:
            wish = (await s.scalars(select(Wish))).one()
            s.add(
                Volunteer(
                    user_id=volunteer,
                    name="张伟",
                    grid_id=web.grids["G01"],
                    unit="单位",
                    branch="支部",
                    occupation="教师",
                )
            )
            wish.status, wish.volunteer_id = "done", volunteer
            await s.commit()
        html = await (await client.get(path)).text()
        assert 'id="volunteer">伟<' in html and "张伟" not in html
        assert 'id="h5-rate"' in html
        bad = await client.post(path + "/confirm", data={"rating": "9"})
        assert bad.status == 400
        rated = await client.post(path + "/confirm", data={"rating": "5"}, allow_redirects=False)
        assert rated.status == 303
        async with web.app.sessions() as s:
            wish = (await s.scalars(select(Wish))).one()
            assert wish.status == "confirmed" and wish.rating == 5
        again = await client.post(path + "/confirm", data={"rating": "4"})
        assert again.status == 400  # the state machine: already confirmed
        assert 'class="h5"' in await again.text()
    finally:
        await client.close()


async def test_the_same_form_sent_twice_files_one_wish(web: Web) -> None:
    client = await web.client()
    try:
        hidden = await _open_form(client, web)
        fields = _fields(hidden, step="confirm", category="health")
        first = await client.post("/h5", data=fields, allow_redirects=False)
        again = await client.post("/h5", data=fields, allow_redirects=False)
        assert first.status == again.status == 303
        assert first.headers["Location"] == again.headers["Location"]  # the same status link
    finally:
        await client.close()
    assert await _count(web, Wish) == 1
    reviews = [n for _, n in web.notifier.sent if n.kind == "staff.wish_review"]
    assert len({n.params.get("id") for n in reviews}) == 1
