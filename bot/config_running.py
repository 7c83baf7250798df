"""How the bot runs, as configuration: outbound delivery, Redis, the web dashboard, health and
metrics, logging (``[delivery]``, ``[redis]``, ``[web]``, ``[metrics]``, ``[logging]``).

Split from bot/config.py (which re-exports these classes), beside bot/config_telegram.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bot.config_telegram import Section as _Section


class DeliveryConfig(_Section):
    """Outbound messages at Telegram's pace (broadcasts, offers, reminders, statements)."""

    rate: float = Field(default=25.0, gt=0)  # messages per second for the bot token
    max_per_second: int = Field(default=30, ge=1)  # hard ceiling in any 1 s window
    per_chat_per_second: int = Field(default=1, ge=1)  # private chats
    per_group_per_minute: int = Field(default=20, ge=1)  # group chats
    max_retries: int = Field(default=5, ge=0)  # tries of a send that failed with 5xx/network
    batch_size: int = Field(default=50, ge=1)  # outbox rows claimed at once
    concurrency: int = Field(default=16, ge=1)  # sends in flight at once
    lease_seconds: float = Field(default=60.0, gt=0)  # a claim older than this was abandoned


class RedisConfig(_Section):
    url: str | None = None
    # Seconds one update may hold its person's lock (shared by all bot processes); a process
    # that dies holding it frees it after this long.
    lock_seconds: float = Field(default=30.0, gt=0)


class WebConfig(_Section):
    """The staff web dashboard: off unless ``host`` is set (``wishbot run`` serves it too)."""

    host: str | None = None  # e.g. "127.0.0.1" behind a reverse proxy
    port: int = Field(default=8080, ge=1, le=65535)
    # The address people open (what the bot's login links point at), e.g. https://wish.example.org
    public_url: str | None = None
    secret: SecretStr | None = None  # signs login links; default: derived from telegram.token
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    display_refresh_seconds: int = Field(default=30, ge=5, le=3600)
    # The projector page shows a new check-in code this often (keep it under
    # events.checkin_code_minutes, so a code on screen always still works).
    checkin_rotate_seconds: int = Field(default=60, ge=10, le=3600)
    login_attempts_per_minute: int = Field(default=10, ge=1)

    @property
    def enabled(self) -> bool:
        # "" switches it off too: compose's webhook workers override a shared config's host
        # with WISHBOT__WEB__HOST="" (they share the web container's network and its port).
        return bool(self.host)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host or "127.0.0.1"
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


class MetricsConfig(_Section):
    """``/healthz`` and ``/metrics``: on the dashboard's server when ``web.host`` is set, else on
    a server of their own here when ``host`` is set (e.g. "127.0.0.1"), else off."""

    host: str | None = None
    port: int = Field(default=9108, ge=0, le=65535)  # 0: any free port (tests)


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["plain", "json"] = "plain"
