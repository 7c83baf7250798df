"""The command menu (setMyCommands): per language by default, per chat once a role is known."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.db.models import User
from bot.i18n import LANGUAGES, Translator
from bot.services.context import AppContext
from bot.services.people import actors

log = logging.getLogger(__name__)

BASE = ["start", "help", "me", "language", "cancel", "delete_me", "myid"]
BY_ROLE: dict[str, list[str]] = {
    actors.ROLE_RESIDENT: ["wish", "mywishes", "suggest", "helper"],
    actors.ROLE_VOLUNTEER: [
        "mytasks",
        "availability",
        "points",
        "rank",
        "shop",
        "declare",
        "events",
        "checkin",
        "patrols",
        "hazard",
        "posts",
        "convene",
    ],
    actors.ROLE_STAFF: [
        "queue",
        "pending",
        "invite",
        "why",
        "broadcast",
        "broadcasts",
        "newevent",
        "checkin",
        "linkgroup",
        "adjust",
        "rewards",
        "handover",
        "evaluation",
        "awards",
        "rates",
        "roster",
        "stats",
        "web",
        "suggestions",
        "forresident",
        "patrols",
        "newpatrol",
        "posts",
        "newpost",
        "patrolstats",
        "convenor",
        "batches",
        "resources",
        "projects",
    ],
}


def commands_for(roles: frozenset[str], lang: str) -> list[BotCommand]:
    t = Translator(lang)
    names = list(BASE)
    for role in (actors.ROLE_RESIDENT, actors.ROLE_VOLUNTEER, actors.ROLE_STAFF):
        if role in roles:
            names += [n for n in BY_ROLE[role] if n not in names]
    return [BotCommand(command=n, description=t(f"commands.{n}")) for n in names]


async def set_default_commands(bot: Bot) -> None:
    for lang in LANGUAGES:
        code = "zh" if lang == "zh-CN" else "en"
        await bot.set_my_commands(commands_for(frozenset(), lang), BotCommandScopeDefault(), code)
    await bot.set_my_commands(commands_for(frozenset(), "zh-CN"), BotCommandScopeDefault())


async def refresh_commands(bot: Bot | None, app: AppContext, user_id: int) -> None:
    """Show a person the commands of their roles, in their language."""
    if bot is None:
        return
    async with app.sessions() as session:
        user = await session.get(User, user_id)
        if user is None or user.telegram_id is None:
            return
        roles, lang, chat_id = actors.roles_of(user), user.language, user.telegram_id
    try:
        await bot.set_my_commands(commands_for(roles, lang), BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as exc:  # a menu is a nicety: never fail the person's action for it
        log.warning("setMyCommands failed for user=%s: %s", user_id, exc)
