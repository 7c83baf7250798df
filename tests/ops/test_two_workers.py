"""Two `wishbot run` workers in webhook mode behind Debian's nginx (the site and upstream files
of deploy/nginx, only the ports changed), on PostgreSQL and Redis, driven by the fake Bot API's
webhook delivery with 60 residents acting at once (the load benchmark's script), while a
broadcast and event reminders (timers → outbox) go out. One worker is killed with SIGKILL once a
third of the residents are through: the fake's retries land on the other worker.

Every update handled to the end exactly once, nobody lost, no wish, card, "filed" notice,
broadcast or reminder doubled, every outbox row in a final state."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.demo.cluster import nginx_binary, render_nginx
from bot.demo.cluster_load import run_cluster_load
from tests.conftest import IN_CI, PG_HOST, PG_PORT, REDIS_HOST, REDIS_PORT, need_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.e2e]

USERS = 60


def need_nginx() -> None:
    if nginx_binary() is None:
        if IN_CI:
            pytest.fail("nginx is not installed (CI=true: .ci/run installs it)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")


async def test_two_workers_behind_nginx_survive_a_kill_9_without_loss_or_doubles() -> None:
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    need_service("Redis", REDIS_HOST, REDIS_PORT)
    need_nginx()
    result = await run_cluster_load(
        USERS,
        workers=2,
        kill=True,
        redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/15",
        delivery_rate=5.0,  # the broadcast and reminders are still going out at the kill
    )
    logs = result.pop("worker_logs")
    context = f"{result}\nworker logs:\n{logs}"
    assert result["exit_codes"][0] == -9 and result["exit_codes"][1] is None, context
    assert result["killed_worker_at_s"] is not None
    # Every update pushed by the fake was handled to the end by exactly one worker.
    assert result["updates"] == 2 * USERS, context
    assert result["handled_once"] == result["updates"], context
    assert result["handled_twice"] == 0 and result["never_handled"] == 0, context
    assert result["webhook_dropped"] == 0, context
    # Residents: everyone answered, one wish each, nothing said twice.
    assert result["lost"] == 0 and result["errors"] == 0, context
    assert result["duplicates"] == 0 and result["resent_cards"] == 0, context
    # Broadcast and timer-made reminders: every row final, nobody got one twice.
    broadcast, reminders = result["broadcast"], result["reminders"]
    assert set(broadcast) <= {"delivered", "unknown"}, context
    assert sum(broadcast.values()) == USERS, context
    assert result["broadcast_doubled"] == 0 and result["reminders_doubled"] == 0, context
    assert set(reminders) <= {"delivered", "unknown"}, context
    assert sum(reminders.values()) == 6 * result["events"], context
    # What was delivered arrived (an "unknown" row was cut off mid-send: at most once).
    assert result["broadcast_received"] >= broadcast.get("delivered", 0), context
    assert result["reminders_received"] >= reminders.get("delivered", 0), context


def test_nginx_accepts_the_deploy_site_with_the_webhook_upstream(tmp_path: Path) -> None:
    need_nginx()
    conf = render_nginx(tmp_path, 18080, [18081, 18082])
    upstream = (tmp_path / "upstream.conf").read_text(encoding="utf-8")
    assert "server 127.0.0.1:18081;" in upstream and "server 127.0.0.1:18082;" in upstream
    assert "server 127.0.0.1:8081;" not in upstream  # only the ports were changed
    site = (tmp_path / "site.conf").read_text(encoding="utf-8")
    assert "location /tg/" in site and "proxy_pass http://wishbot_webhook;" in site
    done = subprocess.run(
        [str(nginx_binary()), "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
