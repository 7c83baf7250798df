"""Outbound delivery: the outbox, the rate limiter and the engine that sends at Telegram's pace.

Services enqueue (bot.delivery.outbox), the engine sends (bot.delivery.engine), the limiter
keeps the bot token within Telegram's limits even across processes (bot.delivery.ratelimit).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """The ``[delivery]`` config section (read with defaults until config.py carries it)."""

    rate: float = 25.0  # messages per second for the bot token
    max_per_second: int = 30  # hard ceiling in any 1 s window (Telegram's limit)
    per_chat_per_second: int = 1  # private chats
    per_group_per_minute: int = 20  # group chats
    max_retries: int = 5  # tries of a send that failed with 5xx or a network error
    batch_size: int = 50  # rows claimed at once
    concurrency: int = 16  # sends in flight at once
    lease_seconds: float = 30.0  # a claim not renewed this long belongs to a dead process
    poll_seconds: float = 0.2  # how often an idle engine looks for new rows
    guard_seconds: float = 0.02  # added to every limiter window (rounding, clock read points)

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryOptions:
        section = getattr(settings, "delivery", None)
        if section is None:
            return cls()
        return cls(
            **{f.name: getattr(section, f.name) for f in fields(cls) if hasattr(section, f.name)}
        )
