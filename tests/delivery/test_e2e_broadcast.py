"""End to end: staff broadcast through the real bot (BotRunner) and the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from bot.db.models.delivery import Broadcast, OutboxMessage
from bot.delivery import DeliveryOptions
from bot.delivery.engine import DeliveryEngine
from bot.delivery.ratelimit import MemoryRateLimiter
from bot.demo.stage import Person, Stage
from tests.conftest import ManualClock, wait_until
from tests.e2e import seed

pytestmark = pytest.mark.e2e
ADMIN = 9001
TERMINAL = {"delivered", "blocked", "invalid", "failed", "unknown"}


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    # BotRunner runs the delivery engine; small claims and a short lease for these tests.
    limits = {"rate": 20, "max_per_second": 20, "batch_size": 5, "lease_seconds": 1.0}
    async with Stage(sqlite_url, admins=(ADMIN,), clock=clock, delivery=limits) as s:
        yield s


def running_engine(stage: Stage) -> DeliveryEngine:
    assert stage.runner is not None
    engine: DeliveryEngine = stage.runner.delivery
    return engine


@asynccontextmanager
async def engine_for(stage: Stage, **options: float) -> AsyncIterator[DeliveryEngine]:
    """Another delivery engine on the bot's database (a restarted process), short time-outs."""
    opts = DeliveryOptions(
        **{"lease_seconds": 1.0, "poll_seconds": 0.05, "batch_size": 5, **options}  # type: ignore[arg-type]
    )
    bot = stage.fake.make_bot(timeout=1.0)
    engine = DeliveryEngine(stage.app, bot, MemoryRateLimiter.from_options(opts), options=opts)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        await bot.session.close()


async def _compose_to_grid(admin: Person, grid_button: str, count: int) -> None:
    await admin.expect("发给谁")
    await admin.press("志愿者 · 按网格", expect="请选择网格")
    await admin.press(grid_button)
    preview = await admin.press("完成", expect="确认发送")
    assert preview is not None and f"接收人数：{count}" in preview.text
    assert "第二网格" in preview.text
    await admin.press("✅ 确认发送", expect="已开始发送")


async def test_staff_broadcast_reaches_the_grid_and_the_sender_gets_the_report(
    stage: Stage,
) -> None:
    admin = stage.person(ADMIN, "王主任")
    li, qian, wang = (
        stage.person(301, "李明"),
        stage.person(302, "钱进"),
        stage.person(303, "王芳"),
    )
    await seed.volunteer(stage, li, grid="G02")
    await seed.volunteer(stage, qian, grid="G02")
    await seed.volunteer(stage, wang, grid="G01")
    engine = running_engine(stage)
    await admin.say("/broadcast", expect="群发消息")
    await admin.say("本周六上午9点小区广场义诊，需要志愿者帮忙维持秩序。", expect="发给谁")
    # Changed their mind once: the audience can be chosen again from the preview.
    await admin.press("全社区志愿者", expect="接收人数：3")
    await admin.press("重新选择对象", expect="发给谁")
    await admin.press("志愿者 · 按网格", expect="请选择网格")
    await admin.press("第二网格（7-12栋）")
    preview = await admin.press("完成", expect="确认发送")
    assert preview is not None and "接收人数：2" in preview.text
    await admin.press("✅ 确认发送", expect="已开始发送")
    await li.expect("义诊")
    await qian.expect("义诊")
    report = await admin.expect("发送完毕", timeout=15)
    assert "共 2 人" in report.text and "已送达 2" in report.text
    await engine.drain(timeout=10)
    assert not [m for m in wang.inbox() if "义诊" in m.text]
    card = await admin.say("/broadcasts", expect="群发 #")
    assert "已完成" in card.text and "已送达 2" in card.text and not card.button_texts()


async def test_photo_broadcast_with_faults_survives_a_crash_and_a_pause(stage: Stage) -> None:
    admin = stage.person(ADMIN, "王主任")
    crowd = [stage.person(1000 + n, f"志愿者{n}") for n in range(60)]
    for person in crowd:
        await seed.volunteer(stage, person, grid="G02")
    await admin.say("/broadcast", expect="群发消息")
    await stage.fake.send_photo(admin.user, caption="社区停水通知：明天8点到12点停水，请提前储水。")
    await _compose_to_grid(admin, "第二网格（7-12栋）", 60)
    # Faults on the broadcast's photos only (the staff's own replies are plain messages).
    share = 0.1 / 5
    stage.fake.set_faults(
        rate_429=share,
        rate_403=share,
        rate_400=share,
        rate_5xx=share,
        rate_timeout=share,
        timeout_delay=3.0,
        seed=11,
        methods=("sendPhoto",),
    )

    def photos() -> int:
        return sum(1 for d in stage.fake.deliveries if d.method == "sendPhoto")

    await wait_until(lambda: photos() >= 15, timeout=20)
    await running_engine(stage).kill()  # the process dies mid-broadcast
    async with engine_for(stage, rate=20, max_per_second=20):  # ...and is started again
        await wait_until(lambda: photos() >= 30, timeout=20)
        card = await admin.say("/broadcasts", expect="群发 #")
        paused = await admin.press("⏸ 暂停", message_id=card.message_id, expect="已暂停")
        assert paused is not None and "▶️ 继续" in paused.button_texts()
        async with stage.app.sessions() as session:
            waiting = await session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.batch_key == "bc:1")
            )
            assert "paused" in set(waiting)
        await admin.press("▶️ 继续", message_id=card.message_id, expect="发送中")
        report = await admin.expect("发送完毕", timeout=30)
    await _check_books(stage)
    async with stage.app.sessions() as session:
        broadcast = await session.get(Broadcast, 1)
        assert broadcast is not None and broadcast.status == "done"
    assert "共 60 人" in report.text


async def _check_books(stage: Stage) -> None:
    """Nothing lost, nobody messaged twice (a time-out's row is 'unknown': never resent)."""
    async with stage.app.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.status, OutboxMessage.user_id).where(
                    OutboxMessage.batch_key == "bc:1"
                )
            )
        ).all()
        from bot.db.models import User

        telegram = dict((await session.execute(select(User.id, User.telegram_id))).all())
    photos = stage.fake.delivery_counts()
    statuses = set()
    for status, user_id in rows:
        statuses.add(status)
        got = photos.get(telegram[user_id], 0)
        assert status in TERMINAL, status
        if status == "delivered":
            assert got == 1
        elif status == "unknown":
            assert got <= 1
        else:
            assert got == 0, (status, got)
    assert len(rows) == 60 and "delivered" in statuses


async def test_audience_by_skill_or_by_typed_employer(stage: Stage) -> None:
    admin = stage.person(ADMIN, "王主任")
    fixer, teacher = stage.person(401, "李师傅"), stage.person(402, "王老师")
    await seed.volunteer(stage, fixer, grid="G01", skills=("repair",))
    await seed.volunteer(stage, teacher, grid="G03", skills=("education",))
    await admin.say("/broadcast", expect="群发消息")
    await admin.say("/oops", expect="只能群发文字或图片")  # a command is not content
    await admin.say("周日下午楼道水管检修，需要懂维修的志愿者。", expect="发给谁")
    await admin.press("志愿者 · 按服务技能", expect="请选择服务技能")
    await admin.press("完成", expect="至少选一项")
    await admin.press("家居维修")
    preview = await admin.press("完成", expect="确认发送")
    assert preview is not None and "接收人数：1" in preview.text and "家居维修" in preview.text
    await admin.press("重新选择对象", expect="发给谁")
    await admin.press("志愿者 · 按工作单位", expect="工作单位或党组织")
    await admin.say("没有这家单位", expect="发给谁")  # nobody: back to the audience question
    assert any("没有符合条件" in m.text for m in admin.inbox())
    await admin.press("志愿者 · 按工作单位", expect="工作单位或党组织")
    preview = await admin.say("单位", expect="确认发送")  # seed's unit is "单位"
    assert "接收人数：2" in preview.text
    await admin.press("放弃", expect="已放弃")
    async with stage.app.sessions() as session:
        assert (await session.scalars(select(Broadcast))).all() == []
