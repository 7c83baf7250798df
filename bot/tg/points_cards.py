"""Cards of the points side: the declaration (党员申报) staff review."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.points import declarations
from bot.tg import keyboards as kb
from bot.tg.callbacks_points import DeclarationCb
from bot.tg.render import Rendered, renderer


def declaration_card(
    app: AppContext, t: Translator, d: declarations.DeclarationView
) -> tuple[str, InlineKeyboardMarkup | None]:
    category = app.settings.categories.get(d.category)
    text = t(
        "declare.card",
        id=d.id,
        name=d.volunteer_name,
        grid=d.grid_name,
        what=d.what,
        when=d.when_text,
        note=d.note or t("declare.note_none"),
        points=d.points if d.points is not None else d.suggested_points,
        category=category.name(t.lang) if category else d.category,
        status=t(f"declare.status.{d.status}"),
    )
    if d.status != "pending":
        return text, None
    return text, kb.rows(
        [
            kb.button(
                t("declare.button_ok", points=d.suggested_points),
                DeclarationCb(action="ok", id=d.id).pack(),
            )
        ],
        [
            kb.button(t("declare.button_pts"), DeclarationCb(action="pts", id=d.id).pack()),
            kb.button(t("declare.button_no"), DeclarationCb(action="no", id=d.id).pack()),
        ],
    )


@renderer("declare.review")
async def _declaration_review(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    view = await declarations.declaration_view(session, int(params["declaration_id"]))
    text, markup = declaration_card(app, t, view)
    return Rendered(f"{t('declare.review_title')}\n\n{text}", markup, photo=view.photo_file_id)
