"""三张清单 in the bot, for staff: the resources list (/resources, /resource, /addresource,
/editresource) and the projects list (/projects, /project, /newproject, /milestone,
/projectlink). Adding is one line with "|" between the fields; the usage says which."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.lists import projects, resources
from bot.services.people.actors import Actor
from bot.services.reports import evaluations
from bot.services.reports.projects import project_lines
from bot.tg import list_cards as cards
from bot.tg import once
from bot.tg.callbacks_lists import ProjectCb, ResourceCb
from bot.tg.filters import PrivateChat

MESSAGE_LINES = 30


def router() -> Router:
    r = Router(name="staff.lists")
    r.message.filter(PrivateChat())
    r.message.register(resources_command, Command("resources"))
    r.message.register(resource_command, Command("resource"))
    r.message.register(add_resource, Command("addresource"))
    r.message.register(edit_resource, Command("editresource"))
    r.callback_query.register(resource_pressed, ResourceCb.filter())
    r.message.register(projects_command, Command("projects"))
    r.message.register(project_command, Command("project"))
    r.message.register(new_project, Command("newproject"))
    r.message.register(milestone_command, Command("milestone"))
    r.message.register(link_command, Command("projectlink"))
    r.callback_query.register(project_pressed, ProjectCb.filter())
    return r


def _id(text: str, usage: str) -> int:
    value = text.strip().lstrip("#")
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise UserError(usage)
    return int(value)


# --- resources ----------------------------------------------------------------------------


async def resources_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    query = (command.args or "").strip()
    found = await resources.search_for_staff(app, session, actor.user_id, query)
    if not found:
        key = "resources.none_found" if query else "resources.none"
        await message.answer(f"{t(key, query=query)}\n\n{t('resources.usage')}")
        return
    header = t("resources.found", n=len(found), query=query) if query else t("resources.header")
    lines = [header, *(cards.resource_line(app, t, r) for r in found[:MESSAGE_LINES])]
    await message.answer("\n".join(lines))


async def resource_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    resource_id = _id(command.args or "", "resources.show_usage")
    view = await resources.get(session, actor.user_id, resource_id)
    text, markup = cards.resource_card(app, t, view)
    await message.answer(text, reply_markup=markup)


async def add_resource(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if not (command.args or "").strip():
        await message.answer(t("resources.usage"))
        return
    form = resources.parse_line(app, command.args or "")
    key = await once.start(message, session, app, t, actor.user_id)
    if key is None:
        return
    view = await resources.add(app, session, actor.user_id, form)
    answer = f"{t('resources.added', id=view.id)}\n{cards.resource_line(app, t, view)}"
    await once.remember(session, key, answer)
    await message.answer(answer)


async def edit_resource(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    head, _, line = (command.args or "").strip().partition(" ")
    resource_id = _id(head, "resources.edit_usage")
    if not line.strip():
        raise UserError("resources.edit_usage")
    form = resources.parse_line(app, line)
    view = await resources.edit(app, session, actor.user_id, resource_id, form)
    await message.answer(
        f"{t('resources.edited', id=view.id)}\n{cards.resource_line(app, t, view)}"
    )


async def resource_pressed(
    query: CallbackQuery,
    callback_data: ResourceCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if callback_data.action not in ("on", "off"):
        raise UserError("errors.stale_button")
    view = await resources.set_active(
        app, session, actor.user_id, callback_data.resource_id, callback_data.action == "on"
    )
    await query.answer(t("resources.switched_on" if view.active else "resources.switched_off"))
    text, markup = cards.resource_card(app, t, view)
    if query.message is not None:
        await query.message.edit_text(text, reply_markup=markup)  # type: ignore[union-attr]


# --- projects -----------------------------------------------------------------------------


async def projects_command(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    now = app.now().astimezone(app.settings.tz)
    period = evaluations.month_period(app.settings.tz, now.year, now.month)
    scope = await projects.staff_scope(session, actor.user_id)
    lines = await project_lines(session, scope, period)
    if not lines:
        await message.answer(f"{t('projects.none')}\n\n{t('projects.usage')}")
        return
    text = [t("projects.report_header", period=period.label)]
    text += [cards.project_report_line(t, line) for line in lines[:MESSAGE_LINES]]
    await message.answer("\n".join(text))


async def project_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    project_id = _id(command.args or "", "projects.show_usage")
    views = {v.id: v for v in await projects.listing_for_staff(session, actor.user_id)}
    if project_id not in views:
        raise UserError("projects.unknown")
    text, markup = cards.project_card(app, t, views[project_id])
    await message.answer(text, reply_markup=markup)


async def new_project(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if not (command.args or "").strip():
        await message.answer(t("projects.usage"))
        return
    title, owner, goal = projects.parse_project(command.args or "")
    key = await once.start(message, session, app, t, actor.user_id)
    if key is None:
        return
    view = await projects.create(app, session, actor.user_id, title, owner, goal)
    answer = t("projects.created", id=view.id, title=view.title)
    await once.remember(session, key, answer)
    await message.answer(answer)


async def milestone_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    head, _, line = (command.args or "").strip().partition(" ")
    project_id = _id(head, "projects.milestone_usage")
    title, due = projects.parse_milestone(app, line)
    key = await once.start(message, session, app, t, actor.user_id)
    if key is None:
        return
    view = await projects.add_milestone(app, session, actor.user_id, project_id, title, due)
    answer = t("projects.milestone_added", id=view.id, n=len(view.milestones))
    await once.remember(session, key, answer)
    text, markup = cards.project_card(app, t, view)
    await message.answer(f"{answer}\n\n{text}", reply_markup=markup)


async def link_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    args = (command.args or "").split()
    if len(args) != 3:
        raise UserError("projects.link_usage")
    project_id = _id(args[0], "projects.link_usage")
    object_id = _id(args[2], "projects.link_usage")
    view = await projects.link(app, session, actor.user_id, project_id, args[1], object_id)
    text, markup = cards.project_card(app, t, view)
    await message.answer(f"{t('projects.linked', id=view.id)}\n\n{text}", reply_markup=markup)


async def project_pressed(
    query: CallbackQuery,
    callback_data: ProjectCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    pid = callback_data.project_id
    if callback_data.action == "ms":
        view = await projects.complete_milestone(
            app, session, actor.user_id, pid, callback_data.item
        )
        answer = t("projects.milestone_done")
    elif callback_data.action == "fin":
        view = await projects.finish(app, session, actor.user_id, pid)
        answer = t("projects.finished_now", title=view.title)
    else:
        raise UserError("errors.stale_button")
    await query.answer(answer)
    text, markup = cards.project_card(app, t, view)
    if query.message is not None:
        await query.message.edit_text(text, reply_markup=markup)  # type: ignore[union-attr]
