"""A poster's bot QR code (民情二维码) registers a resident with the grid already chosen."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db.models import Grid, Resident, User
from bot.demo.stage import Stage
from bot.poster_cli import make_poster
from tests.unit.test_poster import decode_all

pytestmark = pytest.mark.e2e


async def _resident(stage: Stage, telegram_id: int) -> tuple[Resident | None, str | None]:
    async with stage.app.sessions() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        resident = await session.get(Resident, user.id)
        code = None if resident is None else (await session.get(Grid, resident.grid_id)).code  # type: ignore[union-attr]
        return resident, code


async def test_scanned_poster_link_shortens_registration_to_consent(
    stage: Stage, tmp_path: Path
) -> None:
    settings = Settings.model_validate({"telegram": {"username": "happy_wish_bot"}})
    (png,) = make_poster(settings, "G02", "8", tmp_path / "poster.png")
    (bot_link,) = {link for link in decode_all(png) if link.startswith("https://t.me/")}
    payload = parse_qs(urlparse(bot_link).query)["start"][0]
    assert payload == "g_G02_8"

    liu = stage.person(301, "刘大爷")
    # No role buttons, no grid list, no building question: straight to consent.
    welcome = await liu.say(f"/start {payload}", expect="隐私")
    texts = " ".join(m.text for m in stage.fake.messages(liu.user.id))
    assert "第二网格" in texts and "8栋" in texts and "我是居民" not in str(welcome.button_texts())
    await liu.press("同意", expect="电话")
    await liu.say("跳过", expect="登记完成")
    resident, grid_code = await _resident(stage, 301)
    assert resident is not None and grid_code == "G02" and resident.building == "8"


async def test_refused_consent_from_a_poster_stores_nothing(stage: Stage) -> None:
    wang = stage.person(302, "王奶奶")
    await wang.say("/start g_G01", expect="隐私")
    await wang.press("不同意", expect="不会保存")
    resident, _ = await _resident(stage, 302)
    assert resident is None


async def test_poster_of_an_unknown_grid_falls_back_to_choosing(stage: Stage) -> None:
    zhao = stage.person(303, "赵阿姨")
    await zhao.say("/start g_G99_3", expect="请选择您居住的网格")
    assert any("自己选一下网格" in m.text for m in stage.fake.messages(zhao.user.id))
    await zhao.press("第三网格", expect="楼栋")  # the usual registration from here


async def test_registered_resident_scanning_again_is_not_registered_twice(stage: Stage) -> None:
    qian = stage.person(304, "钱叔")
    await qian.say("/start g_G01_5", expect="隐私")
    await qian.press("同意", expect="电话")
    await qian.say("跳过", expect="登记完成")
    await qian.say("/start g_G03_9")
    assert "隐私" not in qian.last().text
    resident, grid_code = await _resident(stage, 304)
    assert resident is not None and grid_code == "G01" and resident.building == "5"
