"""Volunteers: claim or decline offers, then run the task: time, messages, done, release."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people import profiles, registration
from bot.services.people.actors import ROLE_VOLUNTEER, Actor
from bot.services.tasks import claims, lifecycle, offers
from bot.tg import keyboards as kb
from bot.tg import once, stale
from bot.tg.callbacks import ToggleCb
from bot.tg.callbacks_tasks import TaskCb
from bot.tg.filters import HasRole, PrivateChat
from bot.tg.shorten import shorten
from bot.tg.task_cards import OFFER_OPEN, stale_task_card, task_card
from handlers import forms
from handlers.volunteer.signup_steps import slots_keyboard
from matching.timewindow import extract_time

VOLUNTEER_ACTIONS = {
    "claim",
    "decl",
    "declr",
    "pause",
    "when",
    "done",
    "donenow",
    "rel",
    "relr",
    "open",
    "phone",
}


class TaskFlow(StatesGroup):
    when = State()
    done_note = State()
    availability = State()


def router() -> Router:
    r = Router(name="volunteer.tasks")
    # No chat filter on buttons: a Claim button also lives in the grid's group chat.
    r.callback_query.register(claim_pressed, TaskCb.filter(F.action == "claim"))
    r.callback_query.register(
        task_action, TaskCb.filter(F.action.in_(VOLUNTEER_ACTIONS - {"claim"}))
    )
    r.message.register(my_tasks, Command("mytasks"), PrivateChat(), HasRole(ROLE_VOLUNTEER))
    r.message.register(
        availability, Command("availability"), PrivateChat(), HasRole(ROLE_VOLUNTEER)
    )
    r.callback_query.register(
        slot_toggled, TaskFlow.availability, ToggleCb.filter(F.field == "slots")
    )
    r.message.register(when_typed, TaskFlow.when, F.text, PrivateChat())
    r.message.register(done_note_typed, TaskFlow.done_note, F.text | F.photo, PrivateChat())
    return r


# Buttons that sit on a task or offer card (the follow-up choices re-check in the services).
HOLDER_ACTIONS = {"phone", "when", "done", "rel"}
OFFER_ACTIONS = {"claim", "decl", "pause"}
CARD_ACTIONS = HOLDER_ACTIONS | OFFER_ACTIONS


async def _stale_card(
    query: CallbackQuery,
    session: AsyncSession,
    app: AppContext,
    t: Translator,
    wish_id: int,
    actor: Actor,
) -> bool:
    """True (and the card redrawn) when the pressed button no longer fits the wish's state."""
    action = TaskCb.unpack(query.data).action if query.data else ""
    found = await stale_task_card(
        session, app, t, wish_id, actor.user_id, offer=action in OFFER_ACTIONS
    )
    if found is None or (action not in OFFER_ACTIONS and stale.is_current(query, found[0])):
        return False
    card, notice = found
    await stale.redraw(query, card, notice)
    return True


async def claim_pressed(
    query: CallbackQuery,
    callback_data: TaskCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    try:  # someone holds it already: answered from one plain read (their claim edits cards)
        status = await claims.refuse_if_held(session, callback_data.wish_id, actor.user_id)
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    # Open to offers and nobody holds it: the card is current, no need to redraw and compare.
    if status not in OFFER_OPEN and await _stale_card(
        query, session, app, t, callback_data.wish_id, actor
    ):
        return
    done_key = once.key_of(query)
    once.arm(session, done_key, actor.user_id)
    try:
        claimed = await claims.take(app, session, callback_data.wish_id, actor.user_id)
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    answer = t("task.claimed_toast", id=callback_data.wish_id)
    await once.remember(session, done_key, answer)
    # The presser hears first; the other cards, the group post and the resident after.
    await query.answer(answer, show_alert=True)
    await claims.announce_claim(app, session, claimed)


async def task_action(
    query: CallbackQuery,
    callback_data: TaskCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action, wish_id, arg = callback_data.action, callback_data.wish_id, callback_data.arg
    message = query.message
    if action in CARD_ACTIONS and await _stale_card(query, session, app, t, wish_id, actor):
        return
    if action == "decl":
        await query.answer()
        if message is not None:
            options = [(r, t(f"offer.reason_{r}")) for r in offers.DECLINE_REASONS]
            await message.edit_reply_markup(  # type: ignore[union-attr]
                reply_markup=kb.rows(
                    *[
                        [kb.button(label, TaskCb(action="declr", wish_id=wish_id, arg=r).pack())]
                        for r, label in options
                    ]
                )
            )
        return
    if action == "declr":
        await offers.decline(app, session, wish_id, actor.user_id, arg)
        await query.answer(t("offer.declined"))
        if message is not None:
            await message.edit_text(t("offer.declined_card", id=wish_id))  # type: ignore[union-attr]
        return
    if action == "pause":
        await offers.pause_week(app, session, actor.user_id)
        await query.answer(t("offer.paused"), show_alert=True)
        return
    # The rest act on a task the presser holds: the service re-checks that.
    if action == "phone":
        phone = await lifecycle.resident_phone(session, wish_id, actor.user_id)
        await query.answer(t("task.phone", phone=phone), show_alert=True)
    elif action == "open":
        card = await task_card(session, app, t, wish_id, actor.user_id)
        await query.answer()
        if card is None:
            raise UserError("task.not_yours", id=wish_id)
        if message is not None:
            await message.answer(card.text, reply_markup=card.markup)
    elif action == "when":
        await query.answer()
        await state.set_state(TaskFlow.when)
        await state.set_data({"wish_id": wish_id})
        if message is not None:
            await message.answer(t("task.when_ask", id=wish_id))
    elif action == "done":
        await query.answer()
        await state.set_state(TaskFlow.done_note)
        await state.set_data({"wish_id": wish_id})
        if message is not None:
            await message.answer(
                t("task.done_ask", id=wish_id),
                reply_markup=kb.rows(
                    [
                        kb.button(
                            t("task.done_now"), TaskCb(action="donenow", wish_id=wish_id).pack()
                        )
                    ]
                ),
            )
    elif action == "donenow":
        await state.clear()
        await lifecycle.mark_done(app, session, wish_id, actor.user_id, None, None)
        await query.answer()
        if message is not None:
            await message.edit_text(t("task.done_thanks", id=wish_id))  # type: ignore[union-attr]
    elif action == "rel":
        await query.answer()
        if message is not None:
            options = [(r, t(f"task.release_{r}")) for r in lifecycle.RELEASE_REASONS]
            await message.answer(
                t("task.release_ask", id=wish_id),
                reply_markup=kb.rows(
                    *[
                        [kb.button(label, TaskCb(action="relr", wish_id=wish_id, arg=r).pack())]
                        for r, label in options
                    ]
                ),
            )
    elif action == "relr":
        await lifecycle.release(app, session, wish_id, actor.user_id, arg)
        await query.answer()
        if message is not None:
            await message.edit_text(t("task.released", id=wish_id))  # type: ignore[union-attr]


async def when_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    info = extract_time(message.text or "", app.now().astimezone(app.settings.tz))
    if info.start is None:
        await message.answer(t("task.when_not_understood"))
        return
    data = await state.get_data()
    wish_id = int(data["wish_id"])
    try:
        await lifecycle.set_agreed_time(app, session, wish_id, actor.user_id, info.start)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    from bot.tg.task_cards import when_text

    await message.answer(
        t("task.time_set", id=wish_id, when=when_text(app, t, int(info.start.timestamp())))
    )


async def done_note_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    wish_id = int(data["wish_id"])
    photo = message.photo[-1].file_id if message.photo else None
    note = message.caption if message.photo else message.text
    try:
        await lifecycle.mark_done(app, session, wish_id, actor.user_id, note, photo)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    await message.answer(t("task.done_thanks", id=wish_id))


async def my_tasks(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    items = await lifecycle.my_tasks(session, actor.user_id)
    if not items:
        await message.answer(t("task.none"))
        return
    lines = [t("task.mine_header")]
    buttons = []
    for wish in items:
        lines.append(
            t(
                "task.mine_line",
                id=wish.id,
                status=t(f"status.wish.{wish.status}"),
                text=shorten(wish.text, 30),
            )
        )
        buttons.append(
            [
                kb.button(
                    f"#{wish.id} {shorten(wish.text, 16)}",
                    TaskCb(action="open", wish_id=wish.id).pack(),
                )
            ]
        )
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons[:10]))


async def availability(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    selected = await profiles.weekly_slots(session, actor.user_id)
    await state.set_state(TaskFlow.availability)
    await state.set_data({"slots": selected})
    await message.answer(t("task.availability_ask"), reply_markup=slots_keyboard(t, app, selected))


async def slot_toggled(
    query: CallbackQuery,
    callback_data: ToggleCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    selected: list[str] = list(data.get("slots", []))
    if callback_data.value == "*":
        if not selected:
            await query.answer(t("volunteer.choose_one"), show_alert=True)
            return
        await registration.update_volunteer(session, actor.user_id, availability=selected)
        await state.clear()
        await query.answer(t("me.saved"))
        if query.message is not None:
            await query.message.edit_text(t("task.availability_saved"))  # type: ignore[union-attr]
        return
    if callback_data.value not in [s.id for s in app.settings.volunteers.slots]:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    selected = forms.toggle(selected, callback_data.value)
    await state.update_data(slots=selected)
    await query.answer()
    if query.message is not None:
        await query.message.edit_reply_markup(reply_markup=slots_keyboard(t, app, selected))  # type: ignore[union-attr]
