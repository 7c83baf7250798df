"""Start, help, language, cancel, profile, erasure; the error handler and the fallback."""

from __future__ import annotations

import contextlib
import functools
import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart, ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ErrorEvent, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.idem import AlreadyDone
from bot.i18n import Translator, catalog
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people import actors, leaving, registration
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg.callbacks import ConfirmDeleteCb, LangCb, RoleCb
from bot.tg.commands import refresh_commands
from bot.tg.filters import PrivateChat

log = logging.getLogger(__name__)


def router() -> Router:
    r = Router(name="common")
    r.message.filter(PrivateChat())
    r.message.register(start_with_code, CommandStart(deep_link=True))
    r.message.register(start, CommandStart())
    r.message.register(help_, Command("help"))
    r.message.register(my_id, Command("myid"))
    r.message.register(language, Command("language"))
    r.callback_query.register(language_chosen, LangCb.filter())
    r.message.register(cancel, Command("cancel"))
    r.message.register(delete_me, Command("delete_me"))
    r.callback_query.register(delete_confirmed, ConfirmDeleteCb.filter())
    return r


def fallback_router() -> Router:
    """Last: anything nobody else wanted gets a hint instead of silence."""
    r = Router(name="fallback")
    r.message.filter(PrivateChat())
    r.message.register(unknown_message)
    r.callback_query.register(stale_button)
    return r


def welcome_markup(t: Translator) -> kb.InlineKeyboardMarkup:
    return kb.rows(
        [kb.button(t("start.as_resident"), RoleCb(role="resident").pack())],
        [kb.button(t("start.as_volunteer"), RoleCb(role="volunteer").pack())],
    )


def welcome_markup_for(t: Translator, actor: Actor) -> kb.InlineKeyboardMarkup | None:
    """The welcome's buttons for someone who may already have registered: only those left."""
    rows = []
    if not actor.has("resident"):
        rows.append([kb.button(t("start.as_resident"), RoleCb(role="resident").pack())])
    if not (actor.has("volunteer") or actor.has("volunteer_pending")):
        rows.append([kb.button(t("start.as_volunteer"), RoleCb(role="volunteer").pack())])
    return kb.rows(*rows) if rows else None


async def redraw_old_welcome(query: CallbackQuery, actor: Actor, t: Translator, key: str) -> None:
    """An old welcome pressed after registering: no second registration, fewer buttons."""
    if isinstance(query.message, Message):
        # Unchanged or too old to edit: the pop-up below says it all.
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=welcome_markup_for(t, actor))
    await query.answer(t(key), show_alert=True)


async def start(
    message: Message, state: FSMContext, actor: Actor, t: Translator, app: AppContext
) -> None:
    await state.clear()
    if not actor.roles:
        await message.answer(
            t("start.welcome", community=app.settings.community.name),
            reply_markup=welcome_markup(t),
        )
        return
    await message.answer(help_text(actor, t), reply_markup=kb.remove_reply_keyboard())


async def start_with_code(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
) -> None:
    payload = command.args or ""
    if payload.startswith("ci_"):  # a scanned check-in QR code (扫码签到)
        from handlers.volunteer.events import start_checkin

        await start_checkin(message, payload.removeprefix("ci_"), actor, t, session, app)
        return
    if payload.startswith("pt_"):  # a patrol shift's check-in QR code (治安巡查)
        from handlers.volunteer.patrols import start_patrol_checkin

        await start_patrol_checkin(message, payload.removeprefix("pt_"), actor, t, session, app)
        return
    if payload.startswith("g_"):  # a grid's poster (民情二维码): grid and building chosen
        from handlers.resident.registration import begin_from_poster

        await begin_from_poster(message, payload, state, actor, t, app, session)
        return
    if not payload.startswith("inv_"):
        await start(message, state, actor, t, app)
        return
    code = payload.removeprefix("inv_")
    try:
        invite = await registration.peek_invite(app, session, code)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    if invite.kind == "staff":
        invite = await registration.redeem_invite(app, session, actor.user_id, code)
        await refresh_commands(message.bot, app, actor.user_id)
        await message.answer(t("invite.staff_welcome"))
        return
    # A volunteer code pre-approves the profile; it is used up when the profile is filed.
    from handlers.volunteer.registration import begin as begin_volunteer

    await begin_volunteer(message, state, t, invite_code=code, grid_id=invite.grid_id)


@functools.cache
def _help_more_keys(lang: str, role: str) -> tuple[str, ...]:
    """The catalog's help_more.<role>.* keys in order (sorted once, not on every /start)."""
    return tuple(k for k in sorted(catalog(lang)) if k.startswith(f"help_more.{role}."))


def help_text(actor: Actor, t: Translator) -> str:
    parts = [t("help.header")]
    if not actor.roles:
        parts.append(t("help.newcomer"))
    if actor.has(actors.ROLE_RESIDENT):
        parts.append(t("help.resident"))
    if actor.has(actors.ROLE_VOLUNTEER):
        parts.append(t("help.volunteer"))
    if actor.has(actors.ROLE_VOLUNTEER_PENDING):
        parts.append(t("help.volunteer_pending"))
    if actor.has(actors.ROLE_STAFF):
        parts.append(t("help.staff"))
    # A feature adds its lines in its own locale file: help_more.<role>.<name> (no edit here).
    roles = sorted(actor.roles & {actors.ROLE_RESIDENT, actors.ROLE_VOLUNTEER, actors.ROLE_STAFF})
    more = [t(key) for role in roles for key in _help_more_keys(t.lang, role)]
    if more:
        parts.append("\n".join(more))
    parts.append(t("help.footer"))
    return "\n\n".join(parts)


async def help_(message: Message, actor: Actor, t: Translator) -> None:
    await message.answer(help_text(actor, t))


async def my_id(message: Message, t: Translator) -> None:
    """Anyone's Telegram id, so an operator can put theirs in staff.admins (private chat only)."""
    assert message.from_user is not None
    await message.answer(t("operator.your_id", telegram_id=message.from_user.id))


async def language(message: Message, t: Translator) -> None:
    await message.answer(t("language.choose"), reply_markup=kb.languages())


async def language_chosen(
    query: CallbackQuery,
    callback_data: LangCb,
    actor: Actor,
    session: AsyncSession,
    app: AppContext,
) -> None:
    code = callback_data.code if callback_data.code in ("zh-CN", "en") else "zh-CN"
    await actors.set_language(session, actor.user_id, code)
    t = Translator(code)
    await query.answer()
    if query.message is not None:
        await query.message.answer(t("language.set"))
    await refresh_commands(query.bot, app, actor.user_id)


async def cancel(message: Message, state: FSMContext, t: Translator) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    await message.answer(
        t("common.cancelled" if had_state else "common.nothing_to_cancel"),
        reply_markup=kb.remove_reply_keyboard(),
    )


async def delete_me(message: Message, t: Translator) -> None:
    await message.answer(
        t("delete.confirm"),
        reply_markup=kb.rows(
            [
                kb.button(t("delete.yes"), ConfirmDeleteCb(yes=True).pack()),
                kb.button(t("delete.no"), ConfirmDeleteCb(yes=False).pack()),
            ]
        ),
    )


async def delete_confirmed(
    query: CallbackQuery,
    callback_data: ConfirmDeleteCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if not callback_data.yes:
        await query.message.edit_text(t("delete.kept"))
        return
    await state.clear()
    await leaving.leave(app, session, actor.user_id)
    await query.message.edit_text(t("delete.done"))


async def unknown_message(message: Message, actor: Actor, t: Translator) -> None:
    if message.text and message.text.startswith("/"):
        await message.answer(t("errors.unknown_command"))
    elif not actor.roles:
        await message.answer(t("start.register_first"), reply_markup=welcome_markup(t))
    else:
        await message.answer(t("errors.not_understood"))


async def stale_button(query: CallbackQuery, t: Translator) -> None:
    await query.answer(t("errors.stale_button"), show_alert=True)


def errors_router() -> Router:
    r = Router(name="errors")
    r.errors.register(user_error, ExceptionTypeFilter(UserError))
    r.errors.register(already_done, ExceptionTypeFilter(AlreadyDone))
    r.errors.register(unexpected_error)
    return r


async def _reply(event: ErrorEvent, text: str) -> None:
    """Tell the person, never silence: a toast on a button press, else a message."""
    update = event.update
    query, message = update.callback_query, update.message
    if query is not None:
        try:
            await query.answer(text, show_alert=True)
            return
        except Exception:  # already answered, or too old: fall back to a message
            message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    try:
        await message.answer(text)
    except Exception:  # the apology itself failed; the error is logged by the caller
        log.warning("could not send the error reply for update %s", update.update_id)


async def user_error(event: ErrorEvent, t: Translator | None = None) -> None:
    exc = event.exception
    assert isinstance(exc, UserError)
    t = t or Translator("zh-CN")
    await _reply(event, t(exc.key, **exc.params))


async def already_done(event: ErrorEvent, app: AppContext, t: Translator | None = None) -> None:
    """A second press raced the first: the first one's answer, nothing done twice."""
    exc = event.exception
    assert isinstance(exc, AlreadyDone)
    update = event.update
    target = update.callback_query or update.message
    if target is None:
        return
    await once.answer_again(target, app, t or Translator("zh-CN"), exc.key)


async def unexpected_error(event: ErrorEvent, t: Translator | None = None) -> None:
    user = event.update.event.from_user if hasattr(event.update.event, "from_user") else None
    log.error(
        "handler failed: update=%s user=%s",
        event.update.update_id,
        getattr(user, "id", None),
        exc_info=event.exception,
    )
    await _reply(event, (t or Translator("zh-CN"))("errors.unexpected"))
