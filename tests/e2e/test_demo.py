"""The README's first command: the demo runs the whole loop by itself and ends."""

from __future__ import annotations

import re

import pytest

from bot.demo.run import main

pytestmark = pytest.mark.e2e


async def test_the_demo_runs_to_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert await main(quiet=False) == 0
    out = capsys.readouterr().out
    for section in (
        "在职党员报到",
        "群众点单",
        "社区派单",
        "党员接单",
        "服务 · 报告",
        "积分超市",
        "志愿服务招募",
    ):
        assert section in out
    summary = out[out.index("小结") :]
    assert "residents: 2" in summary and "volunteers_approved: 2" in summary
    assert "wishes_closed: 1" in summary
    for shown in ("积分到账", "取货码", "已确认领取", "已开始发送", "签到成功"):
        assert shown in out
    assert re.search(r"staff login .*: http://127\.0\.0\.1:\d+/login/\S+", out)
    assert re.search(r"wall screen .*: http://127\.0\.0\.1:\d+/display/\S+", out)
