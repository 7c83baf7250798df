"""/forresident (代办): a grid worker or staff member (or a volunteer, where the community
allows) files a wish for a resident who has no Telegram: find or create the record, record
the resident's consent, the usual card, then file. The filer then gets the resident's
updates and confirms the finished task with the resident in person (居民当面确认)."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.forres import filing, records
from bot.services.intake import wishes
from bot.services.intake.web_form import clean_mainland_phone
from bot.services.people.actors import Actor
from bot.tg import (
    forres_cards,  # noqa: F401  (registers the filer's notice renderer)
    once,
)
from bot.tg import keyboards as kb
from bot.tg.callbacks import GridCb
from bot.tg.callbacks_forres import ForResCb
from bot.tg.filters import PrivateChat
from bot.tg.wish_cards import category_name, draft_text
from handlers import forms


class ForRes(StatesGroup):
    search = State()
    name = State()
    building = State()
    phone = State()
    grid = State()
    consent = State()
    text = State()
    confirm = State()


FORM_STATES = (
    ForRes.search,
    ForRes.name,
    ForRes.building,
    ForRes.phone,
    ForRes.grid,
    ForRes.consent,
    ForRes.text,
    ForRes.confirm,
)


def router() -> Router:
    r = Router(name="staff.forresident")
    r.message.filter(PrivateChat())
    r.message.register(begin, Command("forresident"))
    r.message.register(search_typed, ForRes.search, F.text)
    r.message.register(name_typed, ForRes.name, F.text)
    r.message.register(building_typed, ForRes.building, F.text)
    r.message.register(phone_typed, ForRes.phone, F.text)
    r.callback_query.register(forms.grid_page, ForRes.grid, GridCb.filter(F.action == "page"))
    r.callback_query.register(grid_picked, ForRes.grid, GridCb.filter(F.action == "pick"))
    r.message.register(forms.grid_typed, ForRes.grid, F.text)
    r.message.register(wish_typed, ForRes.text, F.text)
    r.callback_query.register(confirm_in_person, ForResCb.filter(F.action == "conf"))
    r.callback_query.register(form_action, ForResCb.filter(F.wish_id == 0))
    return r


def _new_button(t: Translator) -> list[kb.InlineKeyboardButton]:
    return [kb.button(t("forres.new_record"), ForResCb(action="new", wish_id=0).pack())]


async def begin(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    await records.may_file(app, session, actor.user_id)  # refused kindly when not allowed
    await state.set_state(ForRes.search)
    await state.set_data({})
    await message.answer(t("forres.search_ask"), reply_markup=kb.rows(_new_button(t)))


def _record_label(t: Translator, record: records.Record) -> str:
    return t(
        "forres.record_button",
        name=record.name,
        building=record.building or "—",
        tail=record.phone_tail or "—",
    )


async def search_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    found = await records.find_records(app, session, actor.user_id, message.text or "")
    buttons = [
        [
            kb.button(
                _record_label(t, r), ForResCb(action="pick", wish_id=0, arg=str(r.user_id)).pack()
            )
        ]
        for r in found
    ]
    key = "forres.found" if found else "forres.none_found"
    await message.answer(t(key), reply_markup=kb.rows(*buttons, _new_button(t)))


async def _ask_consent(message: Message, state: FSMContext, t: Translator, name: str) -> None:
    await state.set_state(ForRes.consent)
    options = [
        ("spoken", t("forres.consent_spoken")),
        ("signed", t("forres.consent_signed")),
        ("no", t("forres.consent_no")),
    ]
    await message.answer(
        t("forres.consent_ask", name=name),
        reply_markup=kb.rows(
            *[
                [kb.button(label, ForResCb(action="cons", wish_id=0, arg=v).pack())]
                for v, label in options
            ]
        ),
    )


async def name_typed(message: Message, state: FSMContext, t: Translator) -> None:
    name = records.clean_name(message.text or "")
    await state.update_data(name=name)
    await state.set_state(ForRes.building)
    await message.answer(t("forres.building_ask", name=name))


async def building_typed(message: Message, state: FSMContext, t: Translator) -> None:
    building = records.clean_building(message.text or "")
    data = await state.update_data(building=building)
    await state.set_state(ForRes.phone)
    await message.answer(t("forres.phone_ask", name=data.get("name", "")))


async def phone_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    phone = clean_mainland_phone(message.text or "")
    await state.update_data(phone=phone)
    filer = await records.may_file(app, session, actor.user_id)
    if filer.grid_ids is not None and len(filer.grid_ids) == 1:
        await _create(message, state, actor, t, session, app, next(iter(filer.grid_ids)))
        return
    await state.set_state(ForRes.grid)
    await forms.ask_grid(message, t, session)


async def grid_picked(
    query: CallbackQuery,
    callback_data: GridCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    grid = await forms.picked_grid(query, callback_data, session, t)
    if grid is None or query.message is None:
        return
    await _create(query.message, state, actor, t, session, app, grid.id)  # type: ignore[arg-type]


async def _create(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    grid_id: int,
) -> None:
    data = await state.get_data()
    new = records.clean_record(str(data["name"]), str(data["building"]), str(data["phone"]))
    resident_id = await records.create_record(app, session, actor.user_id, grid_id, new)
    await state.set_data({"resident_id": resident_id, "name": new.name})
    await _ask_consent(message, state, t, new.name)


async def wish_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    draft = await filing.draft_for(
        app, session, actor.user_id, int(data["resident_id"]), message.text or ""
    )
    await state.update_data(draft=draft.to_dict())
    await state.set_state(ForRes.confirm)
    await message.answer(_card_text(t, app, data, draft.to_dict()), reply_markup=_card_markup(t))


def _card_text(t: Translator, app: AppContext, data: dict[str, Any], draft: dict[str, Any]) -> str:
    lines = [t("forres.card_header", name=data.get("name", "")), draft_text(app, t, draft)]
    if draft.get("duplicate_of"):
        lines.append(t("forres.card_duplicate", id=draft["duplicate_of"]))
    return "\n\n".join(lines)


def _card_markup(t: Translator) -> kb.InlineKeyboardMarkup:
    return kb.rows(
        [kb.button(t("forres.file"), ForResCb(action="ok", wish_id=0).pack())],
        [
            kb.button(t("wish.change_category"), ForResCb(action="chcat", wish_id=0).pack()),
            kb.button(t("common.cancel"), ForResCb(action="drop", wish_id=0).pack()),
        ],
    )


def _category_markup(t: Translator, app: AppContext) -> kb.InlineKeyboardMarkup:
    buttons = [
        kb.button(category_name(app, t, c), ForResCb(action="setcat", wish_id=0, arg=c).pack())
        for c in app.settings.categories.ids
    ]
    return kb.rows(*[buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def form_action(
    query: CallbackQuery,
    callback_data: ForResCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """The form's buttons; each checks the form is where the button belongs."""
    message = query.message
    data = await state.get_data()
    current = await state.get_state()
    action = callback_data.action
    if message is None or current not in {s.state for s in FORM_STATES}:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    if action == "drop":
        await query.answer()
        await state.clear()
        await message.edit_text(t("forres.dropped"))  # type: ignore[union-attr]
    elif action == "new" and current == ForRes.search.state:
        await records.may_file(app, session, actor.user_id)
        await query.answer()
        await state.set_state(ForRes.name)
        await message.answer(t("forres.name_ask"))
    elif action == "pick" and current == ForRes.search.state and callback_data.arg.isdigit():
        record = await records.record_for(app, session, actor.user_id, int(callback_data.arg))
        await query.answer()
        await state.set_data({"resident_id": record.user_id, "name": record.name})
        await _ask_consent(message, state, t, record.name)  # type: ignore[arg-type]
    elif action == "cons" and current == ForRes.consent.state and "resident_id" in data:
        await query.answer()
        if callback_data.arg == "no":
            await state.clear()
            await message.edit_text(t("forres.consent_refused"))  # type: ignore[union-attr]
            return
        consent_id = await filing.record_consent(
            app, session, actor.user_id, int(data["resident_id"]), callback_data.arg
        )
        await state.update_data(consent_id=consent_id)
        await state.set_state(ForRes.text)
        await message.edit_text(  # type: ignore[union-attr]
            t("forres.consent_recorded", how=t(f"forres.consent_{callback_data.arg}"))
        )
        await message.answer(t("forres.wish_ask", name=data.get("name", "")))
    elif action == "chcat" and current == ForRes.confirm.state:
        await query.answer()
        await message.edit_reply_markup(reply_markup=_category_markup(t, app))  # type: ignore[union-attr]
    elif action == "setcat" and current == ForRes.confirm.state and "draft" in data:
        if app.settings.categories.get(callback_data.arg) is None:
            await query.answer(t("errors.stale_button"), show_alert=True)
            return
        await query.answer()
        draft = {**data["draft"], "category": callback_data.arg, "confidence": 1.0}
        await state.update_data(draft=draft)
        await message.edit_text(  # type: ignore[union-attr]
            _card_text(t, app, data, draft), reply_markup=_card_markup(t)
        )
    elif action == "ok" and current == ForRes.confirm.state and "draft" in data:
        await _file(query, state, actor, t, session, app, data)
    else:
        await query.answer(t("errors.stale_button"), show_alert=True)


async def _file(
    query: CallbackQuery,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    data: dict[str, Any],
) -> None:
    # The key commits with the wish: a second press (or a replayed update) files nothing.
    done_key = once.key_of(query)
    once.arm(session, done_key, actor.user_id)
    wish = await filing.file_for(
        app,
        session,
        actor.user_id,
        int(data["resident_id"]),
        int(data["consent_id"]),
        wishes.Draft.from_dict(data["draft"]),
    )
    await state.clear()
    filed = t(
        "forres.filed",
        id=wish.id,
        name=data.get("name", ""),
        category=category_name(app, t, wish.category),
    )
    await once.remember(session, done_key, filed)
    await query.answer()
    if query.message is not None:
        await query.message.edit_text(filed)  # type: ignore[union-attr]


async def confirm_in_person(
    query: CallbackQuery,
    callback_data: ForResCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """居民当面确认: the filer, with the resident, confirms the finished task and rates it."""
    stars = int(callback_data.arg) if callback_data.arg.isdigit() else 0
    done_key = once.key_of(query)
    once.arm(session, done_key, actor.user_id)
    await filing.confirm_for(app, session, callback_data.wish_id, actor.user_id, stars)
    answer = t("forres.confirmed", id=callback_data.wish_id, stars="⭐" * stars)
    await once.remember(session, done_key, answer)
    await query.answer()
    if query.message is not None:
        await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await query.message.answer(answer)
