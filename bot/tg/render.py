"""Turns a service's Notice into text and buttons in the recipient's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Volunteer
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.notices import Notice
from bot.tg import keyboards as kb
from bot.tg.callbacks import VolunteerReviewCb


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: str | None = None  # a Telegram file id to send with the text as caption


Renderer = Callable[
    [AsyncSession, AppContext, Translator, dict[str, Any]], Awaitable[Rendered | None]
]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        return fn

    return register


async def render(
    session: AsyncSession, app: AppContext, t: Translator, notice: Notice
) -> Rendered | None:
    fn = RENDERERS.get(notice.kind)
    if fn is not None:
        return await fn(session, app, t, notice.params)
    # Plain notices: the kind is the locale key and the params fill it.
    return Rendered(t(notice.kind, **notice.params))


async def volunteer_review_card(
    session: AsyncSession, app: AppContext, t: Translator, volunteer_user_id: int
) -> Rendered | None:
    volunteer = await session.get(Volunteer, volunteer_user_id)
    if volunteer is None:
        return None
    grid = await session.get(Grid, volunteer.grid_id)
    cats = {c.id: c.name(t.lang) for c in app.settings.categories.resolved}
    slots = {s.id: s.name(t.lang) for s in app.settings.volunteers.slots}
    text = t(
        "staff.volunteer_card",
        name=volunteer.name,
        grid=grid.name if grid else "?",
        unit=volunteer.unit,
        branch=volunteer.branch,
        occupation=volunteer.occupation,
        skills="、".join(cats.get(s, s) for s in volunteer.skills),
        specialties=volunteer.specialties or "—",
        slots="、".join(slots.get(s, s) for s in volunteer.availability),
        max_tasks=volunteer.max_active_tasks,
        status=t(f"status.volunteer.{volunteer.status}"),
    )
    if volunteer.kind == "resident":  # 党群接单: a resident volunteer, no unit or branch
        text = f"{t('helper.card_badge')}\n{text}"
    markup = None
    if volunteer.status == "pending":
        markup = kb.rows(
            [
                kb.button(
                    t("staff.approve"),
                    VolunteerReviewCb(action="ok", user_id=volunteer.user_id).pack(),
                ),
                kb.button(
                    t("staff.reject"),
                    VolunteerReviewCb(action="no", user_id=volunteer.user_id).pack(),
                ),
            ]
        )
    return Rendered(text, markup)


@renderer("staff.volunteer_review")
async def _volunteer_review(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    card = await volunteer_review_card(session, app, t, int(params["volunteer_user_id"]))
    if card is None:
        return None
    return Rendered(f"{t('staff.new_volunteer')}\n\n{card.text}", card.markup)


@renderer("volunteer.rejected")
async def _volunteer_rejected(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return Rendered(t("volunteer.rejected", reason=params.get("reason") or "—"))
