"""How a declaration batch (召集人汇总) looks to staff and the convenor's waiting list."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.points import batches
from bot.services.points.declarations import DeclarationView
from bot.tg import keyboards as kb
from bot.tg.callbacks_lists import BatchCb, ConveneCb
from bot.tg.render import Rendered, renderer

WHAT_SHOWN = 40


def item_line(t: Translator, d: DeclarationView) -> str:
    what = d.what if len(d.what) <= WHAT_SHOWN else d.what[: WHAT_SHOWN - 1] + "…"
    points = d.points if d.points is not None else d.suggested_points
    return t(
        "convenor.item_line",
        id=d.id,
        name=d.volunteer_name,
        what=what,
        when=d.when_text,
        points=points,
        status=t(f"declare.status.{d.status}"),
    )


def waiting_card(
    t: Translator, items: list[DeclarationView]
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not items:
        return t("convenor.waiting_none"), None
    lines = [t("convenor.waiting_header", n=len(items)), *(item_line(t, d) for d in items)]
    markup = kb.rows([kb.button(t("convenor.button_forward"), ConveneCb(action="fwd").pack())])
    return "\n".join(lines), markup


def batch_card(t: Translator, view: batches.BatchView) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [
        t(
            "convenor.batch_card",
            id=view.id,
            convenor=view.convenor_name,
            group=view.group,
            summary=view.summary,
            n=len(view.items),
            status=t(f"convenor.status.{view.status}"),
        ),
        *(item_line(t, d) for d in view.items),
    ]
    if view.status != "forwarded":
        return "\n".join(lines), None
    rows: list[list[InlineKeyboardButton]] = [
        [kb.button(t("convenor.button_all"), BatchCb(action="all", batch_id=view.id).pack())]
    ]
    for d in view.pending:
        rows.append(
            [
                kb.button(
                    t("convenor.button_ok", id=d.id),
                    BatchCb(action="ok", batch_id=view.id, item=d.id).pack(),
                ),
                kb.button(
                    t("convenor.button_no", id=d.id),
                    BatchCb(action="no", batch_id=view.id, item=d.id).pack(),
                ),
            ]
        )
    rows.append(
        [kb.button(t("convenor.button_return"), BatchCb(action="ret", batch_id=view.id).pack())]
    )
    return "\n".join(lines), kb.rows(*rows)


@renderer("convenor.batch_review")
async def _batch_review(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    try:
        view = await batches.batch_view(session, int(params["batch_id"]))
    except UserError:
        return None
    text, markup = batch_card(t, view)
    return Rendered(f"{t('convenor.batch_title')}\n\n{text}", markup)
