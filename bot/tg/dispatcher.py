"""The dispatcher factory: middlewares, then routers in explicit order, fallback last."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseStorage

from bot.services.context import AppContext
from bot.tg.authz import install as install_authz
from bot.tg.log_context import LogContextMiddleware
from bot.tg.middlewares import ActorMiddleware, SessionMiddleware
from bot.tg.once import ReplayMiddleware


def build_dispatcher(app: AppContext, storage: BaseStorage) -> Dispatcher:
    # handlers/ is imported here and only here (the dependency rule in ARCHITECTURE.md).
    from handlers import routers

    dp = Dispatcher(storage=storage)
    dp.update.outer_middleware(SessionMiddleware(app))
    dp.update.outer_middleware(ActorMiddleware(app))
    dp.update.outer_middleware(LogContextMiddleware())
    install_authz(dp, app)  # bot/tg/policy.py: who may press and send what, and where
    dp.callback_query.outer_middleware(ReplayMiddleware())
    for r in routers():
        dp.include_router(r)
    return dp
