"""项目清单 (书记项目 / service projects): an owner, a goal, milestones, and the wishes and
events that serve it. Progress is the share of milestones done; the report adds how many of
the linked wishes were served and how many linked events took place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Event, Project, ProjectLink, ProjectMilestone, Staff, Wish
from bot.db.models.lists import PROJECT_ACTIVE, PROJECT_DONE
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError

TITLE_MAX = 64
OWNER_MAX = 32
GOAL_MAX = 300
MILESTONES_MAX = 12
LINK_KINDS = {"wish": "wish", "心愿": "wish", "event": "event", "活动": "event"}
SERVED = frozenset({"done", "confirmed", "verified", "closed"})


@dataclass(frozen=True, slots=True)
class MilestoneView:
    id: int
    title: str
    due_at: datetime | None
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProjectView:
    id: int
    title: str
    owner: str
    goal: str
    status: str
    grid_id: int | None
    milestones: tuple[MilestoneView, ...]
    wishes: tuple[tuple[int, str], ...]  # (id, status)
    events: tuple[tuple[int, str, datetime], ...]  # (id, title, starts_at)

    @property
    def milestones_done(self) -> int:
        return sum(1 for m in self.milestones if m.done_at is not None)

    @property
    def progress(self) -> float | None:
        """Share of milestones done; a finished project is 1; None without milestones."""
        if self.status == PROJECT_DONE:
            return 1.0
        if not self.milestones:
            return None
        return self.milestones_done / len(self.milestones)

    @property
    def wishes_served(self) -> int:
        return sum(1 for _, status in self.wishes if status in SERVED)


def _text(value: str, max_len: int, *, required: bool = True) -> str:
    value = " ".join(value.split())
    if (required and not value) or len(value) > max_len or value.startswith("/"):
        raise UserError("projects.field_invalid", max=max_len)
    return value


def parse_project(text: str) -> tuple[str, str, str]:
    """名称 | 负责人 | 目标 (the goal may be left out)."""
    parts = [p.strip() for p in text.replace("｜", "|").split("|")]
    if len(parts) not in (2, 3):
        raise UserError("projects.usage")
    goal = parts[2] if len(parts) == 3 else ""
    return (
        _text(parts[0], TITLE_MAX),
        _text(parts[1], OWNER_MAX),
        _text(goal, GOAL_MAX, required=False),
    )


def parse_milestone(app: AppContext, text: str) -> tuple[str, datetime | None]:
    """名称 [| 2026-12-31]: the due date (local) is optional."""
    parts = [p.strip() for p in text.replace("｜", "|").split("|")]
    if len(parts) not in (1, 2):
        raise UserError("projects.milestone_usage")
    title = _text(parts[0], TITLE_MAX)
    if len(parts) == 1 or not parts[1]:
        return title, None
    try:
        day = date.fromisoformat(parts[1])
    except ValueError:
        raise UserError("projects.date_invalid") from None
    return title, datetime.combine(day, time(23, 59), tzinfo=app.settings.tz)


async def _staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    return staff


def _scope(staff: Staff) -> int | None:
    return staff.grid_id if staff.scope == "grid" and not staff.is_admin else None


async def _own_project(session: AsyncSession, staff_user_id: int, project_id: int) -> Project:
    staff = await _staff(session, staff_user_id)
    project = await session.get(Project, project_id, populate_existing=True)
    if project is None:
        raise UserError("projects.unknown")
    scope = _scope(staff)
    if scope is not None and project.grid_id not in (None, scope):
        raise UserError("projects.unknown")
    if scope is not None and project.grid_id != scope:
        raise UserError("lists.not_your_grid")  # community-wide: community staff change it
    return project


@transactional
async def create(
    app: AppContext, session: AsyncSession, staff_user_id: int, title: str, owner: str, goal: str
) -> ProjectView:
    await begin_write(session)
    staff = await _staff(session, staff_user_id)
    project = Project(
        title=_text(title, TITLE_MAX),
        owner=_text(owner, OWNER_MAX),
        goal=_text(goal, GOAL_MAX, required=False),
        grid_id=_scope(staff),
        status=PROJECT_ACTIVE,
        created_by=staff_user_id,
        created_at=app.now(),
    )
    session.add(project)
    await session.flush()
    audit.record(session, staff_user_id, "project.create", "project", project.id)
    project_id = project.id
    await session.commit()
    return await project_view(session, project_id)


@transactional
async def add_milestone(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    project_id: int,
    title: str,
    due_at: datetime | None = None,
) -> ProjectView:
    await begin_write(session)
    project = await _own_project(session, staff_user_id, project_id)
    if project.status != PROJECT_ACTIVE:
        raise UserError("projects.finished")
    count = len(
        (
            await session.scalars(
                select(ProjectMilestone.id).where(ProjectMilestone.project_id == project_id)
            )
        ).all()
    )
    if count >= MILESTONES_MAX:
        raise UserError("projects.too_many", max=MILESTONES_MAX)
    session.add(
        ProjectMilestone(
            project_id=project_id,
            title=_text(title, TITLE_MAX),
            due_at=due_at,
            created_at=app.now(),
        )
    )
    audit.record(session, staff_user_id, "project.milestone", "project", project_id)
    await session.commit()
    return await project_view(session, project_id)


@transactional
async def complete_milestone(
    app: AppContext, session: AsyncSession, staff_user_id: int, project_id: int, milestone_id: int
) -> ProjectView:
    """Mark a milestone done once (a second press changes nothing)."""
    await begin_write(session)
    await _own_project(session, staff_user_id, project_id)
    result = await session.execute(
        update(ProjectMilestone)
        .where(
            ProjectMilestone.id == milestone_id,
            ProjectMilestone.project_id == project_id,
            ProjectMilestone.done_at.is_(None),
        )
        .values(done_at=app.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        audit.record(
            session, staff_user_id, "project.milestone_done", "project", project_id, m=milestone_id
        )
    elif await session.get(ProjectMilestone, milestone_id) is None:
        raise UserError("projects.unknown")
    await session.commit()
    return await project_view(session, project_id)


@transactional
async def finish(
    app: AppContext, session: AsyncSession, staff_user_id: int, project_id: int
) -> ProjectView:
    await begin_write(session)
    project = await _own_project(session, staff_user_id, project_id)
    if project.status != PROJECT_DONE:
        project.status = PROJECT_DONE
        audit.record(session, staff_user_id, "project.finish", "project", project_id)
    await session.commit()
    return await project_view(session, project_id)


@transactional
async def link(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    project_id: int,
    kind_word: str,
    object_id: int,
) -> ProjectView:
    """Link a wish or an event to the project (linking twice changes nothing)."""
    kind = LINK_KINDS.get(kind_word.strip().lower())
    if kind is None:
        raise UserError("projects.link_usage")
    await begin_write(session)
    await _own_project(session, staff_user_id, project_id)
    target = await session.get(Wish if kind == "wish" else Event, object_id)
    if target is None:
        raise UserError("projects.link_unknown", id=object_id)
    exists = await session.scalar(
        select(ProjectLink.id).where(
            ProjectLink.project_id == project_id,
            ProjectLink.kind == kind,
            ProjectLink.object_id == object_id,
        )
    )
    if exists is None:
        session.add(
            ProjectLink(project_id=project_id, kind=kind, object_id=object_id, created_at=app.now())
        )
        audit.record(session, staff_user_id, "project.link", "project", project_id, kind=kind)
        try:
            await session.commit()
        except IntegrityError:  # linked at the same moment by someone else: the same result
            await session.rollback()
    else:
        await session.commit()
    return await project_view(session, project_id)


async def project_view(session: AsyncSession, project_id: int) -> ProjectView:
    project = await session.get(Project, project_id, populate_existing=True)
    if project is None:
        raise UserError("projects.unknown")
    milestones = (
        await session.scalars(
            select(ProjectMilestone)
            .where(ProjectMilestone.project_id == project_id)
            .order_by(ProjectMilestone.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    wishes = (
        await session.execute(
            select(Wish.id, Wish.status)
            .join(ProjectLink, (ProjectLink.object_id == Wish.id) & (ProjectLink.kind == "wish"))
            .where(ProjectLink.project_id == project_id)
            .order_by(Wish.id)
        )
    ).all()
    events = (
        await session.execute(
            select(Event.id, Event.title, Event.starts_at)
            .join(ProjectLink, (ProjectLink.object_id == Event.id) & (ProjectLink.kind == "event"))
            .where(ProjectLink.project_id == project_id)
            .order_by(Event.starts_at)
        )
    ).all()
    return ProjectView(
        id=project.id,
        title=project.title,
        owner=project.owner,
        goal=project.goal,
        status=project.status,
        grid_id=project.grid_id,
        milestones=tuple(MilestoneView(m.id, m.title, m.due_at, m.done_at) for m in milestones),
        wishes=tuple((int(i), str(s)) for i, s in wishes),
        events=tuple((int(i), str(t), s) for i, t, s in events),
    )


async def listing(session: AsyncSession, grid_ids: frozenset[int] | None) -> list[ProjectView]:
    """Projects a scope sees (None: all), active first."""
    stmt = select(Project.id).order_by(Project.status, Project.id)
    if grid_ids is not None:
        stmt = stmt.where(Project.grid_id.is_(None) | Project.grid_id.in_(list(grid_ids)))
    ids = (await session.scalars(stmt)).all()
    return [await project_view(session, i) for i in ids]


async def staff_scope(session: AsyncSession, staff_user_id: int) -> frozenset[int] | None:
    """The grids a staff member's lists cover (None: every grid)."""
    scope = _scope(await _staff(session, staff_user_id))
    return None if scope is None else frozenset({scope})


async def listing_for_staff(session: AsyncSession, staff_user_id: int) -> list[ProjectView]:
    return await listing(session, await staff_scope(session, staff_user_id))
