"""Staff at an event: the check-in QR code (/checkin), attendance, points and the ratings."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import qr
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import checkin, events, ratings
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.tg import event_cards as cards
from bot.tg import keyboards as kb
from bot.tg import rating_cards
from bot.tg.callbacks_events import EventStaffCb
from bot.tg.filters import HasRole, PrivateChat
from handlers.volunteer.events import PinArgument


def router() -> Router:
    r = Router(name="staff.event_desk")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.message.register(staff_checkin, Command("checkin"), PinArgument(False))
    r.callback_query.register(staff_action, EventStaffCb.filter())
    return r


async def _reply_error(message: Message, t: Translator, err: UserError) -> None:
    await message.answer(t(err.key, **err.params))


# --- check-in codes, attendance, points ----------------------------------------------------


async def staff_checkin(
    message: Message,
    command: CommandObject,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
) -> None:
    """/checkin: the events to run; /checkin ID: that event's check-in QR code."""
    arg = (command.args or "").strip().lstrip("#")
    if not arg:
        await _event_list(message, t, app, session)
        return
    if not arg.isdigit():
        await message.answer(t("events.staff.checkin_usage"))
        return
    await send_code(message, t, app, session, actor, bot, int(arg))


async def _event_list(
    message: Message, t: Translator, app: AppContext, session: AsyncSession
) -> None:
    listed = await events.staff_events(app, session)
    if not listed:
        await message.answer(t("events.staff.none"))
        return
    lines = [t("events.staff.list_head")]
    buttons = []
    for event in listed:
        when = cards.when_text(app, t, event.starts_at, event.ends_at)
        lines.append(
            t(
                "events.staff.list_line",
                id=event.id,
                title=event.title,
                when=when,
                taken=event.taken,
                slots=event.slots,
            )
        )
        data = EventStaffCb(action="card", event_id=event.id).pack()
        buttons.append([kb.button(f"#{event.id} {event.title}", data)])
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons))


async def send_code(
    message: Message,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    event_id: int,
) -> None:
    try:
        code = await checkin.issue_code(app, session, actor.user_id, event_id)
    except UserError as err:
        await _reply_error(message, t, err)
        return
    me = await bot.me()
    png = qr.png(qr.checkin_link(me.username or "", code.token))
    expires = code.expires_at.astimezone(app.settings.tz)
    caption = t(
        "events.staff.code_caption",
        id=code.event.id,
        title=code.event.title,
        pin=code.pin,
        expires=f"{expires:%H:%M}",
        taken=code.event.taken,
    )

    def act(action: str) -> str:
        return EventStaffCb(action=action, event_id=event_id).pack()

    markup = kb.rows(
        [kb.button(t("events.staff.new_code"), act("rq"))],
        [kb.button(t("events.staff.attendance"), act("att"))],
    )
    photo = BufferedInputFile(png, filename=f"checkin-{event_id}.png")
    await message.answer_photo(photo, caption=caption, reply_markup=markup)


async def staff_action(
    query: CallbackQuery,
    callback_data: EventStaffCb,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    action, event_id = callback_data.action, callback_data.event_id
    try:
        await _staff_action(
            query, message, action, event_id, callback_data.user_id, t, app, session, actor, bot
        )
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)


async def _staff_action(
    query: CallbackQuery,
    message: Message,
    action: str,
    event_id: int,
    user_id: int,
    t: Translator,
    app: AppContext,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
) -> None:
    now = app.now()
    if action == "card":
        event = await events.get_event(session, event_id)
        await query.answer()
        text = f"{cards.event_text(app, t, event)}\n{t('events.staff.status.' + event.status)}"
        await message.answer(text, reply_markup=cards.staff_markup(app, t, event, now))
    elif action in ("qr", "rq"):
        await query.answer()
        if action == "rq":  # the old code keeps working until it expires; its picture goes
            await message.delete()
        await send_code(message, t, app, session, actor, bot, event_id)
    elif action in ("att", "atr", "mk", "um"):
        if action in ("att", "atr"):
            sheet = await checkin.attendance(session, event_id)
        else:
            sheet = await checkin.mark(
                app, session, actor.user_id, event_id, user_id, attended=action == "mk"
            )
        await query.answer()
        text = cards.attendance_text(app, t, sheet)
        markup = cards.attendance_markup(t, sheet, now)
        if action == "att":
            await message.answer(text, reply_markup=markup)
        else:
            await message.edit_text(text, reply_markup=markup)
    elif action == "cf":
        sheet = await checkin.attendance(session, event_id)
        await query.answer()
        options = _yes_or_not_yet(t, event_id, "events.staff.confirm_yes", "cfy", "att")
        await message.answer(
            t("events.staff.confirm_ask", present=sheet.present, points=sheet.event.points),
            reply_markup=options,
        )
    elif action == "cfy":
        sheet, awarded = await checkin.confirm(app, session, actor.user_id, event_id)
        await query.answer()
        await message.edit_text(
            t(
                "events.staff.confirmed",
                title=sheet.event.title,
                present=sheet.present,
                awarded=len(awarded),
                points=sheet.event.points,
            ),
            reply_markup=kb.rows(
                [
                    kb.button(
                        t("events.rating.results_button"),
                        EventStaffCb(action="rt", event_id=event_id).pack(),
                    )
                ]
            ),
        )
    elif action == "rt":
        summary = await ratings.results(session, event_id)
        await query.answer()
        await message.answer(rating_cards.results_text(t, summary))
    elif action == "off":
        await query.answer()
        options = _yes_or_not_yet(t, event_id, "events.staff.call_off_yes", "offy", "card")
        await message.answer(t("events.staff.call_off_ask"), reply_markup=options)
    elif action == "offy":
        event = await events.cancel_event(app, session, actor.user_id, event_id)
        await query.answer()
        await message.edit_text(t("events.staff.called_off", id=event.id, title=event.title))
    else:
        await query.answer(t("errors.stale_button"), show_alert=True)


def _yes_or_not_yet(
    t: Translator, event_id: int, yes_label: str, yes: str, back: str
) -> kb.InlineKeyboardMarkup:
    """The two buttons under a "really?" question: do it, or not yet (back to ``back``)."""
    do_it = EventStaffCb(action=yes, event_id=event_id).pack()
    not_yet = EventStaffCb(action=back, event_id=event_id).pack()
    return kb.rows([kb.button(t(yes_label), do_it), kb.button(t("events.staff.not_yet"), not_yet)])
