"""Staff side of standing posts: /newpost, the posts of their scope, ending a term, and the
vacancies broadcast (through the broadcast service)."""

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
from bot.services.people import grids
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.services.posts import posts
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg import patrol_cards as cards
from bot.tg.callbacks import GridCb
from bot.tg.callbacks_patrols import PostFormCb, PostStaffCb
from bot.tg.filters import HasRole, PrivateChat, TypedText
from handlers import forms


class NewPost(StatesGroup):
    kind = State()
    title = State()
    grid = State()
    duties = State()


def router() -> Router:
    r = Router(name="staff.posts")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.message.register(staff_posts, Command("posts"))
    r.message.register(new_post, Command("newpost"))
    text = TypedText()
    r.message.register(title_typed, NewPost.title, text)
    r.callback_query.register(grid_pick, NewPost.grid, GridCb.filter())
    r.message.register(forms.grid_typed, NewPost.grid, text)
    r.message.register(duties_typed, NewPost.duties, text)
    r.message.register(use_buttons, NewPost.kind)
    for in_words in (NewPost.title, NewPost.grid, NewPost.duties):
        r.message.register(answer_in_words, in_words)
    r.callback_query.register(form_choice, PostFormCb.filter())
    r.callback_query.register(staff_action, PostStaffCb.filter())
    return r


async def use_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons"))


async def answer_in_words(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons_or_text"))


async def staff_posts(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    listed = await posts.list_posts(app, session, actor.user_id, staff=True)
    broadcast = kb.button(t("posts.staff.broadcast"), PostStaffCb(action="bc", post_id=0).pack())
    if not listed:
        await message.answer(t("posts.staff.none"))
        return
    lines, buttons = [t("posts.staff.list_head")], []
    for post in listed:
        lines.append(
            t(
                "posts.list_line",
                id=post.id,
                title=post.title,
                kind=t(f"posts.kind.{post.kind}"),
                state=cards.post_state(app, t, post, None, staff=True),
            )
        )
        data = PostStaffCb(action="card", post_id=post.id).pack()
        buttons.append([kb.button(f"#{post.id} {post.title}", data)])
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons, [broadcast]))


async def staff_action(
    query: CallbackQuery,
    callback_data: PostStaffCb,
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
        if action == "card":
            post = await posts.staff_post(app, session, uid, post_id)
            reports = await posts.recent_reports(session, post_id)
            await query.answer()
            lines = [cards.post_text(app, t, post, None, staff=True)]
            lines += [t("posts.staff.report_line", month=m, text=r) for m, r in reports]
            await message.answer("\n".join(lines), reply_markup=cards.staff_post_markup(t, post))
        elif action == "end":
            post = await posts.staff_post(app, session, uid, post_id)
            await query.answer()
            yes = PostStaffCb(action="endy", post_id=post_id).pack()
            await message.answer(
                t("posts.staff.end_term_ask", name=post.holder_name or "—", title=post.title),
                reply_markup=kb.rows([kb.button(t("posts.staff.end_term_yes"), yes)]),
            )
        elif action == "endy":
            post = await posts.give_back(app, session, uid, post_id, staff=True)
            await query.answer()
            await message.edit_text(t("posts.staff.term_ended", title=post.title))
        elif action == "bc":
            count, reached = await posts.broadcast_vacancies(app, session, uid)
            await query.answer()
            await message.answer(t("posts.staff.broadcast_done", posts=count, volunteers=reached))
        else:
            await query.answer(t("errors.stale_button"), show_alert=True)
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)


# --- /newpost ---------------------------------------------------------------------------------


async def new_post(message: Message, state: FSMContext, t: Translator) -> None:
    await state.clear()
    await state.set_state(NewPost.kind)
    buttons = [
        [kb.button(t(f"posts.kind.{kind}"), PostFormCb(field="kind", value=kind).pack())]
        for kind in posts.KINDS
    ]
    await message.answer(t("posts.staff.kind_ask"), reply_markup=kb.rows(*buttons))


async def title_typed(
    message: Message, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    try:
        title = posts.clean(message.text or "", posts.TITLE_MAX)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.update_data(title=title)
    if actor.staff_grid_id is not None:
        await _ask_duties(message, state, t, actor.staff_grid_id)
        return
    await state.set_state(NewPost.grid)
    options = await grids.active_grids(session)
    whole = kb.button(t("posts.staff.whole_community"), PostFormCb(field="grid", value="0").pack())
    markup = kb.grid_page(t, options, 0)
    markup.inline_keyboard.append([whole])
    await message.answer(t("posts.staff.grid_ask"), reply_markup=markup)


async def grid_pick(
    query: CallbackQuery,
    callback_data: GridCb,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
) -> None:
    grid = await forms.grid_pressed(query, callback_data, t, session)
    if grid is not None and isinstance(query.message, Message):
        await _ask_duties(query.message, state, t, grid.id)


async def _ask_duties(
    message: Message, state: FSMContext, t: Translator, grid_id: int | None
) -> None:
    await state.update_data(grid_id=grid_id)
    await state.set_state(NewPost.duties)
    skip = PostFormCb(field="go", value="yes").pack()
    await message.answer(
        t("posts.staff.duties_ask"), reply_markup=kb.rows([kb.button(t("common.skip"), skip)])
    )


async def duties_typed(
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
    answer = await _create(message, state, actor, t, session, app, message.text or "")
    if answer is not None:
        await once.remember(session, done_key, answer)


async def _create(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    duties: str,
) -> str | None:
    data = await state.get_data()
    grid_id = data.get("grid_id")
    try:
        post = await posts.create_post(
            app,
            session,
            actor.user_id,
            kind=str(data.get("kind")),
            title=str(data.get("title")),
            grid_id=int(grid_id) if grid_id else None,
            duties=duties,
        )
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        if err.key != "posts.text_length":
            await state.clear()
        return None
    await state.clear()
    answer = t("posts.staff.created", id=post.id, title=post.title)
    broadcast = kb.button(t("posts.staff.broadcast"), PostStaffCb(action="bc", post_id=0).pack())
    await message.answer(answer, reply_markup=kb.rows([broadcast]))
    return answer


async def form_choice(
    query: CallbackQuery,
    callback_data: PostFormCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    expected = {"kind": NewPost.kind, "grid": NewPost.grid, "go": NewPost.duties}
    message = await forms.step_message(query, state, t, expected.get(callback_data.field))
    if message is None:
        return
    field, value = callback_data.field, callback_data.value
    if field == "kind" and value not in posts.KINDS:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    if field == "go":  # skip the duties: create it now (keyed: a double tap creates one)
        done_key = once.key_of(query)
        once.arm(session, done_key, actor.user_id)
        answer = await _create(message, state, actor, t, session, app, "")
        if answer is not None:
            await once.remember(session, done_key, answer)
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    if field == "kind":
        await state.update_data(kind=value)
        await state.set_state(NewPost.title)
        await message.answer(t("posts.staff.title_ask"))
    else:  # grid "0": the whole community
        await _ask_duties(message, state, t, None)
