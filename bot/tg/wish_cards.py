"""How a wish looks to a resident and to staff (texts and buttons)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Wish
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.privacy import mask_personal
from bot.tg import keyboards as kb
from bot.tg.callbacks import WishCb
from bot.tg.render import Rendered, renderer


def category_name(app: AppContext, t: Translator, category_id: str) -> str:
    cat = app.settings.categories.get(category_id)
    return cat.name(t.lang) if cat else category_id


def time_text(app: AppContext, t: Translator, start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return t("wish.time_flexible")
    tz = app.settings.tz
    s = start.astimezone(tz)
    weekday = t(f"weekday.{s.weekday()}")
    if end is None:
        return f"{s:%m-%d} {weekday} {s:%H:%M}"
    e = end.astimezone(tz)
    if (e - s).total_seconds() > 86400 or (
        e.date() != s.date() and not (e.hour == 0 and e.minute == 0)
    ):
        return t("wish.time_range", start=f"{s:%m-%d}", end=f"{e:%m-%d %H:%M}")
    if s.hour == 0 and s.minute == 0 and e.hour == 0 and e.minute == 0:
        return f"{s:%m-%d} {weekday}"
    return f"{s:%m-%d} {weekday} {s:%H:%M}–{e:%H:%M}"


def age_text(t: Translator, seconds: float) -> str:
    hours = int(seconds // 3600)
    if hours >= 48:
        return t("common.age_days", n=hours // 24)
    if hours >= 1:
        return t("common.age_hours", n=hours)
    return t("common.age_minutes", n=max(1, int(seconds // 60)))


def draft_text(app: AppContext, t: Translator, draft: dict[str, Any]) -> str:
    start = datetime.fromisoformat(draft["time_start"]) if draft.get("time_start") else None
    end = datetime.fromisoformat(draft["time_end"]) if draft.get("time_end") else None
    return t(
        "wish.draft_card",
        category=category_name(app, t, draft["category"]),
        time=time_text(app, t, start, end),
        urgency=t("wish.urgent" if draft.get("urgent") else "wish.not_urgent"),
        text=draft["text"],
        photo=t("wish.with_photo") if draft.get("photo_file_id") else "",
    )


def wish_summary(
    app: AppContext,
    t: Translator,
    wish: Wish,
    grid_name: str | None = None,
    *,
    unmasked: bool = False,
) -> str:
    """The wish as a card; phone and ID numbers masked unless ``unmasked`` (the writer's own
    view and staff's review card)."""
    shown = (lambda text: text) if unmasked else mask_personal
    lines = [
        t(
            "wish.card",
            id=wish.id,
            category=category_name(app, t, wish.category),
            time=time_text(app, t, wish.time_start, wish.time_end),
            urgency=t("wish.urgent" if wish.urgent else "wish.not_urgent"),
            status=t(f"status.wish.{wish.status}"),
            text=shown(wish.text),
        )
    ]
    if grid_name:
        lines.append(t("wish.grid_line", grid=grid_name))
    for detail in wish.details:
        lines.append(t("wish.detail_line", text=shown(detail)))
    if wish.reject_reason and wish.status == "rejected":
        lines.append(t("wish.reason_line", reason=wish.reject_reason))
    return "\n".join(lines)


def history_text(app: AppContext, t: Translator, wish: Wish) -> str:
    tz = app.settings.tz
    lines = [t("wish.history_header")]
    for event in wish.history:
        when = event.at.astimezone(tz).strftime("%m-%d %H:%M")
        label = (
            t(f"status.wish.{event.to_status}")
            if event.from_status != event.to_status
            else t("wish.history_note")
        )
        lines.append(
            f"· {when} {label}"
            + (
                f"（{event.note}）"
                if event.note and event.note not in ("filed", "details", "auto")
                else ""
            )
        )
    return "\n".join(lines)


def staff_buttons(t: Translator, wish: Wish) -> kb.InlineKeyboardMarkup | None:
    w = wish.id
    if wish.status == "submitted":
        return kb.rows(
            [
                kb.button(t("staff.approve"), WishCb(action="ap", wish_id=w).pack()),
                kb.button(t("staff.change_category"), WishCb(action="cat", wish_id=w).pack()),
            ],
            [
                kb.button(t("staff.reject"), WishCb(action="rj", wish_id=w).pack()),
                kb.button(t("staff.merge"), WishCb(action="mg", wish_id=w).pack()),
            ],
            [kb.button(t("staff.escalate"), WishCb(action="es", wish_id=w).pack())],
        )
    if wish.status == "escalated":
        return kb.rows(
            [kb.button(t("staff.record_answer"), WishCb(action="ans", wish_id=w).pack())],
        )
    return None


async def staff_card(
    session: AsyncSession, app: AppContext, t: Translator, wish_id: int
) -> Rendered | None:
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None:
        return None
    grid = await session.get(Grid, wish.grid_id)
    age = (app.now() - wish.created_at).total_seconds()
    text = wish_summary(app, t, wish, grid.name if grid else None, unmasked=True)
    text += "\n" + t("wish.age_line", age=age_text(t, age))
    return Rendered(text, staff_buttons(t, wish), photo=wish.photo_file_id)


@renderer("staff.wish_review")
async def _staff_wish_review(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    card = await staff_card(session, app, t, int(params["id"]))
    if card is None:
        return None
    return Rendered(f"{t('staff.new_wish')}\n\n{card.text}", card.markup, card.photo)
