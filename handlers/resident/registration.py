"""Resident registration: grid, building, privacy consent, optional phone."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import posters
from bot.services.people import grids, registration
from bot.services.people.actors import ROLE_RESIDENT, Actor
from bot.tg import keyboards as kb
from bot.tg.callbacks import ChoiceCb, GridCb, RoleCb
from bot.tg.commands import refresh_commands
from bot.tg.filters import PrivateChat
from handlers import forms
from handlers.common import redraw_old_welcome, start

BUILDING_MAX = 32


class ResidentReg(StatesGroup):
    grid = State()
    building = State()
    consent = State()
    phone = State()


def router() -> Router:
    r = Router(name="resident.registration")
    r.message.filter(PrivateChat())
    r.callback_query.register(begin, RoleCb.filter(F.role == "resident"))
    r.callback_query.register(forms.grid_page, ResidentReg.grid, GridCb.filter(F.action == "page"))
    r.callback_query.register(grid_picked, ResidentReg.grid, GridCb.filter(F.action == "pick"))
    r.message.register(forms.grid_typed, ResidentReg.grid, F.text)
    r.callback_query.register(
        building_skipped, ResidentReg.building, ChoiceCb.filter(F.field == "building")
    )
    r.message.register(building_typed, ResidentReg.building, F.text)
    r.callback_query.register(
        consent_answered, ResidentReg.consent, ChoiceCb.filter(F.field == "consent")
    )
    r.message.register(phone_contact, ResidentReg.phone, F.contact)
    r.message.register(phone_typed, ResidentReg.phone, F.text)
    r.message.register(
        wrong_kind,
        StateFilter(ResidentReg.grid, ResidentReg.building, ResidentReg.consent, ResidentReg.phone),
    )
    return r


async def begin(
    query: CallbackQuery, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    if actor.has(ROLE_RESIDENT):  # "我是居民" on an old welcome, after registering
        await redraw_old_welcome(query, actor, t, "resident.already_registered")
        return
    await query.answer()
    await state.set_state(ResidentReg.grid)
    await state.set_data({})
    if query.message is not None:
        await forms.ask_grid(query.message, t, session)  # type: ignore[arg-type]


async def begin_from_poster(
    message: Message,
    payload: str,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
) -> None:
    """``/start g_<grid>[_<building>]`` from a poster: registration shortened to consent."""
    if actor.has(ROLE_RESIDENT):
        await start(message, state, actor, t, app)
        return
    place = posters.parse_start_payload(payload)
    grid = await grids.grid_by_code(session, place.grid) if place is not None else None
    if place is None or grid is None:
        await message.answer(t("poster.start_stale"))
        await state.set_state(ResidentReg.grid)
        await state.set_data({})
        await forms.ask_grid(message, t, session)
        return
    await state.set_data({"grid_id": grid.id, "building": place.building})
    if place.building:
        await message.answer(
            t("poster.start_welcome_building", grid=grid.name, building=place.building)
        )
    else:
        await message.answer(t("poster.start_welcome", grid=grid.name))
    await _ask_consent(message, state, t)


async def grid_picked(
    query: CallbackQuery,
    callback_data: GridCb,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
) -> None:
    grid = await forms.picked_grid(query, callback_data, session, t)
    if grid is None or query.message is None:
        return
    await state.update_data(grid_id=grid.id)
    await state.set_state(ResidentReg.building)
    await query.message.answer(
        t("resident.building_ask"),
        reply_markup=kb.choices("building", [("skip", t("common.skip"))]),
    )


async def _ask_consent(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(ResidentReg.consent)
    await message.answer(
        t("resident.privacy"),
        reply_markup=kb.choices(
            "consent", [("yes", t("resident.consent_yes")), ("no", t("resident.consent_no"))]
        ),
    )


async def building_skipped(query: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await query.answer()
    await state.update_data(building=None)
    if query.message is not None:
        await _ask_consent(query.message, state, t)  # type: ignore[arg-type]


async def building_typed(message: Message, state: FSMContext, t: Translator) -> None:
    building = await forms.typed_text(message, t, BUILDING_MAX)
    if building is None:
        return
    await state.update_data(building=building)
    await _ask_consent(message, state, t)


async def consent_answered(
    query: CallbackQuery, callback_data: ChoiceCb, state: FSMContext, t: Translator
) -> None:
    await query.answer()
    if query.message is None:
        return
    if callback_data.value != "yes":
        await state.clear()
        await query.message.answer(t("resident.consent_refused"))
        return
    await state.set_state(ResidentReg.phone)
    await query.message.answer(t("resident.phone_ask"), reply_markup=kb.share_contact(t))


async def phone_contact(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    phone = await forms.own_phone(message, actor, t)
    if phone is None:
        return
    await finish(message, state, actor, t, session, app, phone, shared=True)


async def phone_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    text = (message.text or "").strip()
    if text in (t("common.skip"), "skip", "跳过"):
        await finish(message, state, actor, t, session, app, None)
        return
    try:
        phone = registration.clean_phone(text)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await finish(message, state, actor, t, session, app, phone)


async def finish(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    phone: str | None,
    *,
    shared: bool = False,
) -> None:
    """``shared``: the phone came from Telegram's contact button (vouched for), not typed."""
    data = await state.get_data()
    form = registration.ResidentForm(
        grid_id=int(data["grid_id"]),
        building=data.get("building"),
        phone=phone,
        share_phone=phone is not None,
    )
    await registration.register_resident(app, session, actor.user_id, form)
    await state.clear()
    await message.answer(t("resident.registered"), reply_markup=kb.remove_reply_keyboard())
    await refresh_commands(message.bot, app, actor.user_id)
    from handlers.resident.joining import offer_join  # a record filed for them (代办)

    verified = phone if shared else None
    if phone is not None and await offer_join(message, state, actor.user_id, t, session, verified):
        return  # the answer resumes what they wrote before registering
    from handlers.resident.wishes import resume_pending  # the wish they wrote before registering

    await resume_pending(message, actor.user_id, t, session, app, state)


async def wrong_kind(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons_or_text"))
