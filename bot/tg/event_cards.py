"""How an event looks: the invitation card (private chats and groups), reminders, staff cards.

Group posts show the event and how many places are left, never who signed up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import checkin
from bot.services.outreach.events import EventView, SignupState, get_event
from bot.tg import keyboards as kb
from bot.tg.callbacks_events import EventCb, EventStaffCb
from bot.tg.render import Rendered, renderer

ATTENDANCE_BUTTONS = 60  # Telegram allows 100 buttons; keep room for the action rows


def moment_text(app: AppContext, t: Translator, moment: datetime) -> str:
    local = moment.astimezone(app.settings.tz)
    return f"{local:%m-%d} {t(f'weekday.{local.weekday()}')} {local:%H:%M}"


def when_text(app: AppContext, t: Translator, start: datetime, end: datetime) -> str:
    s, e = start.astimezone(app.settings.tz), end.astimezone(app.settings.tz)
    if s.date() == e.date():
        return f"{moment_text(app, t, start)}–{e:%H:%M}"
    return f"{moment_text(app, t, start)} – {moment_text(app, t, end)}"


def skills_text(app: AppContext, t: Translator, skills: tuple[str, ...] | list[str]) -> str:
    names = {c.id: c.name(t.lang) for c in app.settings.categories.resolved}
    return "、".join(names.get(s, s) for s in skills) if skills else t("events.card.any_skill")


def event_text(app: AppContext, t: Translator, event: EventView) -> str:
    lines = [
        # A preview has no number yet (id 0): it gets one when published.
        t("events.card.head", id=event.id, title=event.title)
        if event.id
        else t("events.card.head_draft", title=event.title),
        t("events.card.when", when=when_text(app, t, event.starts_at, event.ends_at)),
        t("events.card.place", place=event.place),
    ]
    if event.description:
        lines.append(event.description)
    lines += [
        t("events.card.skills", skills=skills_text(app, t, event.skills)),
        t("events.card.slots", slots=event.slots, left=event.places_left),
        t("events.card.points", points=event.points),
        t("events.card.deadline", deadline=moment_text(app, t, event.signup_deadline)),
    ]
    return "\n".join(lines)


def status_text(t: Translator, state: SignupState) -> str:
    if state.status == "signed":
        return t("events.state.signed")
    if state.status == "waiting":
        return t("events.state.waiting", position=state.position or 1)
    if state.event.places_left == 0:
        return t("events.state.full")
    return t("events.state.open", left=state.event.places_left)


def join_markup(t: Translator, event_id: int) -> InlineKeyboardMarkup:
    return kb.rows([kb.button(t("events.join"), EventCb(action="join", event_id=event_id).pack())])


def volunteer_markup(t: Translator, state: SignupState) -> InlineKeyboardMarkup | None:
    event_id = state.event.id
    if state.status in ("signed", "waiting"):
        key = "events.leave" if state.status == "signed" else "events.leave_line"
        return kb.rows([kb.button(t(key), EventCb(action="leave", event_id=event_id).pack())])
    return join_markup(t, event_id)


def volunteer_card(app: AppContext, t: Translator, state: SignupState) -> Rendered:
    text = f"{event_text(app, t, state.event)}\n\n{status_text(t, state)}"
    return Rendered(text, volunteer_markup(t, state))


def staff_markup(
    app: AppContext, t: Translator, event: EventView, now: datetime
) -> InlineKeyboardMarkup:
    def act(action: str) -> str:
        return EventStaffCb(action=action, event_id=event.id).pack()

    opens, closes = checkin.window(app, event)
    first = []
    if event.status == "open" and opens <= now < closes:
        first.append(kb.button(t("events.staff.show_code"), act("qr")))
    first.append(kb.button(t("events.staff.attendance"), act("att")))
    second = []
    if event.status == "open" and now < event.starts_at:
        second.append(kb.button(t("events.staff.call_off"), act("off")))
    if event.status == "closed" or now >= event.ends_at:
        second.append(kb.button(t("events.rating.results_button"), act("rt")))
    return kb.rows(first, second)


def attendance_text(app: AppContext, t: Translator, sheet: checkin.Attendance) -> str:
    signed = sum(1 for r in sheet.rows if r.status == "signed")
    lines = [
        t("events.attendance.head", id=sheet.event.id, title=sheet.event.title),
        t(
            "events.attendance.counts",
            present=sheet.present,
            signed=signed,
            waiting=len(sheet.rows) - signed,
        ),
    ]
    for row in sheet.rows:
        mark = "✅" if row.attended else "⬜"
        line = f"{mark} {row.name}"
        if row.status == "waiting":
            line += t("events.attendance.from_line")
        if row.checked_in_at is not None:
            line += f" · {row.checked_in_at.astimezone(app.settings.tz):%H:%M}"
        if row.checked_out_at is not None:
            line += f"–{row.checked_out_at.astimezone(app.settings.tz):%H:%M}"
        lines.append(line)
    if sheet.event.status == "closed":
        lines.append(t("events.attendance.confirmed_note"))
    return "\n".join(lines)


def attendance_markup(
    t: Translator, sheet: checkin.Attendance, now: datetime
) -> InlineKeyboardMarkup | None:
    event = sheet.event
    if event.status != "open":
        return None
    buttons = []
    for row in sheet.rows[:ATTENDANCE_BUTTONS]:
        action = "um" if row.attended else "mk"
        text = f"{'✅' if row.attended else '⬜'} {row.name}"
        data = EventStaffCb(action=action, event_id=event.id, user_id=row.user_id).pack()
        buttons.append(kb.button(text, data))
    grid = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    actions = [
        kb.button(t("events.staff.refresh"), EventStaffCb(action="atr", event_id=event.id).pack())
    ]
    if now >= event.ends_at:
        data = EventStaffCb(action="cf", event_id=event.id).pack()
        actions.append(kb.button(t("events.staff.confirm"), data))
    return kb.rows(*grid, actions)


# --- notices -------------------------------------------------------------------------------


async def _event(session: AsyncSession, params: dict[str, Any]) -> EventView | None:
    try:
        return await get_event(session, int(params["event_id"]))
    except UserError:
        return None


@renderer("events.invite")
async def _invite(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    event = await _event(session, params)
    if event is None or event.status != "open":
        return None  # called off before the invitation went out
    text = f"{t('events.invite_head')}\n{event_text(app, t, event)}"
    return Rendered(text, join_markup(t, event.id))


@renderer("events.my_signup")
async def _my_signup(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    event = await _event(session, params)
    if event is None:
        return None
    position = params.get("position")
    state = SignupState(event, params.get("status"), int(position) if position else None)
    return volunteer_card(app, t, state)


@renderer("events.promoted")
async def _promoted(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    event = await _event(session, params)
    if event is None:
        return None
    text = t(
        "events.promoted",
        title=event.title,
        when=when_text(app, t, event.starts_at, event.ends_at),
        place=event.place,
    )
    return Rendered(text, volunteer_markup(t, SignupState(event, "signed")))


@renderer("events.reminder")
async def _reminder(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    event = await _event(session, params)
    if event is None or event.status != "open":
        return None
    which = "day" if params.get("which") == "day" else "hour"
    text = t(
        f"events.reminder_{which}",
        title=event.title,
        when=when_text(app, t, event.starts_at, event.ends_at),
        place=event.place,
    )
    markup = volunteer_markup(t, SignupState(event, "signed")) if which == "day" else None
    return Rendered(text, markup)


@renderer("events.called_off")
async def _called_off(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    event = await _event(session, params)
    if event is None:
        return None
    when = when_text(app, t, event.starts_at, event.ends_at)
    return Rendered(t("events.called_off", title=event.title, when=when))
