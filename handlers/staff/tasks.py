"""Staff: verify finished tasks (社区核实), settle disputes, ask why a wish went to whom."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services import authz
from bot.services.context import AppContext
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.services.tasks import lifecycle, why
from bot.tg import once
from bot.tg.callbacks_tasks import StaffTaskCb
from bot.tg.filters import HasRole, PrivateChat

COMPONENT_ORDER = (
    "skill",
    "specialty",
    "availability",
    "nearness",
    "load",
    "fairness",
    "reliability",
    "duty",
    "newcomer",
)


def router() -> Router:
    r = Router(name="staff.tasks")
    r.callback_query.filter(HasRole(ROLE_STAFF))
    r.callback_query.register(pressed, StaffTaskCb.filter())
    r.message.register(why_command, Command("why"), PrivateChat(), HasRole(ROLE_STAFF))
    return r


async def pressed(
    query: CallbackQuery,
    callback_data: StaffTaskCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action, wish_id = callback_data.action, callback_data.wish_id
    message = query.message
    if action == "why":
        await query.answer()
        if message is not None:
            await message.answer(await why_text(app, session, t, wish_id, None))
        return
    done_key = once.key_of(query)
    once.arm(session, done_key, actor.user_id)
    if action == "verify":
        await lifecycle.verify(app, session, wish_id, actor.user_id)
        key = "staff.verified"
    else:
        await lifecycle.resolve_dispute(app, session, wish_id, actor.user_id, action)
        key = f"staff.dispute_{action}_done"
    answer = t(key, id=wish_id)
    await once.remember(session, done_key, answer)
    await query.answer()
    if message is not None:
        await message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await message.answer(answer)


def _breakdown(t: Translator, breakdown: dict[str, float]) -> str:
    parts = [f"{t(f'why.{k}')} {breakdown[k]:.2f}" for k in COMPONENT_ORDER if k in breakdown]
    return "，".join(parts)


async def why_text(
    app: AppContext, session: AsyncSession, t: Translator, wish_id: int, name: str | None
) -> str:
    report = await why.why_report(app, session, wish_id, name)
    if report.unknown_name:
        return t("why.unknown_volunteer", name=name)
    found, explained, names = report.offers, report.explained, report.names
    lines = [t("why.header", id=wish_id)] if found else [t("why.no_offers", id=wish_id)]
    for offer in found:
        lines.append(
            t(
                "why.offer_line",
                round=offer.round,
                name=names.get(offer.volunteer_id, "?"),
                score=f"{offer.score:.2f}",
                status=t(f"why.status_{offer.status}"),
                parts=_breakdown(t, offer.breakdown),
            )
        )
    if name:
        if explained is None:
            lines.append(t("why.not_in_pool", name=name))
        elif explained.eligible:
            lines.append(
                t(
                    "why.eligible",
                    name=name,
                    score=f"{explained.score:.2f}",
                    parts=_breakdown(t, explained.breakdown),
                )
            )
        else:
            lines.append(t("why.ineligible", name=name, reason=t(f"why.reason_{explained.reason}")))
    return "\n".join(lines)


async def why_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    args = (command.args or "").split(maxsplit=1)
    if not args or not args[0].lstrip("#").isdigit() or len(args[0]) > 9:
        await message.answer(t("why.usage"))
        return
    if not await authz.staff_may_see_wish(session, actor.user_id, int(args[0].lstrip("#"))):
        await message.answer(t("authz.denied"))  # another grid's wish (bot/tg/policy.py)
        return
    await message.answer(
        await why_text(
            app, session, t, int(args[0].lstrip("#")), args[1] if len(args) > 1 else None
        )
    )
