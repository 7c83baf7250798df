"""How a suggestion looks: staff's card (with the buttons its state allows) and the notices
the resident and staff get at each step. Staff cards never show the resident's phone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Suggestion
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.suggestions import states
from bot.services.suggestions.loop import FIX_DAYS, SuggestionView, view_of
from bot.tg import keyboards as kb
from bot.tg.callbacks_suggest import SuggestCb
from bot.tg.render import Rendered, renderer


def date_text(app: AppContext, moment: datetime | int) -> str:
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, tz=app.settings.tz)
    return f"{moment.astimezone(app.settings.tz):%m-%d %H:%M}"


def status_name(t: Translator, status: str) -> str:
    return t(f"suggest.status.{status}")


def card_text(app: AppContext, t: Translator, s: SuggestionView) -> str:
    lines = [
        t("suggest.card.head", id=s.id, grid=s.grid_name, status=status_name(t, s.status)),
        t("suggest.card.filed", at=date_text(app, s.created_at)),
        s.text,
    ]
    if s.status == states.FIXING and s.due_at is not None:
        overdue = s.due_at <= app.now()
        key = "suggest.card.fixing_overdue" if overdue else "suggest.card.fixing"
        lines.append(t(key, owner=s.owner_name or "—", due=date_text(app, s.due_at)))
    if s.answer:
        lines.append(t(f"suggest.card.answer_{s.status}", text=s.answer))
    if s.satisfied is not None:
        lines.append(t("suggest.card.satisfied" if s.satisfied else "suggest.card.unsatisfied"))
    return "\n".join(lines)


def staff_markup(t: Translator, s: SuggestionView) -> InlineKeyboardMarkup | None:
    def act(action: str) -> str:
        return SuggestCb(action=action, suggestion_id=s.id).pack()

    moves = states.TRANSITIONS[s.status]
    first = []
    if states.ANSWERED in moves:
        first.append(kb.button(t("suggest.btn.answer"), act("ans")))
    if states.FIXING in moves:
        first.append(kb.button(t("suggest.btn.fix"), act("fix")))
    second = []
    if states.FIXED in moves:
        second.append(kb.button(t("suggest.btn.fixed"), act("done")))
    if states.DECLINED in moves:
        second.append(kb.button(t("suggest.btn.decline"), act("dec")))
    if not first and not second:
        return None
    return kb.rows(*(row for row in (first, second) if row))


def owner_markup(t: Translator, suggestion_id: int, owners: list[tuple[int, str]]) -> Any:
    buttons = [
        kb.button(name, SuggestCb(action="own", suggestion_id=suggestion_id, arg=str(uid)).pack())
        for uid, name in owners
    ]
    return kb.rows(*[buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def due_markup(t: Translator, suggestion_id: int, owner_id: int) -> InlineKeyboardMarkup:
    buttons = [
        kb.button(
            t("suggest.btn.days", n=days),
            SuggestCb(action="due", suggestion_id=suggestion_id, arg=f"{owner_id}-{days}").pack(),
        )
        for days in FIX_DAYS
    ]
    return kb.rows(buttons[:2], buttons[2:])


def verdict_markup(t: Translator, suggestion_id: int) -> InlineKeyboardMarkup:
    return kb.rows(
        [
            kb.button(
                t("suggest.btn.satisfied"),
                SuggestCb(action="sat", suggestion_id=suggestion_id).pack(),
            ),
            kb.button(
                t("suggest.btn.unsatisfied"),
                SuggestCb(action="uns", suggestion_id=suggestion_id).pack(),
            ),
        ]
    )


def staff_card(app: AppContext, t: Translator, s: SuggestionView) -> Rendered:
    return Rendered(card_text(app, t, s), staff_markup(t, s))


async def _load(session: AsyncSession, params: dict[str, Any]) -> SuggestionView | None:
    row = await session.get(Suggestion, int(params["id"]))
    return None if row is None else await view_of(session, row)


# --- staff notices --------------------------------------------------------------------------


async def _staff_notice(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any], key: str
) -> Rendered | None:
    s = await _load(session, params)
    if s is None:
        return None
    due = date_text(app, int(params["due"])) if "due" in params else ""
    card = staff_card(app, t, s)
    return Rendered(f"{t(key, id=s.id, due=due)}\n\n{card.text}", card.markup)


def _staff_kind(kind: str) -> None:
    @renderer(kind)
    async def render(
        session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
    ) -> Rendered | None:
        return await _staff_notice(session, app, t, params, f"{kind}_head")


for _kind in (
    "suggest.new",
    "suggest.owner",
    "suggest.reminder",
    "suggest.overdue",
    "suggest.unsatisfied",
):
    _staff_kind(_kind)


# --- the resident's notices -----------------------------------------------------------------


async def _resident_notice(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any], key: str
) -> Rendered | None:
    s = await _load(session, params)
    if s is None:
        return None
    due = date_text(app, s.due_at) if s.due_at is not None else ""
    text = t(key, id=s.id, text=s.answer or "", due=due)
    markup = (
        verdict_markup(t, s.id) if s.status in states.RATEABLE and s.satisfied is None else None
    )
    return Rendered(text, markup)


def _resident_kind(kind: str) -> None:
    @renderer(kind)
    async def render(
        session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
    ) -> Rendered | None:
        return await _resident_notice(session, app, t, params, kind)


for _kind in ("suggest.answered", "suggest.fixing", "suggest.fixed", "suggest.declined"):
    _resident_kind(_kind)
