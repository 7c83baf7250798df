"""The dispatcher factory: middlewares, then routers in explicit order, fallback last."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage

from bot.services.context import AppContext
from bot.tg.authz import install as install_authz
from bot.tg.log_context import LogContextMiddleware
from bot.tg.middlewares import ActorMiddleware, SessionMiddleware
from bot.tg.once import ReplayMiddleware
from bot.tg.router_index import RouterIndex


def build_dispatcher(app: AppContext, storage: BaseStorage) -> Dispatcher:
    # handlers/ is imported here and only here (the dependency rule in ARCHITECTURE.md).
    from handlers import routers

    dp = Dispatcher(storage=storage)
    dp.update.outer_middleware(SessionMiddleware(app))
    dp.update.outer_middleware(ActorMiddleware(app))
    dp.update.outer_middleware(LogContextMiddleware())
    install_authz(dp, app)  # bot/tg/policy.py: who may press and send what, and where
    dp.callback_query.outer_middleware(ReplayMiddleware())
    # Behind one index: each message and press is offered only to the routers that could
    # take it (bot/tg/router_index.py); read before the state filters are wrapped below.
    dp.include_router(RouterIndex(routers()))
    inline_magic_filters(dp)
    return dp


def inline_magic_filters(root: Router) -> int:
    """Run magic filters (``F.text``) and state filters (``WishDraft.confirm``) on the loop.

    aiogram runs a sync filter through ``asyncio.to_thread``: a thread hop, two wake-ups and a
    context copy for an attribute lookup, on every handler tried for every update
    (ARCHITECTURE convention 8; a ``State`` used as a filter is such a sync callable too).
    Both are pure and instant, so they are wrapped in a coroutine once, here. Returns how
    many were wrapped.
    """
    wrapped = 0
    for router in root.chain_tail:
        for observer in router.observers.values():
            for handler in observer.handlers:
                for flt in handler.filters or ():
                    pure = flt.magic is not None or isinstance(flt.callback, State)
                    if pure and not flt.awaitable:
                        _make_inline(flt)
                        wrapped += 1
    return wrapped


def _make_inline(flt: FilterObject) -> None:
    resolve = flt.callback

    async def inline(*args: Any, **kwargs: Any) -> Any:
        return resolve(*args, **kwargs)

    flt.callback = inline
    flt.awaitable = True
