"""Standing posts (认领岗位): 楼道长 of a building, 党员先锋岗 at a station, 责任区 of a grid.

Staff define posts; an approved member claims a vacant one for a term (``term_months`` from
the claim); once a month the holder checks in with a short report, which earns
``posts.checkin_points`` through the ledger once per term and month (the ledger's unique key
and the check-ins' own (term, month) key) and counts as a service toward the yearly duty
(每年至少认领1个志愿服务岗, bot/services/reports/evaluations.py). Terms past their end are
ended whenever posts are read or claimed, and the post is vacant again. Vacant posts are
broadcast to the grid's volunteers through the broadcast service.

States: bot/services/posts/term_states.py. Claiming is a conditional UPDATE (vacant → held),
so two members pressing at once cannot both hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff, Volunteer
from bot.db.models.patrols import Post, PostCheckin, PostTerm
from bot.db.tx import begin_write, transactional
from bot.delivery import outbox
from bot.services import audit
from bot.services.authz import staff_covers_grid
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.outreach import broadcasts
from bot.services.points import ledger
from bot.services.points.ledger import record_language
from bot.services.posts import term_states as ts

KINDS = ("stairwell", "vanguard", "area")
TITLE_MAX = 40
DUTIES_MAX = 300
LIST_LIMIT = 20


@dataclass(frozen=True, slots=True)
class PostView:
    id: int
    kind: str
    title: str
    grid_id: int | None
    grid_name: str
    duties: str
    status: str
    holder_id: int | None
    holder_name: str | None
    term_id: int | None
    term_ends_at: datetime | None
    checked_in_this_month: bool = False


@dataclass(frozen=True, slots=True)
class CheckinDone:
    post: PostView
    month: str
    points: int


def month_key(app: AppContext, at: datetime) -> str:
    local = at.astimezone(app.settings.tz)
    return f"{local.year}-{local.month:02d}"


def add_months(start: datetime, months: int) -> datetime:
    """The same day ``months`` later (the last day of a shorter month)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(start)


def clean(text: str, max_len: int, *, required: bool = True) -> str:
    value = " ".join(text.split())
    if (required and not value) or len(value) > max_len or value.startswith("/"):
        raise UserError("posts.text_length", max=max_len)
    return value


async def _view(app: AppContext, session: AsyncSession, post: Post) -> PostView:
    grid = await session.get(Grid, post.grid_id) if post.grid_id is not None else None
    term = await _held_term(session, post.id)
    holder = await session.get(Volunteer, term.user_id) if term is not None else None
    checked = False
    if term is not None:
        checked = (
            await session.scalar(
                select(PostCheckin.id).where(
                    PostCheckin.term_id == term.id, PostCheckin.month == month_key(app, app.now())
                )
            )
        ) is not None
    return PostView(
        id=post.id,
        kind=post.kind,
        title=post.title,
        grid_id=post.grid_id,
        grid_name=grid.name if grid is not None else "",
        duties=post.duties,
        status=post.status,
        holder_id=term.user_id if term is not None else None,
        holder_name=holder.name if holder is not None else None,
        term_id=term.id if term is not None else None,
        term_ends_at=term.ends_at if term is not None else None,
        checked_in_this_month=checked,
    )


async def _held_term(session: AsyncSession, post_id: int) -> PostTerm | None:
    return await session.scalar(
        select(PostTerm)
        .where(PostTerm.post_id == post_id, PostTerm.status == ts.HELD)
        .order_by(PostTerm.id.desc())
        .limit(1)
    )


# --- staff: define --------------------------------------------------------------------------


@transactional
async def create_post(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    *,
    kind: str,
    title: str,
    grid_id: int | None,
    duties: str = "",
) -> PostView:
    if kind not in KINDS:
        raise UserError("errors.stale_button")
    title = clean(title, TITLE_MAX)
    duties = clean(duties, DUTIES_MAX, required=False)
    await begin_write(session)
    if not await staff_covers_grid(session, staff_user_id, grid_id):
        raise UserError("posts.not_your_grid")
    post = Post(
        kind=kind,
        title=title,
        grid_id=grid_id,
        duties=duties,
        term_months=app.settings.posts.term_months,
        status=ts.VACANT,
        created_by=staff_user_id,
        created_at=app.now(),
    )
    session.add(post)
    await session.flush()
    audit.record(session, staff_user_id, "post.create", "post", post.id, kind=kind)
    await session.commit()
    return await _view(app, session, post)


# --- terms that ran out -----------------------------------------------------------------------


async def end_expired_terms(app: AppContext, session: AsyncSession) -> int:
    """End every held term whose end has passed; the posts are vacant again. Does not commit."""
    now = app.now()
    expired = (
        await session.scalars(
            select(PostTerm).where(PostTerm.status == ts.HELD, PostTerm.ends_at <= now)
        )
    ).all()
    for term in expired:
        await _end_term(session, term, now)
    return len(expired)


async def _end_term(session: AsyncSession, term: PostTerm, now: datetime) -> None:
    if not ts.can_move_term(term.status, ts.ENDED):
        raise ts.IllegalPostMove("term", term.status, ts.ENDED)
    term.status, term.ended_at = ts.ENDED, now
    await session.execute(
        update(Post)
        .where(Post.id == term.post_id, Post.status == ts.HELD)
        .values(status=ts.VACANT, holder_id=None)
        .execution_options(synchronize_session=False)
    )


# --- reading --------------------------------------------------------------------------------


async def list_posts(
    app: AppContext, session: AsyncSession, user_id: int, *, staff: bool
) -> list[PostView]:
    """Staff: the posts of their scope. Members: their own posts and the vacant ones of their
    grid (and the community-wide ones)."""
    await begin_write(session)
    await end_expired_terms(app, session)
    await session.commit()
    query = select(Post).order_by(Post.id).limit(LIST_LIMIT)
    if staff:
        scope = await session.get(Staff, user_id)
        if scope is None:
            raise UserError("errors.staff_only")
        if scope.scope == "grid" and not scope.is_admin:
            query = query.where(Post.grid_id == scope.grid_id)
    else:
        volunteer = await session.get(Volunteer, user_id)
        if volunteer is None or volunteer.status != "approved":
            raise UserError("posts.members_only")
        query = query.where(
            or_(
                Post.holder_id == user_id,
                and_(
                    Post.status == ts.VACANT,
                    or_(Post.grid_id.is_(None), Post.grid_id == volunteer.grid_id),
                ),
            )
        )
    shown = [await _view(app, session, post) for post in (await session.scalars(query)).all()]
    await session.commit()
    return shown


async def recent_reports(
    session: AsyncSession, post_id: int, limit: int = 3
) -> list[tuple[str, str]]:
    """The post's latest monthly reports (month, text), newest first, for staff."""
    rows = (
        await session.execute(
            select(PostCheckin.month, PostCheckin.report)
            .join(PostTerm, PostTerm.id == PostCheckin.term_id)
            .where(PostTerm.post_id == post_id)
            .order_by(PostCheckin.at.desc(), PostCheckin.id.desc())
            .limit(limit)
        )
    ).all()
    await session.commit()
    return [(str(month), str(report)) for month, report in rows]


async def staff_post(
    app: AppContext, session: AsyncSession, staff_user_id: int, post_id: int
) -> PostView:
    """A post as staff see it (holder, reports): within their scope only."""
    post = await session.get(Post, post_id)
    if post is None:
        raise UserError("posts.not_found", id=post_id)
    if not await staff_covers_grid(session, staff_user_id, post.grid_id):
        raise UserError("posts.not_your_grid")
    return await get_post(app, session, post_id)


async def get_post(app: AppContext, session: AsyncSession, post_id: int) -> PostView:
    post = await session.get(Post, post_id, populate_existing=True)
    if post is None:
        raise UserError("posts.not_found", id=post_id)
    shown = await _view(app, session, post)
    await session.commit()
    return shown


# --- members: claim, check in, give back -------------------------------------------------


@transactional
async def claim(app: AppContext, session: AsyncSession, user_id: int, post_id: int) -> PostView:
    """Claim a vacant post for a term; claiming one's own post again changes nothing."""
    await begin_write(session)
    await end_expired_terms(app, session)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None or volunteer.status != "approved":
        raise UserError("posts.members_only")
    post = await session.get(Post, post_id, with_for_update=True, populate_existing=True)
    if post is None:
        raise UserError("posts.not_found", id=post_id)
    if post.holder_id == user_id:
        await session.commit()
        return await get_post(app, session, post_id)
    if post.grid_id is not None and post.grid_id != volunteer.grid_id:
        raise UserError("posts.other_grid")
    took = await session.execute(
        update(Post)
        .where(Post.id == post_id, Post.status == ts.VACANT)
        .values(status=ts.HELD, holder_id=user_id)
        .execution_options(synchronize_session=False)
    )
    if not took.rowcount:  # type: ignore[attr-defined]
        raise UserError("posts.taken")
    now = app.now()
    start = now.astimezone(app.settings.tz)
    session.add(
        PostTerm(
            post_id=post_id,
            user_id=user_id,
            starts_at=now,
            ends_at=add_months(start, post.term_months),
            status=ts.HELD,
        )
    )
    audit.record(session, user_id, "post.claim", "post", post_id)
    await session.commit()
    return await get_post(app, session, post_id)


async def _holder_term(session: AsyncSession, user_id: int, post_id: int) -> PostTerm:
    term = await session.scalar(
        select(PostTerm)
        .where(PostTerm.post_id == post_id, PostTerm.status == ts.HELD)
        .with_for_update()
    )
    if term is None or term.user_id != user_id:
        raise UserError("posts.not_yours")
    return term


@transactional
async def check_in(
    app: AppContext, session: AsyncSession, user_id: int, post_id: int, report: str
) -> CheckinDone:
    """This month's check-in on a held post, with points once per month."""
    text = clean(report, app.settings.posts.report_max)
    await begin_write(session)
    await end_expired_terms(app, session)
    term = await _holder_term(session, user_id, post_id)
    now = app.now()
    month = month_key(app, now)
    done = await session.scalar(
        select(PostCheckin).where(PostCheckin.term_id == term.id, PostCheckin.month == month)
    )
    if done is not None:
        raise UserError("posts.already_checked_in", month=month)
    checkin = PostCheckin(term_id=term.id, month=month, report=text, at=now)
    session.add(checkin)
    await session.flush()
    post = await session.get(Post, post_id)
    assert post is not None
    reason = record_language(app)("posts.points_reason", title=post.title, month=month)
    entry = await ledger.award(
        app,
        session,
        user_id=user_id,
        amount=app.settings.posts.checkin_points,
        reason=reason,
        source_type="post",
        source_id=f"{term.id}:{month}",
    )
    checkin.points_awarded = entry.amount if entry is not None else 0
    audit.record(session, user_id, "post.checkin", "post", post_id, month=month)
    await session.commit()  # the caller tells the member (the points are in its answer)
    return CheckinDone(await get_post(app, session, post_id), month, checkin.points_awarded or 0)


@transactional
async def give_back(
    app: AppContext, session: AsyncSession, user_id: int, post_id: int, *, staff: bool = False
) -> PostView:
    """The holder gives the post back (or staff end the term): the post is vacant again."""
    await begin_write(session)
    if staff:
        post = await session.get(Post, post_id)
        if post is None:
            raise UserError("posts.not_found", id=post_id)
        if not await staff_covers_grid(session, user_id, post.grid_id):
            raise UserError("posts.not_your_grid")
        term = await _held_term(session, post_id)
        if term is None:
            raise UserError("posts.already_vacant")
    else:
        term = await _holder_term(session, user_id, post_id)
    await _end_term(session, term, app.now())
    audit.record(session, user_id, "post.end_term", "post", post_id, staff=staff)
    await session.commit()
    return await get_post(app, session, post_id)


# --- staff: broadcast the vacancies ---------------------------------------------------------


async def broadcast_vacancies(
    app: AppContext, session: AsyncSession, staff_user_id: int
) -> tuple[int, int]:
    """Tell eligible volunteers of the vacant posts (one broadcast per grid, through the
    broadcast service; once a day per grid: its draft token). Returns (posts, recipients)."""
    vacant = [
        p
        for p in await list_posts(app, session, staff_user_id, staff=True)
        if p.status == ts.VACANT
    ]
    if not vacant:
        raise UserError("posts.none_vacant")
    t = record_language(app)
    by_grid: dict[int | None, list[PostView]] = {}
    for post in vacant:
        by_grid.setdefault(post.grid_id, []).append(post)
    today = app.now().astimezone(app.settings.tz).strftime("%Y%m%d")
    reached = 0
    for grid_id, posts in by_grid.items():
        lines = [t("posts.vacancy_head")]
        lines += [
            t("posts.vacancy_line", id=p.id, title=p.title, kind=t(f"posts.kind.{p.kind}"))
            for p in posts
        ]
        lines.append(t("posts.vacancy_foot"))
        if grid_id is not None:
            segment = broadcasts.Segment("vol_grid", grid_ids=(grid_id,))
        else:
            communities = await broadcasts.communities(session)
            segment = broadcasts.Segment(
                "vol_community", community=communities[0] if communities else None
            )
        try:
            progress = await broadcasts.create(
                app,
                session,
                staff_user_id,
                broadcasts.Draft(
                    text="\n".join(lines),
                    photo=None,
                    segment=segment,
                    token=f"posts:{grid_id or 0}:{today}",
                ),
            )
        except UserError as err:
            if err.key == "broadcast.nobody":
                continue
            raise
        reached += progress.recipients
    return len(vacant), reached


# --- the monthly reminder (calendar job) -----------------------------------------------------


async def remind_checkins(app: AppContext) -> int:
    """Late in the month, every holder who has not checked in yet is reminded, once per term
    and month (the outbox's batch key). Terms that ran out are ended first. Returns how many."""
    month = month_key(app, app.now())
    async with app.sessions() as session:
        await begin_write(session)
        await end_expired_terms(app, session)
        done = select(PostCheckin.term_id).where(PostCheckin.month == month)
        due = (
            await session.execute(
                select(PostTerm.id, PostTerm.user_id, PostTerm.post_id).where(
                    PostTerm.status == ts.HELD, PostTerm.id.not_in(done)
                )
            )
        ).all()
        for term_id, user_id, post_id in due:
            await outbox.enqueue(
                session,
                notice=Notice("posts.checkin_reminder", {"post_id": post_id, "month": month}),
                user_ids=[user_id],
                batch_key=f"postci:{term_id}:{month}",
            )
        await session.commit()
    return len(due)
