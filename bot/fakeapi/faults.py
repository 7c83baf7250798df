"""Fault injection and rate limits for sends, for broadcast tests and benchmarks.

Each send draws exactly once from a seeded RNG, so a given seed and call order always give the
same faults. The rate limits measure the fake's own record of deliveries.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.fakeapi.errors import ApiError, forbidden, too_many_requests
from bot.fakeapi.records import Delivery

DEFAULT_TIMEOUT_DELAY = 65.0  # past aiogram's default 60 s session timeout
GLOBAL_PER_SECOND = 30
PRIVATE_PER_SECOND = 1
GROUP_PER_MINUTE = 20


@dataclass(frozen=True)
class FaultPlan:
    rate_429: float = 0.0
    retry_after: int = 1
    rate_403: float = 0.0
    rate_400: float = 0.0
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    timeout_delay: float = DEFAULT_TIMEOUT_DELAY
    methods: tuple[str, ...] = ("sendMessage", "sendPhoto")

    def __post_init__(self) -> None:
        rates = (self.rate_429, self.rate_403, self.rate_400, self.rate_5xx, self.rate_timeout)
        if any(rate < 0 for rate in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be >= 0 and sum to at most 1, got {rates}")


@dataclass(frozen=True)
class Fault:
    """What to do to one send: refuse with `error`, or deliver and answer after `delay`."""

    error: ApiError | None = None
    delay: float = 0.0


class FaultInjector:
    def __init__(self) -> None:
        self.plan = FaultPlan()
        self._rng = random.Random(0)
        self._methods: frozenset[str] = frozenset()

    def configure(self, plan: FaultPlan, seed: int) -> None:
        self.plan = plan
        self._rng = random.Random(seed)
        self._methods = frozenset(method.lower() for method in plan.methods)

    def draw(self, method: str) -> Fault | None:
        if method.lower() not in self._methods:
            return None
        plan = self.plan
        roll = self._rng.random()
        for rate, fault in (
            (plan.rate_429, Fault(too_many_requests(plan.retry_after))),
            (plan.rate_403, Fault(forbidden("bot was blocked by the user"))),
            (plan.rate_400, Fault(ApiError(400, "Bad Request: chat not found"))),
            (plan.rate_5xx / 2, Fault(ApiError(500, "Internal Server Error"))),
            (plan.rate_5xx / 2, Fault(ApiError(502, "Bad Gateway"))),
            (plan.rate_timeout, Fault(delay=plan.timeout_delay)),
        ):
            if roll < rate:
                return fault
            roll -= rate
        return None


def max_in_any_window(timestamps: Sequence[float], seconds: float) -> int:
    """The most events inside any half-open window [t, t + seconds); timestamps sorted."""
    best = 0
    start = 0
    for end, ts in enumerate(timestamps):
        while timestamps[start] <= ts - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def limit_retry_after(
    deliveries: Sequence[Delivery], chat_id: int, chat_type: str, now: float
) -> int | None:
    """Seconds to wait if one more send now would break Telegram's limits, else None."""
    if chat_type == "private":
        window, allowed = 1.0, PRIVATE_PER_SECOND
    else:
        window, allowed = 60.0, GROUP_PER_MINUTE
    # Newest first; only the last minute matters, so a long benchmark stays cheap.
    everywhere: list[float] = []
    this_chat: list[float] = []
    for delivery in reversed(deliveries):
        if delivery.ts <= now - max(window, 1.0):
            break
        if delivery.ts > now - 1.0:
            everywhere.append(delivery.ts)
        if delivery.chat_id == chat_id and delivery.ts > now - window:
            this_chat.append(delivery.ts)
    waits: list[float] = []
    if len(everywhere) >= GLOBAL_PER_SECOND:
        waits.append(everywhere[GLOBAL_PER_SECOND - 1] + 1.0 - now)
    if len(this_chat) >= allowed:
        waits.append(this_chat[allowed - 1] + window - now)
    if not waits:
        return None
    return max(1, math.ceil(max(waits)))
