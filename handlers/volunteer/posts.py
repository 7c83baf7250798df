"""Members' side of standing posts: /posts (their own and the vacant ones), claim, the monthly
check-in with a short report, give a post back."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import Actor
from bot.services.posts import posts
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg import patrol_cards as cards
from bot.tg.callbacks_patrols import PostCb
from bot.tg.filters import PrivateChat, TypedText


class PostReport(StatesGroup):
    text = State()


def router() -> Router:
    r = Router(name="volunteer.posts")
    r.message.filter(PrivateChat())
    r.callback_query.filter(PrivateChat())
    r.message.register(my_posts, Command("posts"))
    r.callback_query.register(member_action, PostCb.filter())
    r.message.register(report_typed, PostReport.text, TypedText())
    r.message.register(report_in_words, PostReport.text)
    return r


async def report_in_words(message: Message, t: Translator, app: AppContext) -> None:
    await message.answer(t("posts.text_length", max=app.settings.posts.report_max))


async def my_posts(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    try:
        listed = await posts.list_posts(app, session, actor.user_id, staff=False)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    if not listed:
        await message.answer(t("posts.none"))
        return
    lines, buttons = [t("posts.list_head")], []
    for post in listed:
        lines.append(
            t(
                "posts.list_line",
                id=post.id,
                title=post.title,
                kind=t(f"posts.kind.{post.kind}"),
                state=cards.post_state(app, t, post, actor.user_id),
            )
        )
        data = PostCb(action="view", post_id=post.id).pack()
        buttons.append([kb.button(f"#{post.id} {post.title}", data)])
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons))


async def member_action(
    query: CallbackQuery,
    callback_data: PostCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    post_id, action, uid = callback_data.post_id, callback_data.action, actor.user_id
    if not isinstance(message, Message):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    try:
        if action == "view":
            post = await posts.get_post(app, session, post_id)
        elif action == "claim":
            post = await posts.claim(app, session, uid, post_id)
        elif action == "ci":
            post = await posts.get_post(app, session, post_id)
            if post.holder_id != uid:
                raise UserError("posts.not_yours")
            await query.answer()
            await state.set_state(PostReport.text)
            await state.set_data({"post_id": post_id})
            max_len = app.settings.posts.report_max
            await message.answer(t("posts.report_ask", title=post.title, max=max_len))
            return
        elif action == "back":
            post = await posts.get_post(app, session, post_id)
            await query.answer()
            yes = PostCb(action="backy", post_id=post_id).pack()
            await message.answer(
                t("posts.give_back_ask", title=post.title),
                reply_markup=kb.rows([kb.button(t("posts.give_back_yes"), yes)]),
            )
            return
        elif action == "backy":
            post = await posts.give_back(app, session, uid, post_id)
            await query.answer()
            await message.edit_text(t("posts.given_back", title=post.title))
            return
        else:
            await query.answer(t("errors.stale_button"), show_alert=True)
            return
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    await query.answer()
    text = cards.post_text(app, t, post, uid)
    markup = cards.member_markup(t, post, uid)
    if action == "view":
        await message.answer(text, reply_markup=markup)
        return
    await message.edit_text(text, reply_markup=markup)
    if action == "claim":  # the card shows the new state first, then the welcome
        until = post.term_ends_at.astimezone(app.settings.tz) if post.term_ends_at else None
        await message.answer(
            t("posts.claimed", title=post.title, until=f"{until:%Y-%m-%d}" if until else "")
        )


async def report_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    done_key = await once.start(message, session, app, t, actor.user_id)
    if done_key is None:
        return
    post_id = int((await state.get_data()).get("post_id") or 0)
    try:
        done = await posts.check_in(app, session, actor.user_id, post_id, message.text or "")
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        if err.key != "posts.text_length":
            await state.clear()
        return
    await state.clear()
    if done.points > 0:
        answer = t("posts.checked_in", month=done.month, title=done.post.title, points=done.points)
    else:
        answer = t("posts.checked_in_no_points", month=done.month, title=done.post.title)
    await once.remember(session, done_key, answer)
    await message.answer(answer)
