"""/metrics scraped from the running bot: counters move where things happen, gauges read the DB."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.db.models.timers import Timer
from bot.demo.stage import Stage
from tests.conftest import ManualClock

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        body = await response.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def stage(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Stage]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    async with Stage(
        url,
        clock=clock,
        metrics={"host": "127.0.0.1", "port": 0},
        telegram={"throttle_burst": 3, "throttle_cooldown_seconds": 600},
    ) as s:
        yield s


async def test_metrics_count_updates_sends_and_read_the_database(
    stage: Stage, clock: ManualClock
) -> None:
    assert stage.runner is not None and stage.runner.ops_server is not None
    url = stage.runner.ops_server.url
    before = await scrape(url)
    assert value(before, "wishbot_updates_total", kind="message", outcome="ok") == 0

    someone = stage.person(555001, "路人")
    await someone.say("/myid", expect="555001")
    after = await scrape(url)
    assert value(after, "wishbot_updates_total", kind="message", outcome="ok") == 1
    assert value(after, "wishbot_handler_seconds_count", kind="message") == 1
    assert value(after, "wishbot_messages_sent_total", outcome="ok") >= 1
    assert ("wishbot_db_pool_in_use", ()) in after

    # A refused send is counted under its status.
    stage.fake.set_faults(rate_403=1.0)
    await stage.fake.send_text(someone.user, "/myid")
    await stage.fake.settle(timeout=10)
    stage.fake.clear_faults()
    refused = await scrape(url)
    assert value(refused, "wishbot_messages_sent_total", outcome="403") >= 1

    # Past the burst, a person's messages are throttled and they count as throttled people.
    flooder = stage.person(555002, "刷屏")
    for n in range(6):
        await stage.fake.send_text(flooder.user, f"/myid {n}")
    await stage.fake.settle(timeout=10)
    flood = await scrape(url)
    assert value(flood, "wishbot_updates_total", kind="message", outcome="throttled") >= 2
    assert value(flood, "wishbot_throttled_people") == 1

    # Timers: the test's clock does not fire them, so one due 10 minutes ago is due and late.
    async with stage.app.sessions() as session:
        session.add(Timer(kind="test", key="ops-late", due_at=clock() - timedelta(minutes=10)))
        session.add(Timer(kind="test", key="ops-now", due_at=clock()))
        session.add(Timer(kind="test", key="ops-later", due_at=clock() + timedelta(hours=1)))
        await session.commit()
    timers = await scrape(url)
    assert value(timers, "wishbot_timers_due") == 2
    assert value(timers, "wishbot_timers_late") == 1
    assert value(timers, "wishbot_outbox_depth") == 0
    assert value(timers, "wishbot_outbox_oldest_age_seconds") == 0


async def test_with_the_dashboard_on_health_and_metrics_are_served_beside_it(
    tmp_path: Path, clock: ManualClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    web = {"host": "127.0.0.1", "port": port}
    # metrics.host is ignored when the dashboard's server is there to serve them.
    async with Stage(url, clock=clock, web=web, metrics={"host": "127.0.0.1", "port": 0}) as s:
        assert s.runner is not None and s.runner.ops_server is None
        base = f"http://127.0.0.1:{port}"
        await s.person(555003, "路人").say("/myid", expect="555003")
        samples = await scrape(base)
        assert value(samples, "wishbot_updates_total", kind="message", outcome="ok") == 1
        async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["checks"] == {"database": "ok", "bot_api": "ok"}
