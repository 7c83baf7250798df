"""召集人汇总: staff appoint convenors (/convenor) and verify their batches (/batches and the
batch card); a convenor sees their group's declarations (/convene) and forwards them."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import Actor
from bot.services.points import batches, convenors
from bot.tg import convenor_cards as cards
from bot.tg import once
from bot.tg.callbacks_lists import BatchCb, ConveneCb
from bot.tg.filters import PrivateChat
from handlers.staff.replies import command_in_form

BATCHES_SHOWN = 5


class ConveneForm(StatesGroup):
    summary = State()


class BatchReason(StatesGroup):
    reason = State()


def router() -> Router:
    r = Router(name="staff.convenor")
    r.message.filter(PrivateChat())
    r.message.register(convenor_command, Command("convenor"))
    r.message.register(batches_command, Command("batches"))
    r.message.register(convene_command, Command("convene"))
    r.callback_query.register(forward_pressed, ConveneCb.filter(F.action == "fwd"))
    r.message.register(summary_typed, ConveneForm.summary, F.text)
    r.callback_query.register(batch_pressed, BatchCb.filter())
    r.message.register(reason_typed, BatchReason.reason, F.text)
    return r


async def _replace(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if query.message is not None:
        await query.message.edit_text(text, reply_markup=markup)  # type: ignore[union-attr]


async def convenor_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """/convenor — list; /convenor <name or Telegram id> grid|org — appoint;
    /convenor remove <name or Telegram id>."""
    args = (command.args or "").split()
    if not args:
        views = await convenors.listing(session, actor.user_id)
        lines = [t("convenor.list_header")] if views else [t("convenor.list_none")]
        for v in views:
            group = v.grid_name or v.branch or ""
            lines.append(
                t("convenor.list_line", user=v.telegram_id or "—", name=v.name, group=group)
            )
        lines += ["", t("convenor.usage")]
        await message.answer("\n".join(lines))
        return
    if args[0] == "remove" and len(args) == 2:
        user_id = await convenors.find_member(session, args[1])
        await convenors.dismiss(app, session, actor.user_id, user_id)
        await message.answer(t("convenor.dismissed", user=args[1]))
        return
    if len(args) != 2 or args[1] not in convenors.SCOPES:
        raise UserError("convenor.usage")
    user_id = await convenors.find_member(session, args[0])
    view = await convenors.appoint(app, session, actor.user_id, user_id, args[1])
    await message.answer(
        t("convenor.appointed_staff", name=view.name, group=view.grid_name or view.branch or "")
    )


async def batches_command(
    message: Message, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    views = await batches.forwarded(session, actor.user_id)
    if not views:
        await message.answer(t("convenor.batches_none"))
        return
    for view in views[:BATCHES_SHOWN]:
        text, markup = cards.batch_card(t, view)
        await message.answer(text, reply_markup=markup)
    if len(views) > BATCHES_SHOWN:
        await message.answer(t("reports.more", n=len(views) - BATCHES_SHOWN))


async def convene_command(
    message: Message, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    items = await batches.waiting(session, actor.user_id)
    text, markup = cards.waiting_card(t, items)
    await message.answer(text, reply_markup=markup)


async def forward_pressed(
    query: CallbackQuery, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    items = await batches.waiting(session, actor.user_id)  # refuses a non-convenor kindly
    if not items:
        raise UserError("convenor.nothing_waiting")
    await query.answer()
    await state.set_state(ConveneForm.summary)
    if query.message is not None:
        await query.message.answer(t("convenor.summary_ask", n=len(items)))


async def summary_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if await command_in_form(message, t):
        return
    key = await once.start(message, session, app, t, actor.user_id)
    if key is None:
        return
    try:
        view = await batches.forward(app, session, actor.user_id, message.text or "")
    except UserError as err:
        if err.key != "declare.text_invalid":
            await state.clear()
        raise
    await state.clear()
    answer = t("convenor.forwarded", id=view.id, n=len(view.items))
    await once.remember(session, key, answer)
    await message.answer(answer)


async def batch_pressed(
    query: CallbackQuery,
    callback_data: BatchCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action, batch_id = callback_data.action, callback_data.batch_id
    if action in ("no", "ret"):
        await batches.batch_view(session, batch_id)  # an unknown batch: refused here
        await query.answer()
        await state.set_state(BatchReason.reason)
        await state.set_data({"action": action, "batch_id": batch_id, "item": callback_data.item})
        if query.message is not None:
            await query.message.answer(t(f"convenor.reason_ask_{action}"))
        return
    if action not in ("all", "ok"):
        raise UserError("errors.stale_button")
    key = once.key_of(query)
    once.arm(session, key, actor.user_id)
    if action == "all":
        view = await batches.approve_all(app, session, actor.user_id, batch_id)
        answer = t("convenor.all_done", id=batch_id)
    else:
        view = await batches.decide_item(
            app, session, actor.user_id, batch_id, callback_data.item, approve=True
        )
        answer = t("convenor.item_done", id=callback_data.item)
    await once.remember(session, key, answer)
    await query.answer(answer)
    text, markup = cards.batch_card(t, view)
    await _replace(query, text, markup)


async def reason_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if await command_in_form(message, t):
        return
    data = await state.get_data()
    batch_id, item = int(data["batch_id"]), int(data.get("item", 0))
    text = message.text or ""
    try:
        if data.get("action") == "ret":
            view = await batches.return_batch(app, session, actor.user_id, batch_id, text)
            answer = t("convenor.returned_staff", id=batch_id)
        else:
            view = await batches.decide_item(
                app, session, actor.user_id, batch_id, item, approve=False, reason=text
            )
            answer = t("declare.rejected_staff", id=item)
    except UserError as err:
        if err.key != "declare.text_invalid":
            await state.clear()
        raise
    await state.clear()
    card, markup = cards.batch_card(t, view)  # the batch as it is now, with what is left
    await message.answer(f"{answer}\n\n{card}", reply_markup=markup)
