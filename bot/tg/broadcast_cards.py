"""How a broadcast looks to staff: its progress card with the pause/resume/cancel buttons, and
its audience in words."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.outreach.broadcasts import Progress, Segment
from bot.services.people import grids
from bot.tg import keyboards as kb
from bot.tg.callbacks_broadcast import BroadcastCb
from bot.tg.shorten import shorten

EXCERPT = 40


def skill_options(t: Translator, app: AppContext) -> list[tuple[str, str]]:
    return [(c.id, c.name(t.lang)) for c in app.settings.categories.resolved]


def slot_options(t: Translator, app: AppContext) -> list[tuple[str, str]]:
    return [(s.id, s.name(t.lang)) for s in app.settings.volunteers.slots]


def progress_controls(t: Translator, item: Progress) -> InlineKeyboardMarkup | None:
    def button(action: str) -> InlineKeyboardButton:
        return kb.button(
            t(f"broadcast.{action}"), BroadcastCb(action=action, broadcast_id=item.id).pack()
        )

    if item.status == "sending":
        return kb.rows([button("pause"), button("cancel")], [button("refresh")])
    if item.status == "paused":
        return kb.rows([button("resume"), button("cancel")], [button("refresh")])
    return None


async def progress_card(
    t: Translator, app: AppContext, session: AsyncSession, item: Progress
) -> str:
    excerpt = shorten(item.text, EXCERPT + 1)
    if item.photo:
        excerpt = f"🖼 {excerpt}".strip()
    text = t(
        "broadcast.card",
        id=item.id,
        status=t(f"broadcast.status.{item.status}"),
        when=item.created_at.astimezone(app.settings.tz).strftime("%m-%d %H:%M"),
        audience=await describe_segment(t, app, session, item.segment),
        excerpt=excerpt,
        total=item.recipients,
        delivered=item.delivered,
        pending=item.pending,
        blocked=item.count("blocked"),
        failed=item.failed,
        unknown=item.count("unknown"),
    )
    if item.count("cancelled"):
        text += "\n" + t("broadcast.card_cancelled", cancelled=item.count("cancelled"))
    return text


async def describe_segment(
    t: Translator, app: AppContext, session: AsyncSession, segment: Segment
) -> str:
    """The audience in words: "第二网格的志愿者", "擅长家居维修的志愿者"…"""
    names = {g.id: g.name for g in await grids.active_grids(session)}
    grid_names = "、".join(names.get(g, str(g)) for g in segment.grid_ids) or t(
        "broadcast.desc.all_grids"
    )
    skills = dict(skill_options(t, app))
    slots = dict(slot_options(t, app))
    audience = t(
        f"broadcast.desc.{segment.kind}",
        grids=grid_names,
        community=segment.community or "",
        skills="、".join(skills.get(s, s) for s in segment.skills),
        unit=segment.unit or "",
        slots="、".join(slots.get(s, s) for s in segment.slots),
    )
    if segment.grid_ids and segment.kind not in ("vol_grid", "res_grid", "groups"):
        audience = t("broadcast.desc.within", audience=audience, grids=grid_names)
    return audience
