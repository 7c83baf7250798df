"""Residents file wishes in their own words, confirm what the bot understood, follow them."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import wishes
from bot.services.people.actors import ROLE_RESIDENT, Actor
from bot.services.tasks import thanks
from bot.services.text import visible
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg.callbacks import WishCb
from bot.tg.filters import HasRole, PrivateChat
from bot.tg.fsm_storage import put as fsm_put
from bot.tg.shorten import shorten
from bot.tg.wish_cards import category_name, draft_text, history_text, wish_summary
from handlers.common import welcome_markup
from handlers.resident.suggestions import offer_suggestion
from matching.smalltalk import small_talk
from matching.timewindow import extract_time


class WishDraft(StatesGroup):
    confirm = State()
    time = State()
    details = State()
    photo_caption = State()


def router() -> Router:
    r = Router(name="resident.wishes")
    r.message.filter(PrivateChat())
    r.message.register(wish_command, Command("wish"))
    r.message.register(my_wishes, Command("mywishes"), HasRole(ROLE_RESIDENT))
    r.callback_query.register(draft_action, WishDraft.confirm, WishCb.filter(F.wish_id == 0))
    r.callback_query.register(draft_action, WishDraft.time, WishCb.filter(F.wish_id == 0))
    r.message.register(time_typed, WishDraft.time, F.text)
    r.message.register(details_typed, WishDraft.details, F.text)
    r.message.register(caption_typed, WishDraft.photo_caption, F.text)
    r.callback_query.register(
        wish_action, WishCb.filter(F.action.in_({"open", "cx", "cxy", "add"}))
    )
    r.message.register(in_draft_text, WishDraft.confirm, F.text & ~F.text.startswith("/"))
    r.message.register(plain_text, F.text & ~F.text.startswith("/"))
    r.message.register(photo, F.photo)
    r.message.register(not_text, F.voice | F.sticker | F.audio | F.video_note | F.video)
    return r


async def wish_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if not command.args:
        await message.answer(t("wish.how_to"))
        return
    await start_draft(message, state, actor, t, session, app, command.args)


async def plain_text(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """Any plain text from a resident, outside a form, is a wish (unless it is small talk,
    or reads as a suggestion: then the resident chooses)."""
    if await answer_small_talk(message, actor, t, session, app):
        return
    if await offer_suggestion(message, state, actor, t, message.text or ""):
        return
    await start_draft(message, state, actor, t, session, app, message.text or "")


async def answer_small_talk(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> bool:
    """Thanks, greetings, emoji, chit-chat and junk get a short warm answer, not a wish form.

    Thanks after a finished task are passed on to that task's volunteer."""
    kind = small_talk(visible(message.text or ""))  # invisible-only text is empty, not emoji
    if kind is None:
        return False
    if kind == "thanks" and actor.has(ROLE_RESIDENT):
        wish_id = await thanks.thank_volunteer(app, session, actor.user_id)
        if wish_id is not None:
            await message.answer(t("smalltalk.thanks_passed", id=wish_id))
            return True
    if not actor.roles:
        await message.answer(
            t(f"smalltalk.{kind}") + "\n\n" + t("start.register_first"),
            reply_markup=welcome_markup(t),
        )
        return True
    await message.answer(t(f"smalltalk.{kind}"))
    return True


async def in_draft_text(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """A new text while a card waits: replace the draft with the new words (nothing is lost).

    Small talk ("好的", "谢谢") gets its answer and leaves the waiting card as it is."""
    if await answer_small_talk(message, actor, t, session, app):
        return
    if await offer_suggestion(message, state, actor, t, message.text or ""):
        return
    await start_draft(message, state, actor, t, session, app, message.text or "")


async def photo(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    assert message.photo is not None
    file_id = message.photo[-1].file_id
    if message.caption:
        await start_draft(
            message, state, actor, t, session, app, message.caption, photo_file_id=file_id
        )
        return
    await state.set_state(WishDraft.photo_caption)
    await state.update_data(photo_file_id=file_id)
    await message.answer(t("wish.photo_needs_words"))


async def caption_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    await start_draft(
        message,
        state,
        actor,
        t,
        session,
        app,
        message.text or "",
        photo_file_id=data.get("photo_file_id"),
    )


async def not_text(message: Message, t: Translator) -> None:
    await message.answer(t("wish.text_please"))


async def start_draft(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    text: str,
    *,
    photo_file_id: str | None = None,
) -> None:
    if not actor.has(ROLE_RESIDENT):
        if actor.roles - {ROLE_RESIDENT}:
            # Staff and volunteers may also be residents; tell them how, keep the text.
            await wishes.keep_pending(session, actor.user_id, text, photo_file_id)
            await message.answer(t("wish.register_resident_first"), reply_markup=welcome_markup(t))
            return
        await wishes.keep_pending(session, actor.user_id, text, photo_file_id)
        await message.answer(t("wish.kept_register_first"), reply_markup=welcome_markup(t))
        return
    try:
        draft = await wishes.draft_wish(
            app, session, actor.user_id, text, photo_file_id=photo_file_id
        )
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await fsm_put(state, WishDraft.confirm, {"draft": draft.to_dict()})
    if draft.duplicate_of is not None:
        await message.answer(
            t("wish.duplicate", id=draft.duplicate_of),
            reply_markup=kb.rows(
                [
                    kb.button(
                        t("wish.add_to", id=draft.duplicate_of),
                        WishCb(action="dup", wish_id=0, arg=str(draft.duplicate_of)).pack(),
                    )
                ],
                [kb.button(t("wish.file_new"), WishCb(action="new", wish_id=0).pack())],
                [kb.button(t("common.cancel"), WishCb(action="drop", wish_id=0).pack())],
            ),
        )
        return
    if draft.confidence < app.settings.categories.confidence_threshold:
        await message.answer(
            t("wish.which_category"), reply_markup=category_choices(t, app, draft, all_=False)
        )
        return
    await show_draft(message, t, app, draft.to_dict())


def category_choices(
    t: Translator, app: AppContext, draft: wishes.Draft | dict[str, object], *, all_: bool
) -> kb.InlineKeyboardMarkup:
    d = draft.to_dict() if isinstance(draft, wishes.Draft) else draft
    alternatives = d.get("alternatives") or []
    assert isinstance(alternatives, list | tuple)
    ids: list[str] = [str(d["category"]), *[str(a) for a in alternatives]]
    if all_:
        ids = app.settings.categories.ids
    buttons = [
        kb.button(category_name(app, t, c), WishCb(action="setcat", wish_id=0, arg=c).pack())
        for c in ids
    ]
    grid = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if not all_:
        grid.append(
            [kb.button(t("wish.all_categories"), WishCb(action="allcat", wish_id=0).pack())]
        )
    return kb.rows(*grid)


def draft_markup(t: Translator) -> kb.InlineKeyboardMarkup:
    return kb.rows(
        [kb.button(t("wish.confirm"), WishCb(action="ok", wish_id=0).pack())],
        [
            kb.button(t("wish.change_category"), WishCb(action="chcat", wish_id=0).pack()),
            kb.button(t("wish.change_time"), WishCb(action="chtime", wish_id=0).pack()),
        ],
        [kb.button(t("common.cancel"), WishCb(action="drop", wish_id=0).pack())],
    )


async def show_draft(
    message: Message, t: Translator, app: AppContext, draft: dict[str, object]
) -> None:
    await message.answer(draft_text(app, t, draft), reply_markup=draft_markup(t))


def time_choices(t: Translator) -> kb.InlineKeyboardMarkup:
    options = ["today", "tomorrow", "weekend", "nextweek", "flex"]
    return kb.rows(
        *[
            [kb.button(t(f"wish.time_{o}"), WishCb(action="settime", wish_id=0, arg=o).pack())]
            for o in options
        ]
    )


def preset_window(app: AppContext, preset: str) -> tuple[datetime | None, datetime | None]:
    now = app.now().astimezone(app.settings.tz)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if preset == "today":
        return now, midnight + timedelta(days=1)
    if preset == "tomorrow":
        return midnight + timedelta(days=1), midnight + timedelta(days=2)
    if preset == "weekend":
        saturday = midnight + timedelta(days=(5 - now.weekday()) % 7)
        if now.weekday() == 6:
            saturday = midnight - timedelta(days=1)
        return max(saturday, now), saturday + timedelta(days=2)
    if preset == "nextweek":
        monday = midnight + timedelta(days=7 - now.weekday())
        return monday, monday + timedelta(days=7)
    return None, None


async def draft_action(
    query: CallbackQuery,
    callback_data: WishCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action = callback_data.action
    done_key = once.key_of(query)
    data = await state.get_data()
    draft = data.get("draft")
    message = query.message
    if not draft or message is None:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    if action != "ok":  # a confirm is answered once filed: a racing second press hears it too
        await query.answer()
    if action == "drop":
        await state.clear()
        await message.edit_text(t("wish.dropped"))  # type: ignore[union-attr]
    elif action == "ok":
        # The key commits with the wish, before anyone is notified: a second press files nothing.
        once.arm(session, done_key, actor.user_id)
        wish = await wishes.file_wish(app, session, actor.user_id, wishes.Draft.from_dict(draft))
        await state.clear()
        key = "wish.filed_auto" if wish.status == "approved" else "wish.filed"
        filed = t(key, id=wish.id, category=category_name(app, t, wish.category))
        await once.remember(session, done_key, filed)
        try:  # the card first, the query last: if the worker dies in between, the query is
            # still unanswered and the redelivered press hears the stored words as a toast
            await message.edit_text(filed)  # type: ignore[union-attr]
        finally:
            await query.answer()
    elif action == "chcat":
        await message.edit_reply_markup(reply_markup=category_choices(t, app, draft, all_=False))  # type: ignore[union-attr]
    elif action == "allcat":
        await message.edit_reply_markup(reply_markup=category_choices(t, app, draft, all_=True))  # type: ignore[union-attr]
    elif action == "setcat":
        if app.settings.categories.get(callback_data.arg) is None:
            return
        draft["category"] = callback_data.arg
        draft["confidence"] = 1.0
        await state.update_data(draft=draft)
        await message.edit_text(  # type: ignore[union-attr]
            draft_text(app, t, draft), reply_markup=draft_markup(t)
        )
    elif action == "chtime":
        await state.set_state(WishDraft.time)
        await message.answer(t("wish.time_ask"), reply_markup=time_choices(t))
    elif action == "settime":
        start, end = preset_window(app, callback_data.arg)
        draft["time_start"] = start.isoformat() if start else None
        draft["time_end"] = end.isoformat() if end else None
        await state.set_state(WishDraft.confirm)
        await state.update_data(draft=draft)
        await show_draft(message, t, app, draft)  # type: ignore[arg-type]
    elif action == "dup":
        wish = await wishes.add_details(
            app, session, actor.user_id, int(callback_data.arg), str(draft["text"])
        )
        await state.clear()
        await message.edit_text(t("wish.details_added", id=wish.id))  # type: ignore[union-attr]
    elif action == "new":
        draft["duplicate_of"] = None
        await state.update_data(draft=draft)
        await show_draft(message, t, app, draft)  # type: ignore[arg-type]


async def time_typed(message: Message, state: FSMContext, t: Translator, app: AppContext) -> None:
    info = extract_time(message.text or "", app.now().astimezone(app.settings.tz))
    if info.start is None:
        await message.answer(t("wish.time_not_understood"), reply_markup=time_choices(t))
        return
    data = await state.get_data()
    draft = data["draft"]
    draft["time_start"] = info.start.isoformat()
    draft["time_end"] = info.end.isoformat() if info.end else None
    draft["urgent"] = bool(draft.get("urgent")) or info.urgent
    await state.set_state(WishDraft.confirm)
    await state.update_data(draft=draft)
    await show_draft(message, t, app, draft)


async def my_wishes(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    items = await wishes.resident_wishes(session, actor.user_id)
    if not items:
        await message.answer(t("wish.none_yet"))
        return
    lines = [t("wish.mine_header")]
    buttons = []
    for w in items:
        lines.append(
            t(
                "wish.mine_line",
                id=w.id,
                status=t(f"status.wish.{w.status}"),
                text=shorten(w.text, 30),
            )
        )
        buttons.append(
            [
                kb.button(
                    f"#{w.id} {shorten(w.text, 16)}", WishCb(action="open", wish_id=w.id).pack()
                )
            ]
        )
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons[:10]))


def resident_buttons(t: Translator, wish_id: int, status: str) -> kb.InlineKeyboardMarkup | None:
    from bot.services.intake.wish_states import CANCELLABLE, TERMINAL

    row = []
    if status not in TERMINAL:
        row.append(kb.button(t("wish.add_details"), WishCb(action="add", wish_id=wish_id).pack()))
    if status in CANCELLABLE:
        row.append(kb.button(t("wish.cancel_wish"), WishCb(action="cx", wish_id=wish_id).pack()))
    return kb.rows(row) if row else None


async def wish_action(
    query: CallbackQuery,
    callback_data: WishCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    wish = await wishes.own_wish(session, actor.user_id, callback_data.wish_id)
    await query.answer()
    if message is None:
        return
    if callback_data.action == "open":
        text = wish_summary(app, t, wish, unmasked=True) + "\n\n" + history_text(app, t, wish)
        await message.answer(text, reply_markup=resident_buttons(t, wish.id, wish.status))
    elif callback_data.action == "cx":
        await message.answer(
            t("wish.cancel_confirm", id=wish.id),
            reply_markup=kb.rows(
                [kb.button(t("wish.cancel_yes"), WishCb(action="cxy", wish_id=wish.id).pack())]
            ),
        )
    elif callback_data.action == "cxy":
        await wishes.cancel_wish(app, session, actor.user_id, wish.id)
        await message.edit_text(t("wish.cancelled", id=wish.id))  # type: ignore[union-attr]
    elif callback_data.action == "add":
        await state.set_state(WishDraft.details)
        await state.set_data({"details_for": wish.id})
        await message.answer(t("wish.details_ask", id=wish.id))


async def details_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    try:
        wish = await wishes.add_details(
            app, session, actor.user_id, int(data["details_for"]), message.text or ""
        )
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    await message.answer(t("wish.details_added", id=wish.id))


async def resume_pending(
    message: Message,
    user_id: int,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    state: FSMContext,
) -> None:
    """After registration: the wish they wrote before is picked up where they left it."""
    resumed = await wishes.resume_pending(session, user_id)
    if resumed is None:
        return
    await message.answer(t("wish.resuming"))
    await start_draft(
        message,
        state,
        resumed.actor,
        t,
        session,
        app,
        resumed.text,
        photo_file_id=resumed.photo_file_id,
    )
