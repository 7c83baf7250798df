"""Grid group chats (联络群): /linkgroup, /unlinkgroup, Sign up presses; silence otherwise.

In a group the bot answers only its own commands and buttons, and never names anyone: a
Sign up press is answered with a toast only the presser sees.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.outreach import groups, signups
from bot.services.people.actors import ROLE_STAFF, ROLE_VOLUNTEER, Actor
from bot.tg import once
from bot.tg.callbacks_events import EventCb
from bot.tg.filters import GroupChat
from handlers.volunteer.events import signup_toast

log = logging.getLogger(__name__)
CAN_POST = ("creator", "administrator", "member")


class Migrated(Filter):
    """The service message a group leaves behind when it becomes a supergroup."""

    async def __call__(self, message: Message) -> bool:
        return message.migrate_to_chat_id is not None


class JoinPress(Filter):
    async def __call__(self, query: CallbackQuery, callback_data: EventCb) -> bool:
        return callback_data.action == "join"


def router() -> Router:
    r = Router(name="group")
    r.message.filter(GroupChat())
    r.callback_query.filter(GroupChat())
    r.message.register(link, Command("linkgroup"))
    r.message.register(unlink, Command("unlinkgroup"))
    r.message.register(migrated, Migrated())
    r.callback_query.register(join_from_group, EventCb.filter(), JoinPress())
    return r


def quiet_router() -> Router:
    """Goes last: group messages nobody else wanted are ordinary chatter; stay silent."""
    r = Router(name="group.quiet")
    r.message.filter(GroupChat())
    r.message.register(ignore)
    return r


async def ignore(message: Message) -> None:
    return None


async def bot_can_post(bot: Bot, chat_id: int) -> bool:
    try:
        member: Any = await bot.get_chat_member(chat_id, bot.id)
    except TelegramAPIError as exc:
        log.warning("getChatMember failed in chat %s: %s", chat_id, exc)
        return False
    if member.status == "restricted":
        return bool(getattr(member, "can_send_messages", False))
    return member.status in CAN_POST


async def _tell_privately(bot: Bot, actor: Actor, text: str) -> None:
    """When the bot may not post in the group, the staff member hears it in private."""
    try:
        await bot.send_message(actor.telegram_id, text)
    except TelegramAPIError as exc:
        log.info("could not tell user %s privately: %s", actor.user_id, exc)


async def link(
    message: Message,
    command: CommandObject,
    actor: Actor | None,
    t: Translator,
    session: AsyncSession,
    bot: Bot,
) -> None:
    if actor is None or not actor.has(ROLE_STAFF):
        await message.reply(t("groups.staff_only"))
        return
    code = (command.args or "").strip()
    if not code:
        await message.reply(t("groups.usage"))
        return
    if not await bot_can_post(bot, message.chat.id):
        await _tell_privately(bot, actor, t("groups.cannot_post", title=message.chat.title or ""))
        return
    try:
        result = await groups.link_group(session, actor.user_id, message.chat.id, code)
    except UserError as err:
        await message.reply(t(err.key, **err.params))
        return
    text = t("groups.linked", grid=result.grid_name)
    if result.previous_grid_code:
        text += "\n" + t("groups.moved", code=result.previous_grid_code)
    if result.replaced_chat_id:
        text += "\n" + t("groups.replaced")
    await message.reply(text)


async def unlink(
    message: Message, actor: Actor | None, t: Translator, session: AsyncSession
) -> None:
    if actor is None or not actor.has(ROLE_STAFF):
        await message.reply(t("groups.staff_only"))
        return
    try:
        code = await groups.unlink_group(session, actor.user_id, message.chat.id)
    except UserError as err:
        await message.reply(t(err.key, **err.params))
        return
    await message.reply(t("groups.unlinked", code=code))


async def migrated(message: Message, session: AsyncSession) -> None:
    assert message.migrate_to_chat_id is not None
    await groups.follow_migration(session, message.chat.id, message.migrate_to_chat_id)


async def join_from_group(
    query: CallbackQuery,
    callback_data: EventCb,
    actor: Actor | None,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """Sign up from the group post: a toast for the presser, details in their private chat."""
    if actor is None or not actor.has(ROLE_VOLUNTEER):
        await query.answer(t("events.group_register_first"), show_alert=True)
        return
    done_key = once.key_of(query)
    once.arm(session, done_key, actor.user_id)
    try:
        state = await signups.sign_up(app, session, callback_data.event_id, actor.user_id)
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    toast = signup_toast(t, state)
    await once.remember(session, done_key, toast)
    await query.answer(toast, show_alert=True)
    params = {"event_id": state.event.id, "status": state.status, "position": state.position}
    await app.notifier.notify(actor.user_id, Notice("events.my_signup", params))
