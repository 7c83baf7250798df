"""The scripted demo: a staff member, volunteers and residents use the real bot.

Everything runs on this machine: the fake Bot API server, the bot (unchanged, long polling),
a fresh SQLite file. It prints who wrote what, what the bot answered, which button was pressed.

The demo keeps its own clock: it starts on the Thursday evening before the coming Saturday and
runs in real time from there, so the story (a repair on Saturday morning, an event on Sunday at
09:00) reads the same whenever it is run. With --keep, the database and every file the bot sent
(the check-in QR code, the evaluation workbook and CSVs) and the poster (民情二维码) a resident
registers from stay under demo-output/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import select

from bot.db.models import User
from bot.demo import forres as demo_forres
from bot.demo.history import seed_history
from bot.demo.patrol import patrol_scene
from bot.demo.resident_helper import resident_helps
from bot.demo.stage import Person, Stage, stage_settings
from bot.demo.summary import SHOWN, summary_counts, summary_lines
from bot.fakeapi.records import BotMessage, Event
from bot.fakeapi.server import FakeBotAPI
from bot.i18n import Translator
from bot.services import web_access

ADMIN_ID = 9001
OUTPUT = Path("demo-output")


class DemoClock:
    """The demo's time: a fixed starting moment, then running at the wall clock's pace."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def jump_to(self, moment: datetime) -> None:
        self._offset = moment - datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DemoTimes:
    start: datetime  # Thursday 19:00 before the coming Saturday
    event_start: datetime  # the Sunday after it, 09:00
    event_end: datetime
    checkin: datetime  # when the demo clock jumps to, for the event's check-in


def demo_times(today: date, tz: tzinfo) -> DemoTimes:
    """Fixed moments of the coming week, whatever the hour the demo is run at."""
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    sunday = saturday + timedelta(days=1)
    event_start = datetime.combine(sunday, time(9, 0), tz)
    return DemoTimes(
        start=datetime.combine(saturday - timedelta(days=2), time(19, 0), tz),
        event_start=event_start,
        event_end=event_start + timedelta(hours=2),
        checkin=event_start - timedelta(minutes=15),
    )


@dataclass
class Transcript:
    names: dict[int, str]
    quiet: bool
    t: Translator
    fake: FakeBotAPI | None = None
    files_dir: Path | None = None  # where the files the bot sends are saved (--keep)
    saved: list[Path] = field(default_factory=list)
    lines: int = 0

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def section(self, title: str) -> None:
        self.say(f"\n=== {title} ===")

    def __call__(self, event: Event) -> None:
        if event.kind not in SHOWN:
            return
        chat = event.chat.id if event.chat else 0
        message = self._message(chat, event) if event.kind == "bot_send" else None
        saved = self._save(message) if message is not None else None
        if self.quiet:
            return
        who = self.names.get(chat, str(chat))
        text = (
            " ".join(event.text.split())
            if len(event.text) < 160
            else " ".join(event.text[:157].split()) + "…"
        )
        if event.kind == "user_text":
            print(f"{who} ✍  {text}")
        elif event.kind == "user_press":
            print(f"{who} 👆 [{text}]")
        elif event.kind == "user_contact":
            print(f"{who} 📱 ({self.t('demo.shares_phone')})")
        elif event.kind == "user_photo":
            print(f"{who} 📷 {text}")
        else:
            buttons = " ".join(f"[{b.text}]" for row in event.buttons for b in row)
            if message is not None and message.keyboard:
                buttons += " ⌨ " + " ".join(f"[{b}]" for row in message.keyboard for b in row)
            mark = "✎" if event.kind == "bot_edit" else "🤖"
            if saved is not None:
                icon = "🖼" if message is not None and message.photo else "📎"
                text = f"{icon} {self.t('demo.file_saved', path=saved)} {text}"
            print(f"   {mark} → {who}: {text}" + (f"  {buttons.strip()}" if buttons else ""))
        self.lines += 1

    def _message(self, chat: int, event: Event) -> BotMessage | None:
        if self.fake is None or event.message_id is None:
            return None
        for message in reversed(self.fake.messages(chat)):
            if message.message_id == event.message_id:
                return message
        return None

    def _save(self, message: BotMessage) -> Path | None:
        """Write a photo or document the bot sent into files_dir; its path, if saved."""
        content = message.photo or message.document
        if self.files_dir is None or content is None:
            return None
        if message.filename:
            name = Path(message.filename).name
        else:
            ext = ".png" if content.startswith(b"\x89PNG") else ".jpg"
            name = f"photo-{message.chat_id}-{message.message_id}{ext}"
        path = self.files_dir / f"{len(self.saved) + 1:02d}-{name}"
        path.write_bytes(content)
        self.saved.append(path)
        return path


async def _resident(p: Person, grid: str, building: str, phone: str | None) -> None:
    await p.say("/start", expect="身份")
    await p.press("我是居民", expect="网格")
    await p.press(grid, expect="楼栋")
    await p.say(building, expect="隐私")
    await p.press("同意", expect="电话")
    if phone:
        await p.share_contact(phone, expect="登记完成")
    else:
        await p.say("跳过", expect="登记完成")


async def _resident_from_poster(
    stage: Stage, log: Transcript, p: Person, grid: str, building: str, phone: str
) -> None:
    """The resident scans the building's poster (民情二维码): grid and building come chosen.
    With --keep the poster itself (PDF and PNG) is saved beside the files the bot sent."""
    from bot.poster import NoCJKFont, render
    from bot.poster_cli import DEMO_BOT_USERNAME, poster_content

    # The fake Bot API server's bot is @wishbot_demo_bot, the posters' default.
    content = poster_content(stage.app.settings, grid, building, DEMO_BOT_USERNAME, log.t)
    if log.files_dir is not None:
        try:
            rendered = await asyncio.to_thread(render, content, log.t)
        except NoCJKFont as exc:
            log.say(str(exc))
        else:
            for ext, data in (("pdf", rendered.pdf), ("png", rendered.png)):
                path = log.files_dir / f"poster-{grid}-{building}.{ext}"
                path.write_bytes(data)
                log.saved.append(path)
    log.say(log.t("demo.poster_scanned", link=content.bot_link))
    await p.say(f"/start {content.bot_link.split('?start=', 1)[1]}", expect="隐私")
    await p.press("同意", expect="电话")
    await p.share_contact(phone, expect="登记完成")


async def _volunteer(
    p: Person,
    name: str,
    grid: str,
    unit: str,
    branch: str,
    job: str,
    skills: list[str],
    specialty: str,
    slots: list[str],
) -> None:
    await p.say("/start", expect="身份")
    await p.press("我是在职党员", expect="姓名")
    await p.say(name, expect="网格")
    await p.press(grid, expect="工作单位")
    await p.say(unit, expect="党组织")
    await p.say(branch, expect="职业")
    await p.say(job, expect="服务")
    for skill in skills:
        await p.press(skill)
    await p.press("完成", expect="特长")
    await p.say(specialty, expect="有空")
    for slot in slots:
        await p.press(slot)
    await p.press("完成", expect="最多")
    await p.press("2", expect="核对")
    await p.press("提交", expect="审核")


async def script(
    stage: Stage, log: Transcript, times: DemoTimes, clock: DemoClock | None = None
) -> dict[str, int]:
    admin = stage.person(ADMIN_ID, "王主任")
    li = stage.person(201, "李明")
    chen = stage.person(202, "陈红")
    ann = stage.person(101, "张阿姨")
    liu = stage.person(102, "刘大爷")
    log.names.update(
        {
            ADMIN_ID: "王主任(社区)",
            201: "李明(党员)",
            202: "陈红(党员)",
            101: "张阿姨(居民)",
            102: "刘大爷(居民)",
        }
    )

    log.section("社区工作人员上线 · staff comes online")
    await admin.say("/start")

    log.section("在职党员报到 · volunteers register")
    await _volunteer(
        li,
        "李明",
        "第二网格",
        "区供电公司",
        "供电公司第三党支部",
        "电工",
        ["家居维修", "数字助老"],
        "水电维修 电脑",
        ["工作日晚上", "周六上午"],
    )
    card = await admin.expect("李明")
    await admin.press("✅ 通过", message_id=card.message_id, expect="已通过")
    await li.expect("通过了")
    await _volunteer(
        chen,
        "陈红",
        "第一网格",
        "区人民医院",
        "医院党委第二支部",
        "护士",
        ["医疗健康", "助老陪伴"],
        "护理 量血压",
        ["周六上午", "周日下午"],
    )
    card = await admin.expect("陈红")
    await admin.press("✅ 通过", message_id=card.message_id, expect="已通过")

    log.section("居民登记 · residents register")
    # Liu writes his wish before registering: it is kept and picked up afterwards.
    await liu.say("俺家楼道灯坏了好几天了，晚上黑咕隆咚的", expect="记下")
    await _resident(liu, "第二网格", "8栋2单元", None)
    await liu.expect("核对")
    await liu.press("没问题", expect="已登记为心愿 #")
    await _resident_from_poster(stage, log, ann, "G02", "9", "13812345678")

    log.section("群众点单 · a resident files a wish")
    await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
    await ann.press("没问题", expect="已登记为心愿 #")
    await ann.say("我想找人唠嗑，老伴走了一个人闷得慌", expect=None)
    await stage.fake.settle()
    last = ann.last()
    if "哪一类" in last.text:
        await ann.press("助老陪伴", expect="核对")
    await ann.press("没问题", expect="已登记为心愿 #")

    log.section("社区派单 · staff review")
    await admin.say("/queue", expect="待处理")
    queue = admin.last()
    for row in queue.buttons:
        for button in row:
            if button.data:
                await admin.press(button.text, message_id=queue.message_id, expect="#")
                wish_card = admin.last()
                if "通过" in " ".join(wish_card.button_texts()):
                    await admin.press("✅ 通过", message_id=wish_card.message_id, expect="难度")
                    await admin.press("一般", expect="期限")
                    await admin.press("7天", expect="已通过")

    log.section("党员接单 · a volunteer takes the order")
    offer = await li.expect("水管漏水")
    mark = stage.fake.mark()
    await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
    task = await li.expect("详情", after=mark)
    await ann.expect("接单了", after=mark)
    await li.press("约定时间", message_id=task.message_id, expect="约好的时间")
    await li.say("周六上午9点", expect="提醒您")
    await li.press("联系居民", message_id=task.message_id, expect="转达")
    mark = stage.fake.mark()
    await li.say("阿姨您好，我周六上午9点带工具过来", expect="已转达")
    note = await ann.expect("志愿者说", after=mark)
    await ann.press("回复", message_id=note.message_id, expect="转达")
    await ann.say("好的，谢谢小李！", expect="已转达")

    log.section("服务 · 报告 · done, confirmed, verified")
    await li.press("✅ 已完成", message_id=task.message_id, expect="完成情况")
    mark = stage.fake.mark()
    await li.say("换了新的水管接头，已经不漏了", expect="标记完成")
    ask = await ann.expect("打个分", after=mark)
    mark = stage.fake.mark()
    await ann.press("⭐⭐⭐⭐⭐", message_id=ask.message_id, expect="谢谢您的评价")
    await ann.press("不用了", expect="谢谢您")
    verify = await admin.expect("请核实", after=mark)
    mark = stage.fake.mark()
    await admin.press("✅ 核实通过", message_id=verify.message_id, expect="已核实")
    await li.expect("社区已核实", after=mark)
    await ann.expect("办结", after=mark)

    log.section("查看 · following up")
    await ann.say("/mywishes", expect="我的心愿")
    await li.say("/mytasks")
    await admin.say("/why 1", expect="派单记录")

    log.section("社情民意 · a resident's suggestion, fixed and closed")
    choice = await liu.say("建议小区8栋门口多装一盏路灯，晚上太黑了", expect="建议或意见")
    mark = stage.fake.mark()
    await liu.press("📝 提建议", message_id=choice.message_id, expect="已收到您的建议")
    card = await admin.expect("新的居民建议", after=mark)
    await admin.press("🔧 整改", message_id=card.message_id, expect="由谁负责")
    await admin.press("王主任", expect="整改期限")
    mark = stage.fake.mark()
    await admin.press("7 天内", expect="已进入整改")
    await liu.expect("已进入整改", after=mark)
    await admin.press("✅ 已整改", message_id=card.message_id, expect="整改了什么")
    mark = stage.fake.mark()
    await admin.say("已在8栋门口加装一盏路灯", expect="已标记为已整改")
    fixed = await liu.expect("已整改", after=mark)
    await liu.press("😊 满意", message_id=fixed.message_id, expect="已闭环")
    log.section("代办 · a grid worker files for an elderly resident without Telegram")
    await demo_forres.filing_on_behalf(stage, log, admin, chen)
    if log.files_dir is not None:  # --keep: a wish from the poster's web link (H5) as well
        await demo_forres.web_form_wish(stage, log, admin, demo_forres.poster_form_link(stage, log))

    log.section("积分存折 · 积分超市 · points, the board, the shop")
    await li.say("/points", expect="积分存折")
    await li.say("/rank", expect="积分榜")
    await admin.say("/rewards", expect="兑换品")
    await admin.press("新增兑换品", expect="名字")
    await admin.say("保温杯", expect="多少积分")
    await admin.say("15", expect="多少件")
    await admin.say("10", expect="几次")
    await admin.say("1", expect="领取")
    await admin.say("社区服务站一楼", expect="已上架")
    await li.say("/shop", expect="积分超市")
    await li.press("保温杯", expect="需要积分")
    redeemed = await li.press("兑换", expect="取货码")
    code = next((w for w in (redeemed.text if redeemed else "").replace("：", " ").split()
                 if len(w) == 6 and w.isalnum() and w.isupper()), "")  # fmt: skip
    card = await admin.say(f"/handover {code}", expect="待领取")
    await admin.press("确认已领取", message_id=card.message_id, expect="已确认领取")

    log.section("志愿服务招募 · a broadcast and an event with check-in")
    await admin.say("/broadcast", expect="群发消息")
    await admin.say("本周六上午小区广场义诊，需要志愿者帮忙维持秩序。", expect="发给谁")
    await admin.press("全社区志愿者", expect="接收人数")
    mark = stage.fake.mark()
    await admin.press("✅ 确认发送", expect="已开始发送")
    await li.expect("义诊", after=mark)
    await chen.expect("义诊", after=mark)
    tz = stage.app.settings.tz
    start, end = times.event_start.astimezone(tz), times.event_end.astimezone(tz)
    await admin.say("/newevent", expect="活动名称")
    await admin.say("楼道清洁", expect="介绍")
    await admin.press("跳过", expect="地点")
    await admin.say("7栋楼下", expect="时间")
    await admin.say(f"{start.month}月{start.day}日 {start:%H:%M}-{end:%H:%M}", expect="多少人")
    await admin.say("5", expect="服务技能")
    await admin.press("完成", expect="积分")
    await admin.press("5", expect="报名截止")
    await admin.press("活动开始时", expect="发给哪些")
    await admin.press("幸福社区全体志愿者", expect="请核对")
    mark = stage.fake.mark()
    await admin.press("发布", expect="已发布")
    invite = await li.expect("楼道清洁", after=mark)
    await li.press("我要报名", message_id=invite.message_id, expect="您已报名")
    if clock is not None:
        clock.jump_to(times.checkin)
    log.say(log.t("demo.clock_jump", when=f"{times.checkin.astimezone(tz):%m-%d %H:%M}"))
    shown = await admin.say("/checkin 1", expect="扫码签到")
    pin = next(w for w in shown.text.split() if w.isdigit() and len(w) == 6)
    await li.say(f"/checkin {pin}", expect="签到成功")

    await patrol_scene(stage, log, times, clock)  # 治安巡查 (issue 13), Sunday evening
    log.section("每季一评 · the quarterly record for home organisations")
    today = stage.app.now().astimezone(tz)
    await admin.say(f"/evaluation {today.year}Q{(today.month - 1) // 3 + 1}", expect="每季一评")
    await stage.fake.settle()

    await resident_helps(stage, log, admin, ann, liu)  # 党群接单
    return await summary_counts(stage)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _dashboard_links(stage: Stage) -> tuple[str, str]:
    """A staff login link for the admin and a wall-screen link (the web part, on the demo)."""
    app = stage.app
    await seed_history(app)
    async with app.sessions() as session:
        admin = await session.scalar(select(User.id).where(User.telegram_id == ADMIN_ID))
        assert admin is not None
        login = await web_access.issue_login_link(app, session, admin)
        _, secret = await web_access.issue_display_token(app, session, admin, "演示大屏", None)
    return login, f"{app.settings.web.base_url}/display/{secret}"


async def main(
    *,
    keep: bool = False,
    quiet: bool = False,
    lang: str = "zh-CN",
    output: Path = OUTPUT,
    serve: bool = False,
) -> int:
    """The demo. `keep` saves the database and the files the bot sent; `serve` then keeps the
    bot and the dashboard running until Ctrl-C (the CLI's --keep asks for both)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    t = Translator(lang)
    if keep:
        folder = output
        shutil.rmtree(folder / "files", ignore_errors=True)
        (folder / "demo.db").unlink(missing_ok=True)
        (folder / "files").mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="wishbot-demo-"))
    db_url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    log = Transcript({}, quiet, t, files_dir=folder / "files" if keep else None)
    log.say(t("demo.starting"))
    web = {"host": "127.0.0.1", "port": _free_port()}
    try:
        tz = stage_settings(db_url, "http://127.0.0.1", [ADMIN_ID]).tz
        times = demo_times(datetime.now(UTC).astimezone(tz).date(), tz)
        clock = DemoClock(times.start)
        async with Stage(db_url, admins=(ADMIN_ID,), clock=clock, web=web) as stage:
            log.fake = stage.fake
            log.say(t("demo.ready", when=f"{times.start.astimezone(tz):%Y-%m-%d %H:%M}"))
            log.say(t("demo.legend"))
            stage.fake.on_event = log
            summary = await script(stage, log, times, clock)
            login, display = await _dashboard_links(stage)
            print(f"\n=== {t('demo.summary.head')} ===")
            for line in summary_lines(t, summary):
                print(line)
            if keep:
                print(t("demo.kept", path=folder / "demo.db"))
                if log.saved:
                    print(t("demo.files", path=folder / "files", n=len(log.saved)))
                    for path in log.saved:
                        print(f"  {path}")
            print(f"\n=== {t('demo.dashboard.head')} ===")
            print(t("demo.dashboard.login", url=login))
            print(t("demo.dashboard.display", url=display))
            if serve:
                print(t("demo.dashboard.serving"))
                await _until_interrupted()
            else:
                print(t("demo.dashboard.hint"))
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
