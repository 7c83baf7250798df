"""The README's first command: the demo runs the whole loop by itself and ends."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.demo.run import demo_times, main, summary_lines
from bot.i18n import Translator
from tests.unit.test_poster import decode_all

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.e2e
async def test_the_demo_runs_to_its_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "demo-output"
    assert await main(quiet=False, keep=True, lang="en", output=output) == 0
    out = capsys.readouterr().out
    # Something is said at once, before the stage is up, then what the marks mean.
    assert out.startswith("Starting a local fake Telegram server")
    assert "Legend: ✍ writes · 👆 presses a button" in out
    for section in (
        "在职党员报到",
        "群众点单",
        "社区派单",
        "党员接单",
        "服务 · 报告",
        "积分超市",
        "志愿服务招募",
        "每季一评",
        "社情民意",
    ):
        assert section in out
    for shown in ("积分到账", "取货码", "已确认领取", "已开始发送", "签到成功", "已闭环"):
        assert shown in out
    # Reply-keyboard buttons are shown, not only inline ones.
    assert "⌨ [📱 留下我的电话] [跳过]" in out
    # The preview has no number yet (it used to say #0 and publish as #1).
    assert "】 #0" not in out and "【楼道清洁】（发布后编号）" in out
    assert "已发布活动 #1 楼道清洁" in out
    # The event is on a fixed demo time, not wherever the wall clock happened to be.
    assert "周日 09:00–11:00" in out
    # The summary in the reader's language, no field names.
    summary = out[out.index("=== Summary ===") :]
    assert "Residents registered: 2" in summary and "Volunteers approved: 2" in summary
    # Issue 13 (lists): Ann's neighbour's door, fixed by Ann as a resident volunteer, is the
    # second wish closed; she is not counted among the approved party members.
    assert "of which closed: 2" in summary and "volunteers_approved" not in summary
    assert "党群接单" in out and "群众志愿者" in out
    # --keep: the database and the files the bot sent (QR PNG, XLSX, CSV) stay.
    files = sorted((output / "files").iterdir())
    assert (output / "demo.db").exists()
    png = [f for f in files if f.suffix == ".png"]
    assert png and png[0].read_bytes().startswith(b"\x89PNG")
    xlsx = [f for f in files if f.suffix == ".xlsx"]
    assert xlsx and xlsx[0].read_bytes().startswith(b"PK")
    assert any(f.suffix == ".csv" and "李明" in f.read_text("utf-8-sig") for f in files)
    for f in files:
        assert str(f) in out
    # Ann registered from the poster (民情二维码) that --keep saved; its bot code is the link.
    poster = output / "files" / "poster-G02-9.png"
    assert (output / "files" / "poster-G02-9.pdf").read_bytes().startswith(b"%PDF")
    assert "https://t.me/wishbot_demo_bot?start=g_G02_9" in decode_all(poster)
    assert "Ann scans the QR code poster in her stairwell" in out
    # The web dashboard: a staff login link and a wall-screen link, localized.
    assert re.search(r"Staff login link .*: http://127\.0\.0\.1:\d+/login/\S+", out)
    assert re.search(r"Wall screen link .*: http://127\.0\.0\.1:\d+/display/\S+", out)
    # 代办: a grid worker files for 孙奶奶 (no Telegram), Chen takes it and is told to phone;
    # with --keep Zhou files from the poster's web link too. Both count as residents.
    assert "代办 · a grid worker files for an elderly resident" in out
    assert "已为孙奶奶登记心愿 #" in out and "【代办 · 孙奶奶】" in out
    assert "【代办 · 孙奶奶】 好消息！心愿 #4 有志愿者 陈红 接单了" in out
    assert "Zhou has no Telegram" in out and "/h5/s/" in out
    assert "Residents without Telegram (filed for, web form): 2" in summary


@pytest.mark.parametrize(
    ("today", "start", "event"),
    [
        # A Sunday (run at 01:00 or at noon, the same story): the coming week.
        (date(2026, 11, 29), "2026-12-03 19:00", "2026-12-06 09:00"),
        # A Friday: Saturday is tomorrow, the story started yesterday evening.
        (date(2026, 12, 4), "2026-12-03 19:00", "2026-12-06 09:00"),
        # A Saturday: the next one, not today.
        (date(2026, 12, 5), "2026-12-10 19:00", "2026-12-13 09:00"),
    ],
)
def test_demo_times_are_fixed_moments_of_the_coming_week(
    today: date, start: str, event: str
) -> None:
    times = demo_times(today, SHANGHAI)
    assert f"{times.start:%Y-%m-%d %H:%M}" == start
    assert f"{times.event_start:%Y-%m-%d %H:%M}" == event
    assert times.start.weekday() == 3 and times.event_start.weekday() == 6
    assert times.start < times.checkin < times.event_start < times.event_end


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh-CN", ["登记的居民：2 人", "审核通过的在职党员：2 人", "其中办结 1 件"]),
        ("en", ["Residents registered: 2", "Volunteers approved: 2", "Wishes received: 3"]),
    ],
)
def test_demo_summary_reads_in_the_readers_language(lang: str, expected: list[str]) -> None:
    summary = {"residents": 2, "volunteers_approved": 2, "wishes": 3, "wishes_closed": 1}
    lines = summary_lines(Translator(lang), {**summary, "messages": 280})
    for line in expected:
        assert any(line in shown for shown in lines)
    assert not any("_" in shown for shown in lines)


def test_demo_command_passes_language_and_keep(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.demo.run
    from bot.cli import build_parser

    seen: dict[str, object] = {}

    async def fake_main(**kwargs: object) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(bot.demo.run, "main", fake_main)
    args = build_parser().parse_args(["demo", "--lang", "en", "--keep"])
    assert args.fn(args) == 0
    assert seen == {"keep": True, "quiet": False, "lang": "en", "serve": True}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--lang", "fr"])
