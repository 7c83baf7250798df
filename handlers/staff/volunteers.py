"""Staff: approve or reject volunteers, invite codes."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.people import grids, registration
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.tg.callbacks import VolunteerReviewCb
from bot.tg.filters import HasRole, PrivateChat
from bot.tg.render import volunteer_review_card
from handlers import forms

REASON_MAX = 300


class StaffReject(StatesGroup):
    reason = State()


def router() -> Router:
    r = Router(name="staff.volunteers")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(HasRole(ROLE_STAFF))
    r.callback_query.register(review_pressed, VolunteerReviewCb.filter())
    r.message.register(reject_reason, StaffReject.reason, F.text)
    r.message.register(invite, Command("invite"))
    r.message.register(pending, Command("pending"))
    return r


async def review_pressed(
    query: CallbackQuery,
    callback_data: VolunteerReviewCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if callback_data.action == "ok":
        volunteer = await registration.review_volunteer(
            app, session, actor.user_id, callback_data.user_id, approve=True
        )
        await query.answer(t("staff.volunteer_approved", name=volunteer.name))
        if query.message is not None:
            await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
            await query.message.answer(t("staff.volunteer_approved", name=volunteer.name))
        return
    await query.answer()
    await state.set_state(StaffReject.reason)
    await state.update_data(volunteer_user_id=callback_data.user_id)
    if query.message is not None:
        await query.message.answer(t("staff.reject_reason_ask"))


async def reject_reason(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    reason = await forms.typed_text(message, t, REASON_MAX)
    if reason is None:
        return
    data = await state.get_data()
    await state.clear()
    volunteer = await registration.review_volunteer(
        app, session, actor.user_id, int(data["volunteer_user_id"]), approve=False, reason=reason
    )
    await message.answer(t("staff.volunteer_rejected", name=volunteer.name))


async def invite(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    args = (command.args or "").split()
    if not args or args[0] not in ("staff", "volunteer"):
        await message.answer(t("staff.invite_usage"))
        return
    grid_id = None
    if len(args) > 1:
        grid = await grids.grid_by_code(session, args[1])
        if grid is None:
            await message.answer(t("staff.invite_unknown_grid", code=args[1]))
            return
        grid_id = grid.id
    code = await registration.create_invite(app, session, actor.user_id, args[0], grid_id)
    me = await message.bot.me()  # type: ignore[union-attr]
    link = f"https://t.me/{me.username}?start=inv_{code.code}"
    expires = code.expires_at.astimezone(app.settings.tz).strftime("%Y-%m-%d %H:%M")
    await message.answer(t(f"staff.invite_{args[0]}", link=link, expires=expires))


async def pending(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    volunteers = await registration.pending_volunteers(session, actor.user_id)
    if not volunteers:
        await message.answer(t("staff.no_pending"))
        return
    for volunteer in volunteers[:20]:
        card = await volunteer_review_card(session, app, t, volunteer.user_id)
        if card is not None:
            await message.answer(card.text, reply_markup=card.markup)
