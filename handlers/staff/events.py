"""Staff side of events: the /newevent form (check-in, attendance, points and ratings are in
handlers/staff/event_desk.py)."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import event_times, events
from bot.services.people import grids
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.tg import event_cards as cards
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg.callbacks import GridCb
from bot.tg.callbacks_events import EventFormCb
from bot.tg.filters import HasRole, PrivateChat
from handlers import forms

POINT_CHOICES = ("0", "2", "5", "10")
DEADLINE_CHOICES = {"start": timedelta(0), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


class NewEvent(StatesGroup):
    title = State()
    description = State()
    place = State()
    when = State()
    slots = State()
    skills = State()
    points = State()
    deadline = State()
    segment = State()
    grid = State()
    confirm = State()


class TypedText(Filter):
    """A typed answer (not a command): an async filter, cheaper than a magic one."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not (message.text or "").startswith("/")


def router() -> Router:
    r = Router(name="staff.events")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.message.register(new_event, Command("newevent"))
    text = TypedText()
    r.message.register(title_typed, NewEvent.title, text)
    r.message.register(description_typed, NewEvent.description, text)
    r.message.register(place_typed, NewEvent.place, text)
    r.message.register(when_typed, NewEvent.when, text)
    r.message.register(slots_typed, NewEvent.slots, text)
    r.message.register(points_typed, NewEvent.points, text)
    r.message.register(deadline_typed, NewEvent.deadline, text)
    r.callback_query.register(form_choice, EventFormCb.filter())
    r.callback_query.register(grid_page, NewEvent.grid, GridCb.filter())
    r.message.register(forms.grid_typed, NewEvent.grid, text)
    for waiting_for_buttons in (NewEvent.skills, NewEvent.segment, NewEvent.confirm):
        r.message.register(use_buttons, waiting_for_buttons)
    return r


async def use_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons"))


async def _reply_error(message: Message, t: Translator, err: UserError) -> None:
    await message.answer(t(err.key, **err.params))


# --- the /newevent form --------------------------------------------------------------------


async def new_event(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(NewEvent.title)
    await state.set_data({"skills": []})
    await message.answer(f"{t('events.form.intro')}\n\n{t('events.form.title_ask')}")


async def title_typed(message: Message, state: FSMContext, t: Translator) -> None:
    try:
        title = events.clean_line(message.text or "", events.TITLE_MAX)
    except UserError as err:
        await _reply_error(message, t, err)
        return
    await state.update_data(title=title)
    await state.set_state(NewEvent.description)
    skip = kb.rows([kb.button(t("common.skip"), EventFormCb(field="desc", value="-").pack())])
    await message.answer(t("events.form.description_ask"), reply_markup=skip)


async def description_typed(message: Message, state: FSMContext, t: Translator) -> None:
    text = (message.text or "").strip()
    if len(text) > events.DESCRIPTION_MAX:
        await message.answer(t("events.form.text_length", max=events.DESCRIPTION_MAX))
        return
    await _after_description(message, state, t, text)


async def _after_description(
    message: Message, state: FSMContext, t: Translator, description: str
) -> None:
    await state.update_data(description=description)
    await state.set_state(NewEvent.place)
    await message.answer(t("events.form.place_ask"))


async def place_typed(message: Message, state: FSMContext, t: Translator) -> None:
    try:
        place = events.clean_line(message.text or "", events.PLACE_MAX)
    except UserError as err:
        await _reply_error(message, t, err)
        return
    await state.update_data(place=place)
    await state.set_state(NewEvent.when)
    await message.answer(t("events.form.when_ask"))


async def when_typed(message: Message, state: FSMContext, t: Translator, app: AppContext) -> None:
    try:
        starts_at, ends_at = event_times.parse_span(message.text or "", app.now(), app.settings.tz)
    except UserError as err:
        await _reply_error(message, t, err)
        return
    await state.update_data(starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
    await state.set_state(NewEvent.slots)
    when = cards.when_text(app, t, starts_at, ends_at)
    await message.answer(f"{t('events.form.when_set', when=when)}\n{t('events.form.slots_ask')}")


async def slots_typed(message: Message, state: FSMContext, t: Translator, app: AppContext) -> None:
    high = events.setting(app, "max_slots", events.DEFAULT_MAX_SLOTS)
    try:
        slots = events.parse_count(message.text or "", 1, high)
    except UserError as err:
        await _reply_error(message, t, err)
        return
    await state.update_data(slots=slots)
    await state.set_state(NewEvent.skills)
    await message.answer(t("events.form.skills_ask"), reply_markup=_skills_keyboard(t, app, []))


def _skills_keyboard(t: Translator, app: AppContext, chosen: list[str]) -> InlineKeyboardMarkup:
    buttons = []
    for category in app.settings.categories.resolved:
        mark = "✅ " if category.id in chosen else ""
        data = EventFormCb(field="sk", value=category.id).pack()
        buttons.append(kb.button(f"{mark}{category.name(t.lang)}", data))
    rows_ = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    done = kb.button(t("common.done"), EventFormCb(field="sk", value="*").pack())
    return kb.rows(*rows_, [done])


async def _ask_points(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(NewEvent.points)
    options = [(p, p) for p in POINT_CHOICES]
    await message.answer(
        t("events.form.points_ask"),
        reply_markup=_choices("pt", options, per_row=4),
    )


def _choices(field: str, options: list[tuple[str, str]], per_row: int = 2) -> InlineKeyboardMarkup:
    buttons = [kb.button(label, EventFormCb(field=field, value=v).pack()) for v, label in options]
    return kb.rows(*[buttons[i : i + per_row] for i in range(0, len(buttons), per_row)])


async def points_typed(message: Message, state: FSMContext, t: Translator, app: AppContext) -> None:
    high = events.setting(app, "max_points", events.DEFAULT_MAX_POINTS)
    try:
        points = events.parse_count(message.text or "", 0, high)
    except UserError as err:
        await _reply_error(message, t, err)
        return
    await _after_points(message, state, t, app, points)


async def _after_points(
    message: Message, state: FSMContext, t: Translator, app: AppContext, points: int
) -> None:
    await state.update_data(points=points)
    await state.set_state(NewEvent.deadline)
    data = await state.get_data()
    starts_at = datetime.fromisoformat(data["starts_at"])
    options = [
        (key, t(f"events.form.deadline_{key}"))
        for key, before in DEADLINE_CHOICES.items()
        if starts_at - before > app.now()
    ]
    await message.answer(t("events.form.deadline_ask"), reply_markup=_choices("dl", options))


async def deadline_typed(
    message: Message,
    state: FSMContext,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    try:
        deadline = event_times.parse_moment(message.text or "", app.now(), app.settings.tz)
    except UserError as err:
        await _reply_error(message, t, err)
        return
    await _after_deadline(message, state, t, app, session, actor, deadline)


async def _after_deadline(
    message: Message,
    state: FSMContext,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    deadline: datetime,
) -> None:
    data = await state.get_data()
    if not app.now() < deadline <= datetime.fromisoformat(data["starts_at"]):
        await message.answer(t("events.form.bad_deadline"))
        return
    await state.update_data(deadline=deadline.isoformat())
    await state.set_state(NewEvent.segment)
    options: list[tuple[str, str]] = []
    if actor.staff_grid_id is not None:
        options.append(("mygrid", t("events.form.segment_my_grid")))
    else:
        options.append(("grid", t("events.form.segment_grid")))
        for index, community in enumerate(await _communities(session)):
            options.append((f"c{index}", t("events.form.segment_community", name=community)))
    if data.get("skills"):
        options.append(("skill", t("events.form.segment_skill")))
    await message.answer(t("events.form.segment_ask"), reply_markup=_choices("seg", options, 1))


async def _communities(session: AsyncSession) -> list[str]:
    return sorted({g.community for g in await grids.active_grids(session)})


async def grid_page(
    query: CallbackQuery,
    callback_data: GridCb,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    actor: Actor,
) -> None:
    grid = await forms.grid_pressed(query, callback_data, t, session)
    if grid is None or query.message is None:
        return
    segment = events.Segment("grid", grid_id=grid.id)
    await _preview(query.message, state, t, app, session, actor, segment)  # type: ignore[arg-type]


async def _preview(
    message: Message,
    state: FSMContext,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    segment: events.Segment,
) -> None:
    await state.update_data(segment=segment.to_dict())
    try:
        shown = await events.preview(app, session, actor.user_id, _draft(await state.get_data()))
    except UserError as err:
        await _reply_error(message, t, err)
        return
    text = t(
        "events.form.preview",
        card=cards.event_text(app, t, shown.event),
        volunteers=shown.volunteers,
        groups=shown.groups,
    )
    await state.set_state(NewEvent.confirm)
    options = [("yes", t("events.form.publish")), ("no", t("common.cancel"))]
    await message.answer(text, reply_markup=_choices("go", options))


def _draft(data: dict[str, Any]) -> events.EventDraft:
    return events.EventDraft(
        title=str(data["title"]),
        description=str(data.get("description") or ""),
        place=str(data["place"]),
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
        slots=int(data["slots"]),
        skills=tuple(data.get("skills") or ()),
        points=int(data["points"]),
        signup_deadline=datetime.fromisoformat(data["deadline"]),
        segment=events.Segment.from_dict(data["segment"]),
    )


async def form_choice(
    query: CallbackQuery,
    callback_data: EventFormCb,
    state: FSMContext,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    """Every button of the form; a button from an abandoned form is answered as stale."""
    message = query.message
    expected = {
        "desc": NewEvent.description,
        "sk": NewEvent.skills,
        "pt": NewEvent.points,
        "dl": NewEvent.deadline,
        "seg": NewEvent.segment,
        "go": NewEvent.confirm,
    }
    field, value = callback_data.field, callback_data.value
    if message is None or await state.get_state() != expected[field].state:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    data = await state.get_data()
    if field == "sk" and value != "*":
        if app.settings.categories.get(value) is None:
            await query.answer(t("errors.stale_button"), show_alert=True)
            return
        chosen = forms.toggle(list(data.get("skills", [])), value)
        await state.update_data(skills=chosen)
        await query.answer()
        await message.edit_reply_markup(reply_markup=_skills_keyboard(t, app, chosen))  # type: ignore[union-attr]
        return
    if field == "go":
        # Publishing is keyed: a second press (double tap, replay) publishes nothing more and
        # is told what the first was; it is answered only once the first is done.
        done_key = once.key_of(query)
        if value == "yes":
            once.arm(session, done_key, actor.user_id)
        answer = await _publish(message, state, t, app, session, actor, value == "yes")  # type: ignore[arg-type]
        if answer is not None:
            await once.remember(session, done_key, answer)
        await query.answer()
        with suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    if field == "desc":
        await _after_description(message, state, t, "")  # type: ignore[arg-type]
    elif field == "sk":
        await _ask_points(message, state, t)  # type: ignore[arg-type]
    elif field == "pt" and value in POINT_CHOICES:
        await _after_points(message, state, t, app, int(value))  # type: ignore[arg-type]
    elif field == "dl" and value in DEADLINE_CHOICES:
        deadline = datetime.fromisoformat(data["starts_at"]) - DEADLINE_CHOICES[value]
        await _after_deadline(message, state, t, app, session, actor, deadline)  # type: ignore[arg-type]
    elif field == "seg":
        await _segment_chosen(message, state, t, app, session, actor, value)  # type: ignore[arg-type]


async def _segment_chosen(
    message: Message,
    state: FSMContext,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    value: str,
) -> None:
    own_grid = actor.staff_grid_id
    if value == "grid" and own_grid is None:
        await state.set_state(NewEvent.grid)
        options = await grids.active_grids(session)
        await message.answer(t("events.form.grid_ask"), reply_markup=kb.grid_page(t, options, 0))
        return
    if value == "mygrid" and own_grid is not None:
        segment = events.Segment("grid", grid_id=own_grid)
    elif value == "skill":
        segment = events.Segment("skill", grid_id=own_grid)
    elif value.startswith("c") and value[1:].isdigit() and own_grid is None:
        communities = await _communities(session)
        index = int(value[1:])
        if index >= len(communities):
            await message.answer(t("errors.stale_button"))
            return
        segment = events.Segment("community", community=communities[index])
    else:
        await message.answer(t("errors.stale_button"))
        return
    await _preview(message, state, t, app, session, actor, segment)


async def _publish(
    message: Message,
    state: FSMContext,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    go: bool,
) -> str | None:
    """Publish (or drop) the draft; the answer when it was published."""
    if not go:
        await state.clear()
        await message.answer(t("common.cancelled"))
        return None
    draft = _draft(await state.get_data())
    await state.clear()
    try:
        event, reach = await events.create_event(app, session, actor.user_id, draft)
    except UserError as err:
        await _reply_error(message, t, err)
        return None
    volunteers, groups = reach
    answer = t(
        "events.form.published",
        id=event.id,
        title=event.title,
        volunteers=volunteers,
        groups=groups,
    )
    await message.answer(answer)
    return answer
