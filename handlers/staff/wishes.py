"""Staff review (社区派单): the queue and the actions on a wish card."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import deadlines, dispatch
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.services.privacy import mask_personal
from bot.tg import keyboards as kb
from bot.tg import stale
from bot.tg.callbacks import WishCb
from bot.tg.filters import HasRole, PrivateChat
from bot.tg.shorten import shorten
from bot.tg.wish_cards import age_text, category_name, deadline_text, staff_card

STAFF_ACTIONS = {
    "ap",
    "apd",
    "apx",
    "cat",
    "setc",
    "rj",
    "mg",
    "mgd",
    "es",
    "esd",
    "esx",
    "ans",
    "ansc",
    "anso",
    "view",
}
DEADLINE_DAYS = ("0", "3", "7", "14")


class StaffWish(StatesGroup):
    reject_reason = State()
    merge_into = State()
    escalate_note = State()
    answer = State()


def router() -> Router:
    r = Router(name="staff.wishes")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(HasRole(ROLE_STAFF))
    r.message.register(queue, Command("queue"))
    r.callback_query.register(card_action, WishCb.filter(F.action.in_(STAFF_ACTIONS)))
    r.message.register(reject_reason, StaffWish.reject_reason, F.text)
    r.message.register(merge_into, StaffWish.merge_into, F.text)
    r.message.register(escalate_note, StaffWish.escalate_note, F.text)
    r.message.register(answer_typed, StaffWish.answer, F.text)
    return r


async def queue(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    items = await dispatch.review_queue(session, actor.user_id)
    if not items:
        await message.answer(t("staff.queue_empty"))
        return
    lines = [t("staff.queue_header", n=len(items))]
    buttons = []
    dues = await deadlines.escalation_deadlines(app, session, [w.id for w in items])
    for wish in items:
        age = age_text(t, (app.now() - wish.created_at).total_seconds())
        lines.append(
            t(
                "staff.queue_line",
                id=wish.id,
                status=t(f"status.wish.{wish.status}"),
                category=category_name(app, t, wish.category),
                age=age,
                text=shorten(mask_personal(wish.text), 24),
            )
        )
        due = dues.get(wish.id)
        if due is not None:
            key = "deadline.queue_overdue" if due.overdue else "deadline.queue_due"
            lines.append(t(key, deadline=deadline_text(app, due.deadline)))
        buttons.append(
            [kb.button(f"#{wish.id} · {age}", WishCb(action="view", wish_id=wish.id).pack())]
        )
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons[:15]))


def _deadline(app: AppContext, days: str) -> datetime | None:
    return None if days == "0" else app.now() + timedelta(days=int(days))


def deadline_buttons(
    t: Translator, action: str, wish_id: int, prefix: str
) -> kb.InlineKeyboardMarkup:
    return kb.rows(
        [
            kb.button(
                t(f"staff.deadline_{d}"),
                WishCb(action=action, wish_id=wish_id, arg=f"{prefix}{d}").pack(),
            )
            for d in DEADLINE_DAYS
        ]
    )


# Buttons on the review card itself; a press that no longer fits the wish redraws the card.
REVIEW_ACTIONS = frozenset({"ap", "cat", "rj", "mg", "es", "ans"})


async def card_action(
    query: CallbackQuery,
    callback_data: WishCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    action, wish_id, arg = callback_data.action, callback_data.wish_id, callback_data.arg
    if message is None:
        await query.answer()
        return
    if action == "view":
        card = await staff_card(session, app, t, wish_id)
        await query.answer()
        if card is not None:
            await message.answer(card.text, reply_markup=card.markup)
        return
    # Re-check the presser may act on this wish before showing any choice.
    await dispatch.staff_wish(session, actor.user_id, wish_id)
    if action in REVIEW_ACTIONS:
        card = await staff_card(session, app, t, wish_id)
        if not stale.is_current(query, card):
            await stale.redraw(query, card, t("staff.card_updated", id=wish_id))
            return
    await query.answer()
    if action == "ap":
        await message.answer(
            t("staff.difficulty_ask", id=wish_id),
            reply_markup=kb.rows(
                [
                    kb.button(
                        t(f"difficulty.{d}"), WishCb(action="apd", wish_id=wish_id, arg=d).pack()
                    )
                    for d in ("easy", "normal", "hard")
                ]
            ),
        )
    elif action == "apd":
        await message.edit_text(  # type: ignore[union-attr]
            t("staff.deadline_ask", id=wish_id),
            reply_markup=deadline_buttons(t, "apx", wish_id, f"{arg}-"),
        )
    elif action == "apx":
        difficulty, _, days = arg.partition("-")
        wish = await dispatch.approve(
            app,
            session,
            actor.user_id,
            wish_id,
            difficulty=difficulty,
            deadline=_deadline(app, days or "0"),
        )
        await message.edit_text(t("staff.wish_approved", id=wish.id))  # type: ignore[union-attr]
    elif action == "cat":
        ids = app.settings.categories.ids
        buttons = [
            kb.button(
                category_name(app, t, c), WishCb(action="setc", wish_id=wish_id, arg=c).pack()
            )
            for c in ids
        ]
        await message.answer(
            t("staff.category_ask", id=wish_id),
            reply_markup=kb.rows(*[buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
        )
    elif action == "setc":
        wish = await dispatch.set_category(app, session, actor.user_id, wish_id, arg)
        await message.edit_text(  # type: ignore[union-attr]
            t("staff.category_set", id=wish.id, category=category_name(app, t, wish.category))
        )
        card = await staff_card(session, app, t, wish_id)
        if card is not None:
            await message.answer(card.text, reply_markup=card.markup)
    elif action == "rj":
        await state.set_state(StaffWish.reject_reason)
        await state.set_data({"wish_id": wish_id})
        await message.answer(t("staff.wish_reject_reason_ask", id=wish_id))
    elif action == "mg":
        await state.set_state(StaffWish.merge_into)
        await state.set_data({"wish_id": wish_id})
        await message.answer(t("staff.merge_ask", id=wish_id))
    elif action == "mgd":
        if not arg.isdigit():
            await message.answer(t("errors.stale_button"))
            return
        wish = await dispatch.merge(app, session, actor.user_id, wish_id, int(arg))
        await message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await message.answer(t("staff.merged", id=wish.id, into=int(arg)))
    elif action == "es":
        deps = app.settings.community.departments
        await message.answer(
            t("staff.department_ask", id=wish_id),
            reply_markup=kb.rows(
                *[
                    [kb.button(d.name, WishCb(action="esd", wish_id=wish_id, arg=d.id).pack())]
                    for d in deps
                ]
            ),
        )
    elif action == "esd":
        await state.set_state(StaffWish.escalate_note)
        await state.set_data({"wish_id": wish_id, "department": arg})
        await message.edit_text(t("staff.escalate_note_ask", id=wish_id))  # type: ignore[union-attr]
    elif action == "esx":
        data = await state.get_data()
        await state.clear()
        await dispatch.escalate(
            app,
            session,
            actor.user_id,
            wish_id,
            department=str(data.get("department", "")),
            note=str(data.get("note", "")),
            deadline=_deadline(app, arg),
        )
        await message.edit_text(t("staff.escalated", id=wish_id))  # type: ignore[union-attr]
    elif action == "ans":
        await state.set_state(StaffWish.answer)
        await state.set_data({"wish_id": wish_id})
        await message.answer(t("staff.answer_ask", id=wish_id))
    elif action in ("ansc", "anso"):
        data = await state.get_data()
        await state.clear()
        if not data.get("answer"):
            await message.answer(t("errors.stale_button"))
            return
        await dispatch.answer_escalation(
            app, session, actor.user_id, wish_id, answer=str(data["answer"]), close=action == "ansc"
        )
        key = "staff.escalation_closed" if action == "ansc" else "staff.escalation_reopened"
        await message.edit_text(t(key, id=wish_id))  # type: ignore[union-attr]


async def reject_reason(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    try:
        wish = await dispatch.reject(
            app, session, actor.user_id, int(data["wish_id"]), message.text or ""
        )
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        if err.key != "errors.text_length":
            await state.clear()
        return
    await state.clear()
    await message.answer(t("staff.wish_rejected", id=wish.id))


async def merge_into(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    text = (message.text or "").strip().lstrip("#＃")
    if not text.isdigit():
        await message.answer(t("staff.merge_number"))
        return
    data = await state.get_data()
    await state.clear()
    wish = await dispatch.merge(app, session, actor.user_id, int(data["wish_id"]), int(text))
    await message.answer(t("staff.merged", id=wish.id, into=int(text)))


async def escalate_note(message: Message, state: FSMContext, t: Translator) -> None:
    note = (message.text or "").strip()[:500]
    data = await state.get_data()
    await state.update_data(note=note)
    await message.answer(
        t("staff.escalate_deadline_ask"),
        reply_markup=deadline_buttons(t, "esx", int(data["wish_id"]), ""),
    )


async def answer_typed(message: Message, state: FSMContext, t: Translator) -> None:
    answer = (message.text or "").strip()
    if not answer:
        return
    data = await state.get_data()
    await state.update_data(answer=answer[:1000])
    wish_id = int(data["wish_id"])
    await message.answer(
        t("staff.answer_close_or_reopen", id=wish_id),
        reply_markup=kb.rows(
            [
                kb.button(t("staff.close_wish"), WishCb(action="ansc", wish_id=wish_id).pack()),
                kb.button(t("staff.reopen_wish"), WishCb(action="anso", wish_id=wish_id).pack()),
            ]
        ),
    )
