"""getUpdates: long polling with offsets, limits, allowed_updates and Telegram's 409s."""

from __future__ import annotations

import asyncio

from bot.fakeapi.errors import ApiError
from bot.fakeapi.params import Params
from bot.fakeapi.records import JSON
from bot.fakeapi.state import DEFAULT_ALLOWED_UPDATES, TelegramState

MAX_LIMIT = 100


class UpdatePoller:
    def __init__(self, state: TelegramState) -> None:
        self._state = state
        self._generation = 0  # bumped by each getUpdates; an older waiting one then gets 409

    async def get_updates(self, params: Params) -> list[JSON]:
        state = self._state
        if state.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        limit = min(max(params.get_int("limit") or MAX_LIMIT, 1), MAX_LIMIT)
        timeout = max(params.get_float("timeout") or 0.0, 0.0)
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            # An empty list means "all the default types", as in Telegram.
            state.allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        state.confirm(params.get_int("offset") or 0)

        self._generation += 1
        generation = self._generation
        state.signal.notify()  # wake an older long poll so it can see it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        state.waiting_polls += 1
        try:
            while True:
                if generation != self._generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                batch = state.take_updates(limit)
                remaining = deadline - loop.time()
                if batch or state.stopping or remaining <= 0:
                    return batch
                await state.signal.wait(remaining)
        finally:
            state.waiting_polls -= 1
            state.signal.notify()
