"""Staff: /web sends a one-time dashboard login link; /stats a short outcome summary."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services import web_access
from bot.services.context import AppContext
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.services.reports import kinds
from bot.services.reports.evaluations import Period
from bot.services.reports.outcomes import outcome_figures
from bot.tg.filters import HasRole, PrivateChat


def router() -> Router:
    r = Router(name="staff.web")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.message.register(web_link, Command("web"))
    r.message.register(stats, Command("stats"))
    return r


async def web_link(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    if not app.settings.web.enabled:
        await message.answer(t("web.web_off"))
        return
    url = await web_access.issue_login_link(app, session, actor.user_id)
    await message.answer(t("web.link_message", url=url))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


async def stats(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    now = app.now()
    grids = None if actor.staff_grid_id is None else [actor.staff_grid_id]
    o = await outcome_figures(session, now - timedelta(days=30), now, grids)
    await session.rollback()
    text = t(
        "web.stats_text",
        scope=t("web.scope_all" if grids is None else "web.scope_grid"),
        wishes=o.wishes,
        approved=o.approved,
        claim=_num(o.claim_median_h),
        claim90=_num(o.claim_p90_h),
        c2=_pct(o.claimed_2h_share),
        c24=_pct(o.claimed_24h_share),
        unserved=_pct(o.unserved_share),
        completion=_pct(o.completion_share),
        satisfaction=_num(o.satisfaction),
        ratings=o.ratings,
        serving=o.volunteers_serving,
        max=o.tasks_per_volunteer_max,
    )
    period = Period(now - timedelta(days=30), now + timedelta(seconds=1), "30d")
    by_kind = await kinds.figures_by_kind(session, period, grids)  # 党群接单: side by side
    await session.rollback()
    text += "\n" + t(
        "helper.stats_line",
        member=by_kind["member"].services,
        resident=by_kind["resident"].services,
        helpers=by_kind["resident"].approved,
    )
    if app.settings.web.enabled:
        text += "\n" + t("web.stats_link", url=f"{app.settings.web.base_url}/overview")
    await message.answer(text)
