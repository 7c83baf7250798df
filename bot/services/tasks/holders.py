"""Who holds a wish whose grid post was just claimed, remembered by this process for seconds.

When a wish's post in the grid's group is claimed, everyone else pressing Claim on it (fifty
volunteers at once, thousands after a broadcast) can only be told "taken". What that answer
needs (the holder, and where the post is) is kept here so that such a press is answered
without the full path (:mod:`bot.tg.taken_press`). It is a hint, never the decision: a wish
changing status is forgotten at once in this process, and an entry expires after
``TTL_SECONDS`` so that another process's change is seen soon; the claim itself is still
decided by the database's conditional UPDATE.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import object_session

from bot.db.models import Wish

TTL_SECONDS = 5.0


@dataclass(slots=True)
class HeldPost:
    holder_id: int  # users.id of the volunteer holding the wish
    grid_id: int
    chat_id: int  # the grid group's post of the wish
    message_id: int
    until: float  # time.monotonic() after which the entry is not trusted
    # The grid's approved volunteers, who may press Claim on its post: telegram id ->
    # (users.id, language). Read once, by the first press answered from memory.
    pressers: dict[int, tuple[int, str]] | None = None

    @property
    def place(self) -> tuple[int, int]:
        """(chat id, message id) of the post."""
        return self.chat_id, self.message_id


class Holders:
    def __init__(self) -> None:
        self._posts: dict[int, HeldPost] = {}

    def held(
        self,
        wish_id: int,
        holder_id: int,
        grid_id: int,
        chat_id: int | None,
        message_id: int | None,
    ) -> None:
        if chat_id is None or message_id is None:
            return  # no group post: nothing to press there
        known = self.post(wish_id)
        seen = (holder_id, grid_id, chat_id, message_id)
        if known is not None and (known.holder_id, known.grid_id, *known.place) == seen:
            return  # as remembered: the entry keeps its age (and its pressers)
        until = time.monotonic() + TTL_SECONDS
        self._posts[wish_id] = HeldPost(holder_id, grid_id, chat_id, message_id, until)
        if len(self._posts) > 1000:  # old entries go when many were added
            now = time.monotonic()
            self._posts = {k: v for k, v in self._posts.items() if v.until > now}

    def forget(self, wish_id: int) -> None:
        self._posts.pop(wish_id, None)

    def post(self, wish_id: int) -> HeldPost | None:
        found = self._posts.get(wish_id)
        if found is None or found.until <= time.monotonic():
            return None
        return found


# One memory per database (the engine), so two bots in one process (the tests) never mix.
_by_engine: weakref.WeakKeyDictionary[Engine, Holders] = weakref.WeakKeyDictionary()


def of(bind: AsyncSession | AsyncEngine) -> Holders:
    if isinstance(bind, AsyncEngine):
        sync = bind.sync_engine
    else:
        engine = bind.sync_session.get_bind()
        sync = engine if isinstance(engine, Engine) else engine.engine
    found = _by_engine.get(sync)
    if found is None:
        found = _by_engine[sync] = Holders()
    return found


@event.listens_for(Wish.status, "set")
def _status_set(wish: Wish, value: Any, old: Any, _initiator: Any) -> None:
    """A wish given a new status (released, cancelled, done...) is forgotten at once."""
    session = object_session(wish)
    if session is None or wish.id is None or value == old:
        return
    bind = session.get_bind()
    memory = _by_engine.get(bind if isinstance(bind, Engine) else bind.engine)
    if memory is not None:
        memory.forget(wish.id)
