"""Cards of the points side: the declaration (党员申报) staff review, a reward as staff edit it,
a redemption at the handover."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.points import declarations, shop
from bot.tg import keyboards as kb
from bot.tg.callbacks_points import DeclarationCb, RedemptionCb, RewardAdminCb
from bot.tg.render import Rendered, renderer

REWARD_FIELDS = ("name", "price", "stock", "per_person_limit", "pickup_place")


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


def reward_admin_card(t: Translator, reward: shop.RewardView) -> tuple[str, InlineKeyboardMarkup]:
    text = t(
        "shop.admin_card",
        name=reward.name,
        price=reward.price,
        stock=reward.stock,
        limit=reward.per_person_limit or t("shop.limit_unlimited"),
        place=reward.pickup_place,
        status=t("shop.status_active" if reward.active else "shop.status_inactive"),
    )
    fields = [
        kb.button(t(f"shop.field.{f}"), RewardAdminCb(action="edit", id=reward.id, field=f).pack())
        for f in REWARD_FIELDS
    ]
    toggle = (
        kb.button(t("shop.button_off"), RewardAdminCb(action="off", id=reward.id).pack())
        if reward.active
        else kb.button(t("shop.button_on"), RewardAdminCb(action="on", id=reward.id).pack())
    )
    back = kb.button(t("shop.button_back"), RewardAdminCb(action="list").pack())
    return text, kb.rows(fields[:3], fields[3:], [toggle, back])


def redemption_card(
    t: Translator, r: shop.RedemptionView
) -> tuple[str, InlineKeyboardMarkup | None]:
    text = t(
        "shop.handover_card",
        code=r.code,
        name=r.volunteer_name,
        reward=r.reward_name,
        price=r.price,
        status=t(f"shop.status.{r.status}"),
    )
    if r.status != "held":
        return text, None
    return text, kb.rows(
        [
            kb.button(t("shop.button_give"), RedemptionCb(action="give", id=r.id).pack()),
            kb.button(t("shop.button_cancel_staff"), RedemptionCb(action="cancel", id=r.id).pack()),
        ]
    )
