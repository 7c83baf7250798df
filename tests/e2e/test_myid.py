"""/myid tells anyone, registered or not, their Telegram id (for staff.admins)."""

from __future__ import annotations

import pytest

from bot.demo.stage import Stage

pytestmark = pytest.mark.e2e


async def test_a_stranger_learns_their_telegram_id(stage: Stage) -> None:
    stranger = stage.person(555123, "路人")
    reply = await stranger.say("/myid", expect="ID")
    assert "555123" in reply.text and "staff.admins" in reply.text
