"""The deployment kit in deploy/ is what runs: its commands parse, its Dockerfile's command and
health check work against a real `wishbot run`, and nginx accepts its site (`nginx -t`)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from bot.db.migrate import upgrade_async
from bot.demo.stage import TOKEN
from bot.fakeapi.server import FakeBotAPI
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def wishbot_args(command: list[str]) -> list[str]:
    """The arguments after the `wishbot` program (any path to it)."""
    assert Path(command[0]).name == "wishbot", command
    return command[1:]


def assert_real_subcommand(command: list[str]) -> None:
    args = build_parser().parse_args(wishbot_args(command))  # SystemExit on a bad command
    assert callable(args.fn)


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, argument) pairs, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def docker_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile():
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_the_dockerfile_runs_a_real_command_as_a_user_with_a_health_check() -> None:
    pairs = dockerfile()
    words = [w for w, _ in pairs]
    assert words[0] == "FROM" and "slim" in pairs[0][1]
    cmd = json.loads(next(r for w, r in pairs if w == "CMD"))
    assert cmd == ["wishbot", "run"]
    assert_real_subcommand(cmd)
    user = [r for w, r in pairs if w == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert words.index("USER") < words.index("CMD")
    health = next(r for w, r in pairs if w == "HEALTHCHECK")
    assert "WISHBOT_HEALTH_URL" in health
    assert docker_env()["WISHBOT_HEALTH_URL"].endswith("/healthz")
    for _, rest in (p for p in pairs if p[0] == "COPY"):
        for source in rest.split()[:-1]:
            assert (ROOT / source).exists(), source


def test_compose_loads_and_runs_real_commands_against_files_that_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "bot", "web", "nginx"} <= set(services)
    for name in ("migrate", "bot", "web"):
        assert_real_subcommand(services[name]["command"])
        env = services[name]["environment"]
        assert env["WISHBOT__DATABASE__URL"].startswith("postgresql+asyncpg://")
        assert env["WISHBOT__REDIS__URL"].startswith("redis://")
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["web"]["environment"]["WISHBOT_HEALTH_URL"].endswith("/healthz")
    # Polling allows one getUpdates caller per token: the bot is never replicated.
    assert "deploy" not in services["bot"] and "scale" not in services["bot"]
    assert services["bot"]["profiles"] == ["polling"]
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.endswith(("config.toml", "backups")):
                assert (DEPLOY / source).is_file(), source


def test_compose_webhook_workers_are_the_upstreams_nginx_proxies_to() -> None:
    """The webhook profile's workers listen where deploy/nginx/upstream.conf (the file the
    two-worker test runs) sends /tg/, share the web container's network with nginx, and keep
    their health/metrics ports and the dashboard's port apart."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    workers = {n: s for n, s in services.items() if s.get("profiles") == ["webhook"]}
    assert len(workers) >= 2
    upstream = (DEPLOY / "nginx" / "upstream.conf").read_text(encoding="utf-8")
    block = re.search(r"upstream wishbot_webhook \{(.*?)\}", upstream, re.S)
    assert block is not None
    servers = set(re.findall(r"server (127\.0\.0\.1:\d+);", block.group(1)))
    listening, metrics = set(), set()
    for service in workers.values():
        assert_real_subcommand(service["command"])
        assert service["network_mode"] == "service:web" == services["nginx"]["network_mode"]
        env = service["environment"]
        assert env["WISHBOT__TELEGRAM__MODE"] == "webhook"
        assert env["WISHBOT__WEB__HOST"] == ""  # the web service serves the dashboard
        assert env["WISHBOT__DATABASE__URL"].startswith("postgresql+asyncpg://")
        assert env["WISHBOT__REDIS__URL"].startswith("redis://")
        listening.add(f"{env['WISHBOT__WEBHOOK__HOST']}:{env['WISHBOT__WEBHOOK__PORT']}")
        metrics.add(env["WISHBOT__METRICS__PORT"])
        assert env["WISHBOT_HEALTH_URL"] == (
            f"http://127.0.0.1:{env['WISHBOT__METRICS__PORT']}/healthz"
        )
    assert listening == servers
    assert len(metrics) == len(workers)
    assert services["web"]["environment"]["WISHBOT__WEB__PORT"] not in metrics


def test_an_empty_web_host_switches_the_dashboard_off() -> None:
    from bot.config import WebConfig

    assert WebConfig(host="127.0.0.1").enabled
    assert not WebConfig(host="").enabled and not WebConfig().enabled


def unit_commands(path: Path) -> list[list[str]]:
    commands = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key in ("ExecStart", "ExecStartPre") and "wishbot" in value:
            words = shlex.split(value.replace("%%", "%"))
            if words[0] == "/bin/sh":  # sh -c 'exec wishbot ... $(date ...)'
                words = shlex.split(re.sub(r"\$\([^)]*\)", "DATE", words[2]))[1:]
            commands.append(words)
    return commands


def test_the_systemd_units_run_real_commands() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {"wishbot.service", "wishbot-web.service"}
    seen = []
    for unit in units:
        for command in unit_commands(unit):
            assert_real_subcommand(command)
            seen.append(command[1])
    assert {"run", "web", "migrate", "backup"} <= set(seen)
    timer = (DEPLOY / "systemd" / "wishbot-backup.timer").read_text(encoding="utf-8")
    assert "OnCalendar=" in timer


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        if IN_CI:
            pytest.fail("nginx is not installed (CI=true: .ci/run installs it)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    site = (DEPLOY / "nginx" / "wishbot.conf").read_text(encoding="utf-8")
    # The one path the site expects the upstream file at, pointed at the repository's copy.
    assert "include /etc/nginx/wishbot-upstream.conf;" in site
    site = site.replace("/etc/nginx/wishbot-upstream.conf", str(DEPLOY / "nginx" / "upstream.conf"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_images_command_and_health_check_work_on_a_real_bot(tmp_path: Path) -> None:
    """`wishbot run` as the image runs it (its environment), then the image's HEALTHCHECK."""
    async with FakeBotAPI(token=TOKEN) as fake:
        db = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        await upgrade_async(db)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[telegram]\ntoken = "{TOKEN}"\napi_base = "{fake.base_url}"\npolling_timeout = 1\n'
            f'[database]\nurl = "{db}"\n[staff]\nadmins = [9001]\n',
            encoding="utf-8",
        )
        port = free_port()
        env = dict(os.environ) | docker_env()
        env |= {
            "WISHBOT_CONFIG": str(config),
            "WISHBOT__METRICS__HOST": "127.0.0.1",
            "WISHBOT__METRICS__PORT": str(port),
            "WISHBOT_HEALTH_URL": docker_env()["WISHBOT_HEALTH_URL"].replace("9108", str(port)),
        }
        cmd = json.loads(next(r for w, r in dockerfile() if w == "CMD"))
        exe = str(Path(sys.executable).parent / cmd[0])
        bot = await asyncio.create_subprocess_exec(exe, *cmd[1:], env=env, cwd=tmp_path)
        try:
            await fake.wait_for(lambda: fake.bot_is_polling, timeout=30)
            health = json.loads(
                next(r for w, r in dockerfile() if w == "HEALTHCHECK").split("CMD", 1)[1]
            )
            check = await asyncio.create_subprocess_exec(
                sys.executable, *health[1:], env=env, cwd=tmp_path
            )
            assert await asyncio.wait_for(check.wait(), 30) == 0
        finally:
            bot.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(bot.wait(), 30)
        assert code == 0
        # With the Bot API gone the same check fails (503 → non-zero exit).
        bot = await asyncio.create_subprocess_exec(exe, *cmd[1:], env=env, cwd=tmp_path)
        try:
            await fake.wait_for(lambda: fake.bot_is_polling, timeout=30)
            await fake.stop()
            check = await asyncio.create_subprocess_exec(
                sys.executable, *health[1:], env=env, cwd=tmp_path, stderr=subprocess.PIPE
            )
            _, err = await asyncio.wait_for(check.communicate(), 30)
            assert check.returncode != 0 and b"503" in err
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)


async def test_the_web_services_health_check_works_on_wishbot_web(tmp_path: Path) -> None:
    """compose.yaml's `web` service: `wishbot web`, checked by the image's HEALTHCHECK."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    web = compose["services"]["web"]
    db = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    await upgrade_async(db)
    port = free_port()
    url = web["environment"]["WISHBOT_HEALTH_URL"].replace("8080", str(port))
    env = dict(os.environ) | docker_env()
    env |= {
        "WISHBOT_CONFIG": str(tmp_path / "none.toml"),
        "WISHBOT__DATABASE__URL": db,
        "WISHBOT__WEB__HOST": web["environment"]["WISHBOT__WEB__HOST"],
        "WISHBOT__WEB__PORT": str(port),
        "WISHBOT_HEALTH_URL": url,
    }
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    command = web["command"]
    exe = str(Path(sys.executable).parent / command[0])
    server = await asyncio.create_subprocess_exec(exe, *command[1:], env=env, cwd=tmp_path)
    health = json.loads(next(r for w, r in dockerfile() if w == "HEALTHCHECK").split("CMD", 1)[1])
    try:
        for _ in range(100):  # until it listens (at most ~20 s)
            check = await asyncio.create_subprocess_exec(
                sys.executable, *health[1:], env=env, stderr=subprocess.DEVNULL
            )
            if await check.wait() == 0:
                break
            await asyncio.sleep(0.2)
        assert check.returncode == 0
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)


def test_the_operator_manual_covers_what_operators_need() -> None:
    manual = (DEPLOY / "运维手册.md").read_text(encoding="utf-8")
    for topic in (
        "BotFather",
        "telegram.proxy",
        "telegram.api_base",
        "/myid",
        "grids_csv",
        "wishbot migrate",
        "wishbot backup",
        "wishbot restore",
        "/healthz",
        "/metrics",
        "Telegram 无法访问",
    ):
        assert topic in manual, topic
    # Every metric it explains is one the bot exports.
    from bot.ops import Metrics

    exported = {m.name for m in Metrics().registry.collect()}
    for name in re.findall(r"`(wishbot_[a-z_]+)", manual):
        assert name.removesuffix("_total") in exported, name
