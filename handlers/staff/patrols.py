"""Staff side of 治安巡查: /newpatrol (route, meeting point, time, places), the shifts list and
card (QR code, roll, stop/reopen sign-ups, end with points, call off), hazard decisions, and
/patrolstats."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import qr
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.outreach import event_times
from bot.services.outreach.events import parse_count
from bot.services.patrols import attendance, hazards, shifts, staff_views
from bot.services.people import grids
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg import patrol_cards as cards
from bot.tg.callbacks import GridCb
from bot.tg.callbacks_patrols import HazardCb, PatrolFormCb, PatrolStaffCb
from bot.tg.event_cards import when_text
from bot.tg.filters import HasRole, PrivateChat, TypedText
from bot.tg.render import render
from handlers import forms
from handlers.volunteer.patrols import HasLocation


class NewPatrol(StatesGroup):
    grid = State()
    name = State()
    point = State()
    when = State()
    capacity = State()
    confirm = State()


def router() -> Router:
    r = Router(name="staff.patrols")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.message.register(shift_list, Command("patrols"))
    r.message.register(new_patrol, Command("newpatrol"))
    r.message.register(patrol_stats, Command("patrolstats"))
    text = TypedText()
    r.callback_query.register(grid_pick, NewPatrol.grid, GridCb.filter())
    r.message.register(forms.grid_typed, NewPatrol.grid, text)
    r.message.register(name_typed, NewPatrol.name, text)
    r.message.register(point_sent, NewPatrol.point, HasLocation())
    r.message.register(use_buttons, NewPatrol.point)
    r.message.register(when_typed, NewPatrol.when, text)
    r.message.register(capacity_typed, NewPatrol.capacity, text)
    r.message.register(use_buttons, NewPatrol.confirm)
    for in_words in (NewPatrol.grid, NewPatrol.name, NewPatrol.when, NewPatrol.capacity):
        r.message.register(answer_in_words, in_words)
    r.callback_query.register(form_choice, PatrolFormCb.filter())
    r.callback_query.register(staff_action, PatrolStaffCb.filter())
    r.callback_query.register(hazard_action, HazardCb.filter())
    return r


async def use_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons"))


async def answer_in_words(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons_or_text"))


def _skip(t: Translator, field: str) -> kb.InlineKeyboardMarkup:
    return kb.rows([kb.button(t("common.skip"), PatrolFormCb(field=field, value="-").pack())])


# --- /newpatrol ----------------------------------------------------------------------------


async def new_patrol(
    message: Message, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    await state.clear()
    await message.answer(t("patrols.form.intro"))
    if actor.staff_grid_id is not None:
        await _ask_name(message, state, t, actor.staff_grid_id)
        return
    await state.set_state(NewPatrol.grid)
    options = await grids.active_grids(session)
    await message.answer(t("patrols.form.grid_ask"), reply_markup=kb.grid_page(t, options, 0))


async def grid_pick(
    query: CallbackQuery,
    callback_data: GridCb,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
) -> None:
    grid = await forms.grid_pressed(query, callback_data, t, session)
    if grid is not None and isinstance(query.message, Message):
        await _ask_name(query.message, state, t, grid.id)


async def _ask_name(message: Message, state: FSMContext, t: Translator, grid_id: int) -> None:
    await state.set_state(NewPatrol.name)
    await state.update_data(grid_id=grid_id)
    await message.answer(t("patrols.form.name_ask"))


async def name_typed(message: Message, state: FSMContext, t: Translator) -> None:
    try:
        name, description = shifts.clean_name(message.text or "")
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.update_data(name=name, description=description)
    await state.set_state(NewPatrol.point)
    await message.answer(t("patrols.form.point_ask"), reply_markup=_skip(t, "pt"))


async def point_sent(message: Message, state: FSMContext, t: Translator) -> None:
    assert message.location is not None
    await state.update_data(lat=message.location.latitude, lon=message.location.longitude)
    await _ask_when(message, state, t)


async def _ask_when(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(NewPatrol.when)
    await message.answer(t("patrols.form.when_ask"))


async def when_typed(message: Message, state: FSMContext, t: Translator, app: AppContext) -> None:
    try:
        starts_at, ends_at = event_times.parse_span(message.text or "", app.now(), app.settings.tz)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.update_data(starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
    await state.set_state(NewPatrol.capacity)
    await message.answer(t("patrols.form.capacity_ask"))


async def capacity_typed(
    message: Message,
    state: FSMContext,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
) -> None:
    try:
        capacity = parse_count(message.text or "", 1, app.settings.patrols.max_capacity)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.update_data(capacity=capacity)
    draft = _draft(await state.get_data())
    try:
        shifts.check_draft(app, draft)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    shown, volunteers = await staff_views.preview(session, draft)
    await state.set_state(NewPatrol.confirm)
    go = PatrolFormCb(field="go", value="yes").pack()
    no = PatrolFormCb(field="go", value="no").pack()
    text = t("patrols.form.preview", card=cards.shift_text(app, t, shown), volunteers=volunteers)
    markup = kb.rows([kb.button(t("patrols.form.publish"), go), kb.button(t("common.cancel"), no)])
    await message.answer(text, reply_markup=markup)


def _draft(data: dict[str, object]) -> shifts.ShiftDraft:
    lat, lon = data.get("lat"), data.get("lon")
    return shifts.ShiftDraft(
        grid_id=int(str(data["grid_id"])),
        name=str(data["name"]),
        description=str(data.get("description") or ""),
        lat=float(str(lat)) if lat is not None else None,
        lon=float(str(lon)) if lon is not None else None,
        starts_at=datetime.fromisoformat(str(data["starts_at"])),
        ends_at=datetime.fromisoformat(str(data["ends_at"])),
        capacity=int(str(data["capacity"])),
    )


async def form_choice(
    query: CallbackQuery,
    callback_data: PatrolFormCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    expected = {"pt": NewPatrol.point, "go": NewPatrol.confirm}
    message = await forms.step_message(query, state, t, expected.get(callback_data.field))
    if message is None:
        return
    if callback_data.field == "pt":
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)
        await _ask_when(message, state, t)
        return
    # Publishing is keyed: a double tap or a replayed press publishes one shift.
    done_key = once.key_of(query)
    if callback_data.value != "yes":
        await state.clear()
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)
        await message.answer(t("common.cancelled"))
        return
    once.arm(session, done_key, actor.user_id)
    draft = _draft(await state.get_data())
    await state.clear()
    try:
        shown, volunteers = await shifts.create_shift(app, session, actor.user_id, draft)
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    answer = t("patrols.form.published", id=shown.id, name=shown.name, volunteers=volunteers)
    await once.remember(session, done_key, answer)
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(answer, reply_markup=cards.staff_markup(app, t, shown))


# --- the list and a shift's card --------------------------------------------------------------


async def shift_list(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    listed = await staff_views.staff_shifts(app, session, actor.user_id)
    if not listed:
        await message.answer(t("patrols.staff.none"))
        return
    lines, buttons = [t("patrols.staff.list_head")], []
    for shift in listed:
        lines.append(
            t(
                "patrols.staff.list_line",
                id=shift.id,
                name=shift.name,
                grid=shift.grid_name,
                when=when_text(app, t, shift.starts_at, shift.ends_at),
                taken=shift.taken,
                capacity=shift.capacity,
                status=t(f"patrols.status.{shift.status}"),
            )
        )
        data = PatrolStaffCb(action="card", shift_id=shift.id).pack()
        buttons.append([kb.button(f"#{shift.id} {shift.name}", data)])
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons))


async def staff_action(
    query: CallbackQuery,
    callback_data: PatrolStaffCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    try:
        await _staff_action(query, message, callback_data, actor, t, session, app, bot)
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)


async def _staff_action(
    query: CallbackQuery,
    message: Message,
    cb: PatrolStaffCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
) -> None:
    action, shift_id, uid = cb.action, cb.shift_id, actor.user_id

    def ask(question: str, yes_label: str, yes: str) -> kb.InlineKeyboardMarkup:
        del question
        return kb.rows(
            [
                kb.button(yes_label, PatrolStaffCb(action=yes, shift_id=shift_id).pack()),
                kb.button(
                    t("patrols.staff.not_yet"),
                    PatrolStaffCb(action="card", shift_id=shift_id).pack(),
                ),
            ]
        )

    if action == "card":
        shown = await staff_views.staff_shift(session, uid, shift_id)
        await query.answer()
        await message.answer(
            cards.shift_text(app, t, shown), reply_markup=cards.staff_markup(app, t, shown)
        )
    elif action in ("qr", "rq"):
        code = await attendance.issue_code(app, session, uid, shift_id)
        await query.answer()
        me = await bot.me()
        png = qr.png(f"https://t.me/{me.username or ''}?start=pt_{code.token}")
        caption = t(
            "patrols.staff.code_caption",
            id=shift_id,
            name=code.shift.name,
            pin=code.pin,
            expires=cards.clock(app, code.expires_at),
        )
        again = PatrolStaffCb(action="rq", shift_id=shift_id).pack()
        await message.answer_photo(
            BufferedInputFile(png, filename=f"patrol-{shift_id}.png"),
            caption=caption,
            reply_markup=kb.rows([kb.button(t("patrols.staff.new_code"), again)]),
        )
    elif action == "roll":
        await staff_views.staff_shift(session, uid, shift_id)
        sheet = await attendance.roll(session, shift_id)
        await query.answer()
        await message.answer(cards.roll_text(app, t, sheet))
    elif action in ("stop", "open"):
        shown = await shifts.set_signups_open(app, session, uid, shift_id, is_open=action == "open")
        await query.answer()
        await message.edit_text(
            cards.shift_text(app, t, shown), reply_markup=cards.staff_markup(app, t, shown)
        )
    elif action == "end":
        await staff_views.staff_shift(session, uid, shift_id)
        sheet = await attendance.roll(session, shift_id)
        await query.answer()
        rate = app.settings.patrols.points_per_hour
        text = t("patrols.staff.finish_ask", id=shift_id, present=sheet.present, rate=rate)
        await message.answer(text, reply_markup=ask(text, t("patrols.staff.finish_yes"), "endy"))
    elif action == "endy":
        sheet, awarded = await attendance.finish(app, session, uid, shift_id)
        await query.answer()
        await message.edit_text(
            t(
                "patrols.staff.finished",
                id=shift_id,
                present=sheet.present,
                awarded=len(awarded),
            )
        )
    elif action == "off":
        await query.answer()
        text = t("patrols.staff.call_off")
        await message.answer(text, reply_markup=ask(text, t("patrols.staff.call_off_yes"), "offy"))
    elif action == "offy":
        await shifts.cancel_shift(app, session, uid, shift_id)
        await query.answer()
        await message.edit_text(t("patrols.staff.called_off", id=shift_id))
    elif action == "hz":
        waiting = await hazards.open_hazards(session, uid)
        await query.answer()
        if not waiting:
            await message.answer(t("patrols.hazard.none_open"))
        for found in waiting[:5]:
            notice = Notice("patrols.hazard_card", {"hazard_id": found.id})
            card = await render(session, app, t, notice)
            if card is None:
                continue
            if card.photo:
                await message.answer_photo(card.photo, caption=card.text, reply_markup=card.markup)
            else:
                await message.answer(card.text, reply_markup=card.markup)
    else:
        await query.answer(t("errors.stale_button"), show_alert=True)


# --- hazard decisions ---------------------------------------------------------------------


async def hazard_action(
    query: CallbackQuery,
    callback_data: HazardCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    hazard_id, action = callback_data.hazard_id, callback_data.action
    try:
        if action == "esc":
            await hazards.get(session, hazard_id)
            await query.answer()
            if isinstance(message, Message):
                await message.answer(
                    t("patrols.hazard.department_ask"),
                    reply_markup=cards.departments_markup(app, hazard_id),
                )
            return
        if action == "wish":
            decided = await hazards.to_wish(app, session, actor.user_id, hazard_id)
            text = t("patrols.hazard.decided_wish", id=hazard_id, wish=decided.wish_id)
        elif action == "esd":
            decided = await hazards.to_escalation(
                app, session, actor.user_id, hazard_id, callback_data.arg
            )
            text = t("patrols.hazard.decided_escalated", id=hazard_id, wish=decided.wish_id)
        elif action == "no":
            await hazards.dismiss(app, session, actor.user_id, hazard_id)
            text = t("patrols.hazard.decided_dismissed", id=hazard_id)
        else:
            await query.answer(t("errors.stale_button"), show_alert=True)
            return
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    await query.answer(text[:200])
    if isinstance(message, Message):
        await message.edit_reply_markup(reply_markup=None)
        await message.answer(text)


# --- /patrolstats -----------------------------------------------------------------------------


async def patrol_stats(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    try:
        report = await staff_views.month_report(app, session, actor.user_id, command.args)
    except UserError as err:
        if err.key == "reports.month_usage":
            await message.answer(t("patrols.report.usage"))
        else:
            await message.answer(t(err.key, **err.params))
        return
    lines = [t("patrols.report.head", period=report.period)]
    for g in [*report.grids, report.total]:
        key = "patrols.report.total" if g is report.total else "patrols.report.line"
        lines.append(
            t(
                key,
                grid=g.name,
                patrols=g.patrols,
                patrollers=g.patrollers,
                hours=g.hours,
                found=g.hazards_found,
                to_wish=g.hazards_to_wish,
                escalated=g.hazards_escalated,
                fixed=g.hazards_fixed,
                posts=g.posts_held,
                checkins=g.post_checkins,
            )
        )
    await message.answer("\n".join(lines))
