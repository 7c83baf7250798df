"""How a wish looks to a resident and to staff (texts and buttons)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, ProxyFiling, Wish
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.intake import history_notes
from bot.services.intake.duplicates import neighbour_duplicate_of
from bot.services.intake.web_form import call_backs
from bot.services.privacy import mask_personal
from bot.tg import keyboards as kb
from bot.tg.callbacks import WishCb
from bot.tg.list_cards import resource_hint
from bot.tg.render import Rendered, renderer


def category_name(app: AppContext, t: Translator, category_id: str) -> str:
    cat = app.settings.categories.get(category_id)
    return cat.name(t.lang) if cat else category_id


def time_text(app: AppContext, t: Translator, start: datetime | None, end: datetime | None) -> str:
    """A window as people read it. Windows end at midnight ([start, end)), which is shown as
    the day before ("11-28 至 11-29", "11-29 周日 01:00–23:59"), never as "11-30 00:00"."""
    if start is None:
        return t("wish.time_flexible")
    tz = app.settings.tz
    s = start.astimezone(tz)
    weekday = t(f"weekday.{s.weekday()}")
    if end is None:
        return f"{s:%m-%d} {weekday} {s:%H:%M}"
    e = end.astimezone(tz)
    ends_at_midnight = (e.hour, e.minute) == (0, 0)
    last = e - timedelta(minutes=1) if ends_at_midnight else e  # the last minute inside
    starts_at_midnight = (s.hour, s.minute) == (0, 0)
    if last.date() == s.date():
        if starts_at_midnight and ends_at_midnight:
            return f"{s:%m-%d} {weekday}"
        return f"{s:%m-%d} {weekday} {s:%H:%M}–{last:%H:%M}"
    first_text = f"{s:%m-%d}" if starts_at_midnight else f"{s:%m-%d %H:%M}"
    last_text = f"{last:%m-%d}" if ends_at_midnight else f"{e:%m-%d %H:%M}"
    return t("wish.time_range", start=first_text, end=last_text)


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


def note_text(app: AppContext, t: Translator, note: str | None) -> str:
    """A history note in the reader's language ('' for none); see history_notes."""
    decoded = history_notes.decode(note)
    if decoded is None:
        return ""
    code, params = decoded
    if code == "recategorised":
        params = {
            "from": category_name(app, t, str(params["from"])),
            "to": category_name(app, t, str(params["to"])),
        }
    elif code == "released":
        reason = str(params["reason"])
        key = f"task.release_{reason}"
        params = {"reason": t(key) if t.has(key) else reason}
    elif code == "rated":
        params = {"stars": "★" * int(params["stars"])}
    return t(f"history.{code}", **params)


def history_text(app: AppContext, t: Translator, wish: Wish) -> str:
    tz = app.settings.tz
    lines = [t("wish.history_header")]
    for event in wish.history:
        when = event.at.astimezone(tz).strftime("%m-%d %H:%M")
        detail = note_text(app, t, event.note)
        if event.from_status != event.to_status:
            status = t(f"status.wish.{event.to_status}")
            line = t("wish.history_move", status=status, detail=detail) if detail else status
        else:
            line = detail or t("wish.history_note")
        lines.append(f"· {when} {line}")
    return "\n".join(lines)


def staff_buttons(
    t: Translator, wish: Wish, duplicate_of: int | None = None
) -> kb.InlineKeyboardMarkup | None:
    w = wish.id
    if wish.status == "submitted":
        merge_row = (
            [
                [
                    kb.button(
                        t("duplicate.merge_button", into=duplicate_of),
                        WishCb(action="mgd", wish_id=w, arg=str(duplicate_of)).pack(),
                    )
                ]
            ]
            if duplicate_of is not None
            else []
        )
        return kb.rows(
            *merge_row,
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
    for call_back in (await call_backs(session, [wish])).values():
        text += "\n" + t("history.filed_web")
        text += "\n" + t(
            "h5.call_back", name=call_back.name, phone=call_back.phone, place=call_back.place
        )
    if await session.get(ProxyFiling, wish.id) is not None:  # 代办: the resident has no chat
        text += "\n" + t("history.filed_for")
    duplicate = await neighbour_duplicate_of(app, session, wish)
    if duplicate is not None:
        where = t("duplicate.same_building" if duplicate.same_building else "duplicate.same_grid")
        text += "\n" + t("duplicate.hint", into=duplicate.wish_id, where=where)
    into = duplicate.wish_id if duplicate else None
    text += await resource_hint(session, app, t, wish)  # 三张清单: matching resources
    return Rendered(text, staff_buttons(t, wish, into), photo=wish.photo_file_id)


@renderer("staff.wish_review")
async def _staff_wish_review(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    card = await staff_card(session, app, t, int(params["id"]))
    if card is None:
        return None
    wish = await session.get(Wish, int(params["id"]))  # already loaded by staff_card
    if wish is None or wish.status != "submitted":  # redrawn after a decision: no "new" header
        return card
    return Rendered(f"{t('staff.new_wish')}\n\n{card.text}", card.markup, card.photo)


def deadline_text(app: AppContext, deadline: datetime) -> str:
    return f"{deadline.astimezone(app.settings.tz):%m-%d %H:%M}"


async def _deadline_alert(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any], key: str
) -> Rendered | None:
    card = await staff_card(session, app, t, int(params["id"]))
    if card is None:
        return None
    deadline = datetime.fromtimestamp(int(params["deadline"]), tz=app.settings.tz)
    head = t(
        key, id=params["id"], department=params["department"], deadline=deadline_text(app, deadline)
    )
    return Rendered(f"{head}\n\n{card.text}", card.markup)


@renderer("deadline.escalation_reminder")
async def _escalation_reminder(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return await _deadline_alert(session, app, t, params, "deadline.escalation_reminder")


@renderer("deadline.escalation_overdue")
async def _escalation_overdue(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return await _deadline_alert(session, app, t, params, "deadline.escalation_overdue")
