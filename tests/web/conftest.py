"""A small community for the web dashboard: migrated SQLite, the real services, a recording
notifier, a hand-moved clock, and aiohttp's test client on the real web app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Grid, Staff, User, Wish, WishEvent
from bot.services import web_access
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from bot.web.app import make_web_app
from tests.conftest import ManualClock

G02_TEXT = "第二网格的秘密心愿"


@dataclass
class Web:
    app: AppContext
    clock: ManualClock
    notifier: RecordingNotifier
    grids: dict[str, int]
    admin: int  # community staff
    g01_staff: int
    _ids: count[int]

    async def user(self, name: str) -> int:
        async with self.app.sessions() as s:
            u = User(telegram_id=next(self._ids), display_name=name, language="zh-CN")
            s.add(u)
            await s.commit()
            return u.id

    async def wish(self, grid: str, text: str, status: str = "submitted", **kw: object) -> int:
        resident = await self.user("居民")
        now = self.clock()
        async with self.app.sessions() as s:
            w = Wish(
                resident_id=resident,
                grid_id=self.grids[grid],
                text=text,
                category="repair",
                status=status,
                created_at=now - timedelta(hours=2),
                **kw,
            )
            s.add(w)
            await s.flush()
            s.add(WishEvent(wish_id=w.id, to_status="submitted", at=now - timedelta(hours=2)))
            await s.commit()
            return w.id

    async def link(self, user_id: int) -> str:
        async with self.app.sessions() as s:
            url = await web_access.issue_login_link(self.app, s, user_id)
        return url.removeprefix(self.app.settings.web.base_url)

    async def client(self) -> TestClient:  # type: ignore[type-arg]
        client = TestClient(TestServer(make_web_app(self.app, "wishbot_demo_bot")))
        await client.start_server()
        return client

    async def logged_in(self, user_id: int) -> TestClient:  # type: ignore[type-arg]
        client = await self.client()
        response = await client.post(await self.link(user_id), allow_redirects=False)
        assert response.status == 302, await response.text()
        return client


@pytest.fixture
async def web(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Web]:
    await upgrade_async(sqlite_url)
    settings = Settings(
        database={"url": sqlite_url},
        community={
            "grids": [{"code": "G01", "name": "第一网格"}, {"code": "G02", "name": "第二网格"}]
        },
        web={"host": "127.0.0.1", "port": 8080, "secret": "test-secret"},
    )
    engine = make_engine(sqlite_url)
    notifier = RecordingNotifier()
    app = AppContext(settings, make_session_factory(engine), notifier, clock=clock)
    async with app.sessions() as s:
        g1 = Grid(code="G01", name="第一网格", community="幸福社区")
        g2 = Grid(code="G02", name="第二网格", community="幸福社区")
        admin = User(telegram_id=1, display_name="王主任", language="zh-CN")
        grid_staff = User(telegram_id=2, display_name="李网格员", language="zh-CN")
        s.add_all([g1, g2, admin, grid_staff])
        await s.flush()
        s.add(Staff(user_id=admin.id, scope="community", is_admin=True))
        s.add(Staff(user_id=grid_staff.id, scope="grid", grid_id=g1.id))
        await s.commit()
        grids = {"G01": g1.id, "G02": g2.id}
        ids = (admin.id, grid_staff.id)
    try:
        yield Web(app, clock, notifier, grids, ids[0], ids[1], count(100))
    finally:
        await engine.dispose()
