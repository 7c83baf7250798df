"""Volunteers: the points passbook (/points), leaderboards (/rank), the rewards shop (/shop)
and declarations of service done outside the bot (/declare)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import ROLE_STAFF, ROLE_VOLUNTEER, Actor
from bot.services.points import declarations, leaderboard, ledger, passbook, shop
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg.callbacks_points import DeclareFormCb, PassbookCb, RankCb, ShopCb
from bot.tg.filters import HasRole, PrivateChat


class DeclareForm(StatesGroup):
    what = State()
    when = State()
    note = State()
    photo = State()
    confirm = State()


def router() -> Router:
    r = Router(name="volunteer.points")
    # Staff may look at the leaderboard too; the services refuse the rest to non-volunteers.
    r.message.filter(PrivateChat(), HasRole(ROLE_VOLUNTEER, ROLE_STAFF))
    r.callback_query.filter(HasRole(ROLE_VOLUNTEER, ROLE_STAFF))
    r.message.register(show_passbook, Command("points"))
    r.callback_query.register(passbook_pressed, PassbookCb.filter())
    r.message.register(show_rank, Command("rank"))
    r.callback_query.register(rank_pressed, RankCb.filter())
    r.message.register(show_shop, Command("shop"))
    r.callback_query.register(shop_pressed, ShopCb.filter())
    r.message.register(declare_begin, Command("declare"))
    r.message.register(declare_what, DeclareForm.what, F.text)
    r.message.register(declare_when, DeclareForm.when, F.text)
    r.message.register(declare_note, DeclareForm.note, F.text)
    r.message.register(declare_photo, DeclareForm.photo, F.photo)
    r.callback_query.register(declare_pressed, DeclareFormCb.filter())
    r.message.register(use_the_buttons, DeclareForm.photo)
    r.message.register(use_the_buttons, DeclareForm.confirm)
    return r


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if query.message is not None:
        await query.message.edit_text(text, reply_markup=markup)  # type: ignore[union-attr]


def _in_form(message: Message) -> bool:
    """A command typed in the middle of a form is not an answer."""
    return (message.text or "").startswith("/")


# --- passbook ----------------------------------------------------------------------------------


def passbook_text(app: AppContext, t: Translator, book: passbook.Passbook) -> str:
    held = t("points.passbook_held", held=book.held) if book.held else ""
    parts = [
        t(
            "points.passbook",
            balance=book.balance,
            held=held,
            month=book.month,
            quarter=book.quarter,
            year=book.year,
            services=book.services_year,
        )
    ]
    if not book.latest:
        parts.append(t("points.passbook_empty"))
        return "\n\n".join(parts)
    tz = app.settings.tz
    lines = [t("points.passbook_latest")]
    for entry in book.latest:
        lines.append(
            t(
                "points.entry_line",
                date=entry.at.astimezone(tz).strftime("%m-%d"),
                amount=f"{entry.amount:+d}",
                kind=t(f"points.kind.{entry.kind}"),
                reason=entry.reason,
            )
        )
    parts.append("\n".join(lines))
    return "\n\n".join(parts)


def passbook_markup(t: Translator, book: passbook.Passbook) -> InlineKeyboardMarkup:
    toggle = (
        kb.button(t("points.button_private"), PassbookCb(action="private").pack())
        if book.public_board
        else kb.button(t("points.button_public"), PassbookCb(action="public").pack())
    )
    return kb.rows(
        [
            kb.button(t("points.button_csv"), PassbookCb(action="csv").pack()),
            kb.button(t("points.button_rank"), PassbookCb(action="rank").pack()),
        ],
        [toggle],
    )


async def show_passbook(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    if not actor.has(ROLE_VOLUNTEER):
        raise UserError("points.volunteers_only")
    book = await passbook.passbook(app, session, actor.user_id)
    await message.answer(passbook_text(app, t, book), reply_markup=passbook_markup(t, book))


async def passbook_pressed(
    query: CallbackQuery,
    callback_data: PassbookCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action = callback_data.action
    if action == "rank":
        await query.answer()
        if query.message is not None:
            text, markup = await rank_view(app, t, session, actor, "grid", "month")
            await query.message.answer(text, reply_markup=markup)
        return
    if action == "csv":
        rows = await passbook.statement(session, actor.user_id)
        data = passbook.statement_csv(app, rows, t)
        await query.answer()
        if query.message is not None:
            day = app.now().astimezone(app.settings.tz).strftime("%Y%m%d")
            await query.message.answer_document(
                BufferedInputFile(data, filename=f"points-{day}.csv"),
                caption=t("points.csv_caption"),
            )
        return
    if action not in ("public", "private"):
        raise UserError("errors.stale_button")
    public = await passbook.set_public_board(session, actor.user_id, action == "public")
    await query.answer(t("points.now_public" if public else "points.now_private"))
    book = await passbook.passbook(app, session, actor.user_id)
    await _edit(query, passbook_text(app, t, book), passbook_markup(t, book))


# --- leaderboard -------------------------------------------------------------------------------


async def rank_view(
    app: AppContext,
    t: Translator,
    session: AsyncSession,
    actor: Actor,
    scope: str,
    period: str,
) -> tuple[str, InlineKeyboardMarkup]:
    board = await leaderboard.leaderboard(
        app,
        session,
        viewer_id=actor.user_id,
        scope=scope,
        period=period,
    )
    start = board.start
    title = t(
        "points.rank_title",
        scope=board.scope_name or t("points.rank_all"),
        period=t(
            f"points.when.{board.period}",
            year=start.year,
            month=start.month,
            quarter=(start.month - 1) // 3 + 1,
        ),
    )
    lines = [title, ""]
    if not board.rows:
        lines.append(t("points.rank_empty"))

    def shown(row: leaderboard.BoardRow) -> str:
        name = row.name if row.name is not None else t("points.rank_anonymous", n=row.user_id)
        return name + (t("points.rank_me_mark") if row.is_viewer else "")

    for row in board.rows:
        lines.append(
            t(
                "points.rank_line",
                place=row.place,
                name=shown(row),
                points=row.points,
                services=row.services,
            )
        )
    lines.append("")
    if board.me is not None:
        lines.append(
            t("points.rank_mine", place=board.me.place, points=board.me.points, total=board.total)
        )
    elif actor.has(ROLE_VOLUNTEER):
        lines.append(t("points.rank_unranked"))
    if not board.viewer_public:
        lines.append(t("points.rank_hidden_note", n=actor.user_id))

    def mark(label: str, on: bool) -> str:
        return f"✅ {label}" if on else label

    scopes = [
        kb.button(
            mark(t(f"points.scope.{s}"), s == board.scope), RankCb(scope=s, period=period).pack()
        )
        for s in ledger.BOARD_SCOPES
    ]
    periods = [
        kb.button(
            mark(t(f"points.period.{p}"), p == board.period),
            RankCb(scope=board.scope, period=p).pack(),
        )
        for p in ledger.BOARD_PERIODS
    ]
    return "\n".join(lines).strip(), kb.rows(scopes, periods)


async def show_rank(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    text, markup = await rank_view(app, t, session, actor, "grid", "month")
    await message.answer(text, reply_markup=markup)


async def rank_pressed(
    query: CallbackQuery,
    callback_data: RankCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    text, markup = await rank_view(
        app, t, session, actor, callback_data.scope, callback_data.period
    )
    await query.answer()
    await _edit(query, text, markup)


# --- shop ---------------------------------------------------------------------------------------


async def shop_view(
    app: AppContext, t: Translator, session: AsyncSession, actor: Actor
) -> tuple[str, InlineKeyboardMarkup]:
    rewards = await shop.list_rewards(session, for_volunteers=True)
    have = await ledger.balance(session, actor.user_id)
    buttons = [
        [
            kb.button(
                t("shop.item_button", name=r.name, price=r.price, stock=r.stock),
                ShopCb(action="view", id=r.id).pack(),
            )
        ]
        for r in rewards
    ]
    buttons.append([kb.button(t("shop.button_mine"), ShopCb(action="mine").pack())])
    text = t("shop.title", balance=have) if rewards else t("shop.empty")
    return text, kb.rows(*buttons)


async def show_shop(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    if not actor.has(ROLE_VOLUNTEER):
        raise UserError("points.volunteers_only")
    text, markup = await shop_view(app, t, session, actor)
    await message.answer(text, reply_markup=markup)


async def shop_pressed(
    query: CallbackQuery,
    callback_data: ShopCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action, item = callback_data.action, callback_data.id
    back = [kb.button(t("shop.button_back"), ShopCb(action="list").pack())]
    if action == "list":
        text, markup = await shop_view(app, t, session, actor)
    elif action == "view":
        reward = await shop.get_reward(session, item)
        limit = (
            t("shop.limit_some", limit=reward.per_person_limit)
            if reward.per_person_limit
            else t("shop.limit_none")
        )
        text = t(
            "shop.card",
            name=reward.name,
            price=reward.price,
            stock=reward.stock,
            limit=limit,
            place=reward.pickup_place,
            balance=await ledger.balance(session, actor.user_id),
        )
        markup = kb.rows(
            [kb.button(t("shop.button_redeem"), ShopCb(action="buy", id=item).pack())], back
        )
    elif action == "buy":
        # One redemption per press of this card's button, however often the press arrives.
        done_key = once.key_of(query)
        once.arm(session, done_key, actor.user_id)
        got = await shop.redeem(app, session, actor.user_id, item)
        text = t(
            "shop.redeemed",
            price=got.price,
            code=got.code,
            place=got.pickup_place,
            reward=got.reward_name,
        )
        await once.remember(session, done_key, text)
        markup = kb.rows([kb.button(t("shop.button_mine"), ShopCb(action="mine").pack())], back)
    elif action == "mine":
        mine = await shop.my_redemptions(session, actor.user_id)
        lines = [t("shop.mine_title") if mine else t("shop.mine_empty")]
        lines += [
            t(
                "shop.mine_line",
                reward=m.reward_name,
                code=m.code,
                price=m.price,
                place=m.pickup_place,
            )
            for m in mine
        ]
        text = "\n".join(lines)
        cancel_buttons = [
            [
                kb.button(
                    t("shop.button_cancel_redemption", reward=m.reward_name),
                    ShopCb(action="cancel", id=m.id).pack(),
                )
            ]
            for m in mine
        ]
        markup = kb.rows(*cancel_buttons, back)
    elif action == "cancel":
        done = await shop.cancel(app, session, actor.user_id, item)
        text = t("shop.you_cancelled", reward=done.reward_name, points=done.price)
        markup = kb.rows(back)
    else:
        raise UserError("errors.stale_button")
    await query.answer()
    await _edit(query, text, markup)


# --- declarations (党员申报) ------------------------------------------------------------------


def _skip_markup(t: Translator) -> InlineKeyboardMarkup:
    return kb.rows([kb.button(t("declare.button_skip"), DeclareFormCb(action="skip").pack())])


async def declare_begin(message: Message, state: FSMContext, actor: Actor, t: Translator) -> None:
    if not actor.has(ROLE_VOLUNTEER):
        raise UserError("points.volunteers_only")
    await state.set_state(DeclareForm.what)
    await state.set_data({})
    await message.answer(t("declare.ask_what"))


async def _answer(
    message: Message, state: FSMContext, t: Translator, key: str, max_len: int
) -> bool:
    """Store a checked text answer under ``key``; False (and a hint) if it is not one."""
    if _in_form(message):
        await message.answer(t("points.form_in_progress"))
        return False
    try:
        value = declarations.clean(message.text or "", max_len)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return False
    await state.update_data({key: value})
    return True


async def declare_what(message: Message, state: FSMContext, t: Translator) -> None:
    if await _answer(message, state, t, "what", declarations.WHAT_MAX):
        await state.set_state(DeclareForm.when)
        await message.answer(t("declare.ask_when"))


async def declare_when(message: Message, state: FSMContext, t: Translator) -> None:
    if await _answer(message, state, t, "when", declarations.WHEN_MAX):
        await state.set_state(DeclareForm.note)
        await message.answer(t("declare.ask_note"), reply_markup=_skip_markup(t))


async def declare_note(message: Message, state: FSMContext, t: Translator) -> None:
    if await _answer(message, state, t, "note", declarations.NOTE_MAX):
        await state.set_state(DeclareForm.photo)
        await message.answer(t("declare.ask_photo"), reply_markup=_skip_markup(t))


async def declare_photo(message: Message, state: FSMContext, t: Translator) -> None:
    assert message.photo is not None
    await state.update_data(photo=message.photo[-1].file_id)
    await _confirm(message, state, t)


async def _confirm(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(DeclareForm.confirm)
    data = await state.get_data()
    text = t(
        "declare.confirm",
        what=data["what"],
        when=data["when"],
        note=data.get("note") or t("declare.note_none"),
        photo=t("declare.photo_yes" if data.get("photo") else "declare.photo_no"),
    )
    await message.answer(
        text,
        reply_markup=kb.rows(
            [
                kb.button(t("declare.button_send"), DeclareFormCb(action="send").pack()),
                kb.button(t("points.button_cancel"), DeclareFormCb(action="cancel").pack()),
            ]
        ),
    )


async def declare_pressed(
    query: CallbackQuery,
    callback_data: DeclareFormCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    current = await state.get_state()
    action = callback_data.action
    message = query.message
    steps = (DeclareForm.note.state, DeclareForm.photo.state, DeclareForm.confirm.state)
    if message is None or current not in steps:
        raise UserError("errors.stale_button")
    if action == "send" and current == DeclareForm.confirm.state:
        data = await state.get_data()
        form = declarations.DeclarationForm(
            what=data["what"],
            when_text=data["when"],
            note=data.get("note") or "",
            photo_file_id=data.get("photo"),
        )
        done_key = once.key_of(query)
        once.arm(session, done_key, actor.user_id)
        await declarations.submit(app, session, actor.user_id, form)
        await state.clear()
        reply = t("declare.sent")
        await once.remember(session, done_key, reply)
    elif action == "cancel":
        await state.clear()
        reply = t("points.cancelled")
    elif action != "skip" or current == DeclareForm.confirm.state:
        raise UserError("errors.stale_button")
    else:
        reply = ""
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    if reply:
        await message.answer(reply)
    elif current == DeclareForm.note.state:
        await state.set_state(DeclareForm.photo)
        await message.answer(t("declare.ask_photo"), reply_markup=_skip_markup(t))
    else:
        await _confirm(message, state, t)  # type: ignore[arg-type]


async def use_the_buttons(message: Message, state: FSMContext, t: Translator) -> None:
    current = await state.get_state()
    key = "declare.photo_only" if current == DeclareForm.photo.state else "points.form_in_progress"
    await message.answer(t(key))
