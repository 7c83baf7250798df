"""Staff broadcasts (群发): /broadcast composes one (text, optional photo), chooses its audience,
previews and sends it. Following and controlling them (/broadcasts) is in
handlers/staff/broadcast_progress.py."""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import broadcasts
from bot.services.outreach.broadcasts import Draft, Segment
from bot.services.people import grids
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.tg import broadcast_cards as cards
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg.callbacks_broadcast import BroadcastFormCb
from bot.tg.filters import HasRole, PrivateChat

GRID_PAGE = 8
DONE = "*"


class BroadcastForm(StatesGroup):
    compose = State()
    audience = State()
    grids = State()
    community = State()
    skills = State()
    slots = State()
    unit = State()
    preview = State()


class TypedText(Filter):
    """A typed answer, not a command (async: cheaper than a magic filter)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not (message.text or "").startswith("/")


def router() -> Router:
    r = Router(name="staff.broadcasts")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.message.register(begin, Command("broadcast"))
    r.message.register(composed, BroadcastForm.compose)
    r.message.register(grid_typed, BroadcastForm.grids, TypedText())
    r.message.register(unit_typed, BroadcastForm.unit, TypedText())
    for waiting_for_buttons in (
        BroadcastForm.audience,
        BroadcastForm.grids,
        BroadcastForm.community,
        BroadcastForm.skills,
        BroadcastForm.slots,
        BroadcastForm.preview,
    ):
        r.message.register(use_buttons, waiting_for_buttons)
    r.callback_query.register(form_pressed, BroadcastFormCb.filter())
    return r


async def use_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons"))


# --- composing -----------------------------------------------------------------------------


async def begin(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(BroadcastForm.compose)
    await state.set_data({"token": secrets.token_hex(8)})
    await message.answer(t("broadcast.compose"))


async def composed(message: Message, state: FSMContext, t: Translator) -> None:
    photo = message.photo[-1].file_id if message.photo else None
    raw = message.caption if photo else message.text
    if (photo is None and message.text is None) or (raw or "").startswith("/"):
        await message.answer(t("broadcast.not_text"))
        return
    try:
        text = broadcasts.clean_text(raw, with_photo=photo is not None)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.update_data(text=text, photo=photo)
    await _ask_audience(message, state, t)


async def _ask_audience(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(BroadcastForm.audience)
    await state.update_data(grid_ids=[], skills=[], slots=[], community=None, unit=None)
    buttons = [
        [kb.button(t(f"broadcast.audience.{kind}"), _form("aud", kind))]
        for kind in broadcasts.SEGMENT_KINDS
    ]
    await message.answer(t("broadcast.audience_ask"), reply_markup=kb.rows(*buttons))


async def form_pressed(
    query: CallbackQuery,
    callback_data: BroadcastFormCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    message = query.message
    if "text" not in data or not isinstance(message, Message):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    field, value = callback_data.field, callback_data.value
    if field == "ok" and value == "send":
        # Keyed: a second press (double tap, replay) sends nothing more and hears the first
        # answer, so this press is answered only once the broadcast is created.
        done_key = once.key_of(query)
        once.arm(session, done_key, actor.user_id)
        answer = await _confirm_pressed(message, state, t, session, app, actor, value)
        if answer is not None:
            await once.remember(session, done_key, answer)
        await query.answer()
        return
    await query.answer()
    if field == "aud":
        await _audience_chosen(message, state, t, session, app, actor, value)
    elif field in ("g", "gp"):
        await _grid_pressed(message, state, t, session, app, actor, field, value)
    elif field == "c":
        names = await broadcasts.communities(session)
        if value.isdigit() and int(value) < len(names):
            await state.update_data(community=names[int(value)])
            await _preview(message, state, t, session, app, actor)
    elif field in ("s", "t"):
        await _toggle_pressed(message, state, t, session, app, actor, field, value)
    elif field == "ok":
        await _confirm_pressed(message, state, t, session, app, actor, value)


async def _audience_chosen(
    message: Message,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    actor: Actor,
    kind: str,
) -> None:
    if kind not in broadcasts.SEGMENT_KINDS:
        return
    await state.update_data(kind=kind)
    if kind in ("vol_grid", "res_grid"):
        await state.set_state(BroadcastForm.grids)
        await state.update_data(grid_view={"page": 0})
        await message.edit_text(
            t("broadcast.grid_ask"), reply_markup=await _grid_keyboard(t, state, session)
        )
    elif kind == "vol_community":
        names = await broadcasts.communities(session)
        if len(names) == 1:
            await state.update_data(community=names[0])
            await _preview(message, state, t, session, app, actor)
            return
        await state.set_state(BroadcastForm.community)
        buttons = [[kb.button(name, _form("c", str(i)))] for i, name in enumerate(names)]
        await message.edit_text(t("broadcast.community_ask"), reply_markup=kb.rows(*buttons))
    elif kind == "vol_skill":
        await state.set_state(BroadcastForm.skills)
        await message.edit_text(
            t("broadcast.skill_ask"), reply_markup=_toggles(t, "s", cards.skill_options(t, app), [])
        )
    elif kind == "vol_slot":
        await state.set_state(BroadcastForm.slots)
        await message.edit_text(
            t("broadcast.slot_ask"), reply_markup=_toggles(t, "t", cards.slot_options(t, app), [])
        )
    elif kind == "vol_unit":
        await state.set_state(BroadcastForm.unit)
        await message.edit_text(t("broadcast.unit_ask"))
    else:  # group chats: every linked one (a grid's staff: their grid's)
        await _preview(message, state, t, session, app, actor)


async def unit_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    try:
        unit = broadcasts.clean_unit(message.text)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.update_data(unit=unit)
    await _preview(message, state, t, session, app, actor)


# --- grids: pages of toggles, or the grids matching what was typed ------------------------


async def _grid_keyboard(
    t: Translator, state: FSMContext, session: AsyncSession
) -> InlineKeyboardMarkup:
    data = await state.get_data()
    chosen = set(data.get("grid_ids") or [])
    options = await grids.active_grids(session)
    view = data.get("grid_view") or {"page": 0}
    nav: list[InlineKeyboardButton] = []
    if "matches" in view:
        wanted = set(view["matches"])
        shown = [g for g in options if g.id in wanted]
    else:
        pages = max(1, (len(options) + GRID_PAGE - 1) // GRID_PAGE)
        page = min(max(int(view.get("page", 0)), 0), pages - 1)
        shown = options[page * GRID_PAGE : (page + 1) * GRID_PAGE]
        if page > 0:
            nav.append(kb.button(t("common.prev"), _form("gp", str(page - 1))))
        if page < pages - 1:
            nav.append(kb.button(t("common.next"), _form("gp", str(page + 1))))
    buttons = [
        kb.button(f"{'✅ ' if g.id in chosen else ''}{g.name}", _form("g", str(g.id)))
        for g in shown
    ]
    return kb.rows(
        *[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
        nav,
        [kb.button(t("common.done"), _form("g", DONE))],
    )


async def _grid_pressed(
    message: Message,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    actor: Actor,
    field: str,
    value: str,
) -> None:
    data = await state.get_data()
    if field == "gp" and value.isdigit():
        await state.update_data(grid_view={"page": int(value)})
    elif value == DONE:
        if not data.get("grid_ids"):
            await message.answer(t("broadcast.pick_one"))
            return
        await _preview(message, state, t, session, app, actor)
        return
    elif value.isdigit():
        await state.update_data(grid_ids=_toggled(data.get("grid_ids") or [], int(value)))
    await _edit_markup(message, await _grid_keyboard(t, state, session))


async def grid_typed(
    message: Message, state: FSMContext, t: Translator, session: AsyncSession
) -> None:
    matches = grids.search_grids(await grids.active_grids(session), message.text or "")
    if not matches:
        await message.answer(t("broadcast.grid_none"))
        return
    await state.update_data(grid_view={"matches": [g.id for g in matches]})
    await message.answer(
        t("broadcast.grid_matches"), reply_markup=await _grid_keyboard(t, state, session)
    )


# --- skills and free-time slots ------------------------------------------------------------


def _toggles(
    t: Translator, field: str, options: list[tuple[str, str]], chosen: list[str]
) -> InlineKeyboardMarkup:
    buttons = [
        kb.button(f"{'✅ ' if value in chosen else ''}{label}", _form(field, value))
        for value, label in options
    ]
    return kb.rows(
        *[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
        [kb.button(t("common.done"), _form(field, DONE))],
    )


async def _toggle_pressed(
    message: Message,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    actor: Actor,
    field: str,
    value: str,
) -> None:
    key, options = (
        ("skills", cards.skill_options(t, app))
        if field == "s"
        else ("slots", cards.slot_options(t, app))
    )
    data = await state.get_data()
    chosen: list[str] = list(data.get(key) or [])
    if value == DONE:
        if not chosen:
            await message.answer(t("broadcast.pick_one"))
            return
        await _preview(message, state, t, session, app, actor)
        return
    if value not in {v for v, _ in options}:
        return
    chosen = _toggled(chosen, value)
    await state.update_data({key: chosen})
    await _edit_markup(message, _toggles(t, field, options, chosen))


# --- preview and confirmation --------------------------------------------------------------


def _segment(data: dict[str, Any]) -> Segment:
    return Segment(
        kind=str(data.get("kind", "")),
        grid_ids=tuple(data.get("grid_ids") or ()),
        community=data.get("community"),
        skills=tuple(data.get("skills") or ()),
        unit=data.get("unit"),
        slots=tuple(data.get("slots") or ()),
    )


async def _preview(
    message: Message,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    actor: Actor,
) -> None:
    data = await state.get_data()
    try:
        segment = await broadcasts.scoped(session, actor.user_id, _segment(data))
        count = await broadcasts.count(session, actor.user_id, segment)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    audience = await cards.describe_segment(t, app, session, segment)
    if not count:
        await message.answer(t("broadcast.nobody"))
        await _ask_audience(message, state, t)
        return
    await state.set_state(BroadcastForm.preview)
    # Exactly what recipients will see, then the question.
    if data.get("photo"):
        await message.answer_photo(data["photo"], caption=data.get("text") or None)
    else:
        await message.answer(data["text"])
    buttons = kb.rows(
        [kb.button(t("broadcast.confirm"), _form("ok", "send"))],
        [
            kb.button(t("broadcast.again"), _form("ok", "again")),
            kb.button(t("broadcast.drop"), _form("ok", "drop")),
        ],
    )
    summary = t("broadcast.preview", audience=audience, count=count)
    await message.answer(f"{t('broadcast.preview_above')}\n\n{summary}", reply_markup=buttons)


async def _confirm_pressed(
    message: Message,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    actor: Actor,
    value: str,
) -> str | None:
    """Send (or drop, or re-choose) the broadcast; the answer when it was sent."""
    if value == "again":
        await _edit_markup(message, None)
        await _ask_audience(message, state, t)
        return None
    if value == "drop":
        await state.clear()
        await message.edit_text(t("broadcast.dropped"))
        return None
    if value != "send" or await state.get_state() != BroadcastForm.preview.state:
        return None
    data = await state.get_data()
    draft = Draft(
        text=data.get("text") or "",
        photo=data.get("photo"),
        segment=_segment(data),
        token=data.get("token"),
    )
    try:
        sent = await broadcasts.create(app, session, actor.user_id, draft)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return None
    await state.clear()
    answer = t("broadcast.started", id=sent.id, count=sent.recipients)
    await message.edit_text(answer)
    return answer


# --- small helpers -------------------------------------------------------------------------


def _form(field: str, value: str) -> str:
    return BroadcastFormCb(field=field, value=value).pack()


def _toggled(values: list[Any], value: Any) -> list[Any]:
    return [v for v in values if v != value] if value in values else [*values, value]


async def _edit_markup(message: Message, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise
