"""Staff's suggestions queue (社情民意): `/suggestions`, a card per suggestion, and its moves —
answer, fix (owner and due date), fixed, decline with a reason. Grid staff see their grid."""

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
from bot.services.people.actors import ROLE_ADMIN, ROLE_STAFF, Actor
from bot.services.suggestions import loop, states
from bot.tg import keyboards as kb
from bot.tg import suggestion_cards as cards
from bot.tg.callbacks_suggest import SuggestCb
from bot.tg.filters import HasRole, PrivateChat
from bot.tg.shorten import shorten

# The moves that need words from staff, and the prompt for each.
WORDED = {"ans": "suggest.ask_answer", "done": "suggest.ask_fixed", "dec": "suggest.ask_reason"}
TARGETS = {"ans": states.ANSWERED, "done": states.FIXED, "dec": states.DECLINED}


class SuggestReply(StatesGroup):
    text = State()  # data: action (ans | done | dec), id


def router() -> Router:
    r = Router(name="staff.suggestions")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF, ROLE_ADMIN))
    r.callback_query.filter(HasRole(ROLE_STAFF, ROLE_ADMIN))
    r.message.register(suggestions_command, Command("suggestions"))
    r.message.register(reply_typed, SuggestReply.text, F.text & ~F.text.startswith("/"))
    r.callback_query.register(
        staff_action,
        SuggestCb.filter(F.action.in_({"view", "ans", "fix", "own", "due", "done", "dec"})),
    )
    return r


async def suggestions_command(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    listed = await loop.queue(session, actor.user_id)
    if not listed:
        await message.answer(t("suggest.queue_empty"))
        return
    lines = [t("suggest.queue_head", n=len(listed))]
    buttons = []
    for s in listed:
        line = t(
            "suggest.queue_line",
            id=s.id,
            grid=s.grid_name,
            status=cards.status_name(t, s.status),
            text=shorten(s.text, 40),
        )
        if s.overdue_at is not None and s.overdue_at <= app.now():
            line += t("suggest.queue_overdue")
        lines.append(line)
        data = SuggestCb(action="view", suggestion_id=s.id).pack()
        buttons.append([kb.button(f"#{s.id} {shorten(s.text, 20)}", data)])
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons))


async def staff_action(
    query: CallbackQuery,
    callback_data: SuggestCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    action, sid = callback_data.action, callback_data.suggestion_id
    try:
        if action == "view":
            s = await loop.for_staff(session, actor.user_id, sid)
            await query.answer()
            card = cards.staff_card(app, t, s)
            await message.answer(card.text, reply_markup=card.markup)
        elif action in WORDED:
            s = await loop.for_staff(session, actor.user_id, sid)
            if not states.can_move(s.status, TARGETS[action]):  # an old card's button
                raise UserError("suggest.already_moved", id=sid)
            await state.set_state(SuggestReply.text)
            await state.set_data({"action": action, "id": sid})
            await query.answer()
            await message.answer(t(WORDED[action], id=sid))
        elif action == "fix":
            owners = await loop.owners(session, actor.user_id, sid)
            await query.answer()
            await message.answer(
                t("suggest.ask_owner", id=sid), reply_markup=cards.owner_markup(t, sid, owners)
            )
        elif action == "own":
            await query.answer()
            await message.edit_text(
                t("suggest.ask_due", id=sid),
                reply_markup=cards.due_markup(t, sid, int(callback_data.arg)),
            )
        elif action == "due":
            owner, days = (int(part) for part in callback_data.arg.split("-"))
            s = await loop.start_fix(app, session, actor.user_id, sid, owner, days)
            await query.answer()
            await message.edit_text(
                t("suggest.fixing_set", id=s.id, owner=s.owner_name or "—", due=_due(app, s))
            )
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)


def _due(app: AppContext, s: loop.SuggestionView) -> str:
    return cards.date_text(app, s.due_at) if s.due_at is not None else "—"


async def reply_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    action, sid, text = str(data.get("action")), int(data.get("id") or 0), message.text or ""
    moves = {"ans": loop.answer, "done": loop.mark_fixed, "dec": loop.decline}
    if action not in moves:
        await state.clear()
        await message.answer(t("errors.stale_button"))
        return
    try:
        s = await moves[action](app, session, actor.user_id, sid, text)
    except UserError as err:
        if err.key != "suggest.reply_length":  # anything but a bad length ends the prompt
            await state.clear()
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    await message.answer(t(f"suggest.moved.{s.status}", id=s.id))
