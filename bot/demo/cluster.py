"""Several `wishbot run` workers in webhook mode behind nginx, on PostgreSQL and Redis.

The processes are the real ones: nginx runs the site and upstream files of ``deploy/nginx``
(only the listening port and the workers' ports are changed), each worker is started as
``deploy/systemd/wishbot-worker@.service`` starts it (its ``Environment=`` lines and its
``ExecStart`` arguments, with our config file), and the fake Bot API server of this process
plays Telegram, posting updates to nginx. Used by ``tests/ops/test_two_workers.py`` and
``wishbot bench load --mode webhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
WEBHOOK_PATH = "/tg/webhook"
SECRET = "cluster-secret_0123456789"


class ClusterError(RuntimeError):
    """The cluster could not start (nginx missing, a worker died at start...)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def wishbot_command() -> list[str]:
    """The installed `wishbot` next to this Python (as the systemd unit runs it)."""
    script = Path(sys.executable).parent / "wishbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def worker_unit() -> tuple[dict[str, str], list[str]]:
    """The Environment= lines and the wishbot arguments of the webhook worker unit."""
    unit = DEPLOY / "systemd" / "wishbot-worker@.service"
    env: dict[str, str] = {}
    args: list[str] = []
    for line in unit.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key == "Environment":
            name, _, setting = value.partition("=")
            env[name] = setting
        elif key == "ExecStart":
            words = shlex.split(value)
            if Path(words[0]).name != "wishbot":
                raise ClusterError(f"{unit.name}: ExecStart does not run wishbot")
            args = words[1:]
    if "WISHBOT__WEBHOOK__PORT" not in env or not args:
        raise ClusterError(f"{unit.name} changed shape: update bot/demo/cluster.py")
    return env, args


def render_nginx(prefix: Path, listen_port: int, worker_ports: list[int]) -> Path:
    """deploy/nginx's files with only the ports changed, plus a minimal main config."""
    site = (DEPLOY / "nginx" / "wishbot.conf").read_text(encoding="utf-8")
    upstream = (DEPLOY / "nginx" / "upstream.conf").read_text(encoding="utf-8")
    include = "include /etc/nginx/wishbot-upstream.conf;"
    if include not in site or "listen 80;" not in site:
        raise ClusterError("deploy/nginx/wishbot.conf changed shape: update bot/demo/cluster.py")
    site = site.replace(include, f"include {prefix / 'upstream.conf'};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    block = re.search(r"upstream wishbot_webhook \{(.*?)\}", upstream, re.S)
    if block is None:
        raise ClusterError("deploy/nginx/upstream.conf has no `upstream wishbot_webhook`")
    servers = "".join(f"\n    server 127.0.0.1:{port};" for port in worker_ports)
    body = re.sub(r"\n\s*server [^;]+;", "", block.group(1))
    upstream = upstream.replace(block.group(0), f"upstream wishbot_webhook {{{servers}{body}}}")
    (prefix / "upstream.conf").write_text(upstream, encoding="utf-8")
    (prefix / "site.conf").write_text(site, encoding="utf-8")
    temp = prefix / "temp"
    temp.mkdir(mode=0o777, exist_ok=True)
    temp.chmod(0o777)  # nginx's workers run as nobody when started as root
    paths = "".join(
        f"  {name}_temp_path {temp / name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = (
        f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
        "worker_processes 1;\nevents { worker_connections 1024; }\n"
        f"http {{\n  access_log off;\n{paths}  include {prefix / 'site.conf'};\n}}\n"
    )
    (prefix / "nginx.conf").write_text(main, encoding="utf-8")
    return prefix / "nginx.conf"


def worker_config(
    path: Path,
    *,
    token: str,
    api_base: str,
    db_url: str,
    redis_url: str,
    webhook_url: str,
    admin: int,
    grids: list[dict[str, str]],
    delivery_rate: float = 25.0,
) -> None:
    grid_lines = ",\n".join(f'  {{ code = "{g["code"]}", name = "{g["name"]}" }}' for g in grids)
    path.write_text(
        f"""[telegram]
token = "{token}"
api_base = "{api_base}"
mode = "webhook"
throttle_burst = 100
max_concurrent_updates = 16
drain_seconds = 5.0

[webhook]
url = "{webhook_url}"
path = "{WEBHOOK_PATH}"
host = "127.0.0.1"
secret = "{SECRET}"
max_connections = 40

[database]
url = "{db_url}"
pool_size = 12
max_overflow = 8

[redis]
url = "{redis_url}"
# A worker killed holding a person's lock frees it after this long.
lock_seconds = 10.0

[delivery]
rate = {delivery_rate}
# A worker killed holding outbox rows gives them back after this long.
lease_seconds = 3.0

[community]
name = "幸福社区"
grids = [
{grid_lines}
]

[staff]
admins = [{admin}]

[logging]
level = "WARNING"
""",
        encoding="utf-8",
    )


class Cluster:
    """nginx + N workers; ``await start()``, ``kill(i)``, ``await stop()``."""

    def __init__(self, workers: int, config: Path) -> None:
        nginx = nginx_binary()
        if nginx is None:
            raise ClusterError("nginx is not installed (Debian: apt-get install nginx-light)")
        self.nginx_bin = nginx
        self.prefix = Path(tempfile.mkdtemp(prefix="wishbot-nginx-"))
        self.prefix.chmod(0o755)
        self.listen_port = free_port()
        self.worker_ports = [free_port() for _ in range(workers)]
        self.config = config
        self.nginx: subprocess.Popen[bytes] | None = None
        self.procs: list[subprocess.Popen[bytes]] = []
        self.killed: set[int] = set()

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.listen_port}{WEBHOOK_PATH}"

    def start_nginx(self) -> None:
        conf = render_nginx(self.prefix, self.listen_port, self.worker_ports)
        args = [self.nginx_bin, "-p", str(self.prefix), "-c", str(conf)]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise ClusterError(f"nginx -t refused the site: {check.stderr.strip()}")
        self.nginx = subprocess.Popen(
            [*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def start_workers(self) -> None:
        """Each worker as deploy/systemd/wishbot-worker@.service starts it (its Environment
        and ExecStart, %i being the port), the config file being ours."""
        env_lines, args = worker_unit()
        for number, port in enumerate(self.worker_ports):
            env = {**os.environ}
            for key, value in env_lines.items():
                env[key] = value.replace("%i", str(port))
            env["WISHBOT_CONFIG"] = str(self.config)  # the unit's /etc/wishbot/config.toml
            log = (self.prefix / f"worker{number}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    [*wishbot_command(), *args], env=env, stdout=log, stderr=subprocess.STDOUT
                )
            )

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """Every worker's endpoint and nginx accept connections."""
        deadline = time.monotonic() + timeout
        for number, port in [*enumerate(self.worker_ports), (-1, self.listen_port)]:
            while not _answers(port):
                if number >= 0 and self.procs[number].poll() is not None:
                    raise ClusterError(f"worker {number} exited: {self.log_tail(number)}")
                if time.monotonic() > deadline:
                    raise ClusterError(f"port {port} not answering after {timeout}s")
                await asyncio.sleep(0.1)

    def kill(self, number: int) -> None:
        """``kill -9``: no drain, no goodbye."""
        self.procs[number].send_signal(signal.SIGKILL)
        self.procs[number].wait()
        self.killed.add(number)

    def log_tail(self, number: int, lines: int = 30) -> str:
        path = self.prefix / f"worker{number}.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self) -> None:
        for number, proc in enumerate(self.procs):
            if number not in self.killed and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(proc.wait, 20)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.nginx is not None:
            self.nginx.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.nginx.wait(10)
            if self.nginx.poll() is None:
                self.nginx.kill()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def exit_codes(self) -> list[Any]:
        return [proc.poll() for proc in self.procs]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
