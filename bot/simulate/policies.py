"""The three ways a community hands out wishes, as hooks around the real services.

* ``matching``: wishbot as configured; nothing is replaced.
* ``groupchat``: the baseline the reports describe (双报到联络群): an approved wish is posted
  to the grid's group chat through the real ``post_to_group``; whoever reads it, is free and
  wants it presses Claim (the real ``claim``: first valid claim wins, regardless of skill).
  No offers, no rounds: where wishbot would start an offer round, the wish is (re)posted.
* ``random``: the real offer rounds and time-outs, but each round offers K volunteers drawn at
  random from the eligible ones of the round's grids instead of the best-ranked.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from bot.db.models import Grid, Wish
from bot.services.context import AppContext
from bot.services.intake import routing
from bot.services.tasks import offers
from matching import ranking
from matching.ranking.vectorised import eligibility_mask

POLICIES = ("matching", "groupchat", "random")


def group_chat_id(grid_id: int) -> int:
    """The simulated group chat of a grid (negative, like Telegram group ids)."""
    return -1_000_000 - grid_id


async def _post_round(
    app: AppContext, wish_id: int, *, actor_id: int | None = None
) -> offers.RoundResult | None:
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id, populate_existing=True)
        if wish is None or wish.volunteer_id is not None:
            return None
        if wish.status not in ("approved", "offered"):
            return None
        grid = await session.get(Grid, wish.grid_id)
        chat = grid.group_chat_id if grid is not None else None
    if chat is not None:
        await offers.post_to_group(app, wish_id, chat)
    return None


def _random_ranker(rnd: random.Random) -> Any:
    def rank_random(
        pool: ranking.VolunteerPool,
        wish: ranking.WishQuery,
        weights: ranking.Weights,
        k: int,
        *,
        allowed_grids: Any = None,
    ) -> list[ranking.Ranked]:
        if k <= 0 or len(pool) == 0:
            return []
        eligible = np.flatnonzero(eligibility_mask(pool, wish, allowed_grids))
        picked = sorted(rnd.sample([int(i) for i in eligible], min(k, len(eligible))))
        return [ranking.Ranked(int(pool.ids[i]), 0.0, {}) for i in picked]

    return rank_random


@contextlib.contextmanager
def installed(policy: str, seed: int) -> Iterator[None]:
    """Install the policy's hooks for the duration of one run (restored afterwards)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: one of {', '.join(POLICIES)}")
    hooks: list[tuple[Any, str, Any]] = []
    if policy == "groupchat":
        hooks = [(routing, "next_round", _post_round), (offers, "next_round", _post_round)]
    elif policy == "random":
        hooks = [(offers, "rank", _random_ranker(random.Random(seed * 7919 + 1)))]
    saved = [(module, name, getattr(module, name)) for module, name, _ in hooks]
    try:
        for module, name, hook in hooks:
            setattr(module, name, hook)
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
