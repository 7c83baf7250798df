"""The session check reads the session, the staff row and the user in one joined query; it
still refuses a session whose user stopped being staff, and names the staff member's scope."""

from __future__ import annotations

from sqlalchemy import delete, event

from bot.db.models import Staff
from bot.services import web_access
from bot.web.app import COOKIE
from tests.web.conftest import Web


async def test_one_query_finds_the_session_and_its_staff_row(web: Web) -> None:
    client = await web.logged_in(web.admin)
    try:
        cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
        async with web.app.sessions() as s:
            statements: list[str] = []
            sync_engine = (await s.connection()).engine.sync_engine
            await s.rollback()

            def seen(*args: object) -> None:
                statements.append(str(args[2]))

            event.listen(sync_engine, "before_cursor_execute", seen)
            try:
                found = await web_access.touch_staff_session(web.app, s, cookie)
            finally:
                event.remove(sync_engine, "before_cursor_execute", seen)
        assert found is not None and found.active.user_id == web.admin
        assert found.staff_scope == "community"
        assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) == 1
    finally:
        await client.close()


async def test_a_session_of_someone_no_longer_staff_opens_nothing(web: Web) -> None:
    client = await web.logged_in(web.admin)
    try:
        assert (await client.get("/overview", allow_redirects=False)).status == 200
        async with web.app.sessions() as s:
            await s.execute(delete(Staff).where(Staff.user_id == web.admin))
            await s.commit()
        assert (await client.get("/overview", allow_redirects=False)).status == 302
    finally:
        await client.close()
