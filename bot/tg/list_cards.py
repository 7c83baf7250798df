"""How the resources list and the projects list look to staff (texts and buttons), and the
one line a wish's review card gets when a resource matches its category."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Wish
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.lists import resources
from bot.services.lists.projects import ProjectView
from bot.services.lists.resources import ResourceView
from bot.services.reports.projects import ProjectLine
from bot.tg import keyboards as kb
from bot.tg.callbacks_lists import ProjectCb, ResourceCb


def _categories(app: AppContext, t: Translator, ids: tuple[str, ...]) -> str:
    names = []
    for cid in ids:
        cat = app.settings.categories.get(cid)
        names.append(cat.name(t.lang) if cat else cid)
    return "、".join(names) or "—"


def resource_line(app: AppContext, t: Translator, r: ResourceView) -> str:
    """One line for staff: the contact is shown (staff only ever see these)."""
    return t(
        "resources.line",
        id=r.id,
        kind=t(f"resources.kind.{r.kind}"),
        title=r.title,
        provider=r.provider,
        available=r.available or "—",
        categories=_categories(app, t, r.categories),
        contact=" ".join(x for x in (r.contact_name, r.contact_phone) if x) or "—",
        off="" if r.active else t("resources.off_mark"),
    )


def resource_card(
    app: AppContext, t: Translator, r: ResourceView
) -> tuple[str, InlineKeyboardMarkup]:
    action, label = ("off", "resources.button_off") if r.active else ("on", "resources.button_on")
    button = kb.button(t(label), ResourceCb(action=action, resource_id=r.id).pack())
    return resource_line(app, t, r), kb.rows([button])


async def resource_hint(session: AsyncSession, app: AppContext, t: Translator, wish: Wish) -> str:
    """ "\\n可用资源：…" on a wish's review card when resources match its category, else ""."""
    found = await resources.suggest_for(session, wish.category, wish.grid_id)
    if not found:
        return ""
    items = "；".join(
        t("resources.hint_item", id=r.id, title=r.title, provider=r.provider) for r in found
    )
    return "\n" + t("resources.hint", items=items)


def _percent(t: Translator, value: float | None) -> str:
    return t("reports.na") if value is None else f"{value * 100:.0f}%"


def project_card(
    app: AppContext, t: Translator, p: ProjectView
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [
        t(
            "projects.card",
            id=p.id,
            title=p.title,
            owner=p.owner,
            goal=p.goal or "—",
            status=t(f"projects.status.{p.status}"),
            progress=_percent(t, p.progress),
        )
    ]
    tz = app.settings.tz
    for m in p.milestones:
        due = m.due_at.astimezone(tz).strftime("%Y-%m-%d") if m.due_at else "—"
        mark = "✅" if m.done_at else "⬜"
        lines.append(t("projects.milestone_line", mark=mark, title=m.title, due=due))
    served = p.wishes_served
    wish_ids = "、".join(f"#{w}" for w, _ in p.wishes) or "—"
    lines.append(t("projects.wishes_line", ids=wish_ids, served=served, n=len(p.wishes)))
    events = "、".join(f"{title}（{at.astimezone(tz):%m-%d}）" for _, title, at in p.events) or "—"
    lines.append(t("projects.events_line", events=events))
    if p.status != "active":
        return "\n".join(lines), None
    rows: list[list[InlineKeyboardButton]] = [
        [
            kb.button(
                t("projects.button_milestone", title=m.title[:20]),
                ProjectCb(action="ms", project_id=p.id, item=m.id).pack(),
            )
        ]
        for m in p.milestones
        if m.done_at is None
    ]
    rows.append(
        [kb.button(t("projects.button_finish"), ProjectCb(action="fin", project_id=p.id).pack())]
    )
    return "\n".join(lines), kb.rows(*rows)


def project_report_line(t: Translator, line: ProjectLine) -> str:
    return t(
        "projects.report_line",
        id=line.id,
        title=line.title,
        owner=line.owner,
        status=t(f"projects.status.{line.status}"),
        progress=_percent(t, line.progress),
        done=line.milestones_done,
        milestones=line.milestones,
        month_done=line.milestones_in_period,
        served=line.wishes_served,
        wishes=line.wishes,
        month_events=line.events_in_period,
        events=line.events,
    )
