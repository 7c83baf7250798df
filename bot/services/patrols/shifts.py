"""治安巡查 shifts: staff define a route (area, meeting point) and its shifts; volunteers and
grid workers sign up and cancel, like events.

No overbooking: a sign-up takes a place with one conditional UPDATE of the shift's ``taken``
counter after locking the shift row (FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite).
The shift's status follows bot/services/patrols/shift_states.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff, Volunteer
from bot.db.models.patrols import PatrolRoute, PatrolShift, PatrolSignup
from bot.db.tx import begin_write, transactional
from bot.delivery import outbox, segments
from bot.scheduler.timers import cancel_timers, schedule
from bot.services import audit
from bot.services.authz import staff_covers_grid
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.patrols import shift_states as st
from matching.geo import valid_point

NAME_MAX = 40
DESCRIPTION_MAX = 300
SIGNED, CANCELLED = "signed", "cancelled"
LIST_LIMIT = 10
CLOSE_TIMER = "patrol.close"
CLOSE_AFTER = timedelta(hours=2)  # a shift staff did not end is closed this long after its end


@dataclass(frozen=True, slots=True)
class ShiftDraft:
    grid_id: int
    name: str
    description: str
    lat: float | None
    lon: float | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    route_id: int | None = None  # another shift on an existing route


@dataclass(frozen=True, slots=True)
class ShiftView:
    id: int
    route_id: int
    name: str
    description: str
    grid_id: int
    grid_name: str
    lat: float | None
    lon: float | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int
    status: str

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - self.taken)

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True, slots=True)
class MyShift:
    """A person's place on a shift: ``signed`` False means not signed up."""

    shift: ShiftView
    signed: bool
    checked_in_at: datetime | None = None


def view(shift: PatrolShift, route: PatrolRoute, grid: Grid | None) -> ShiftView:
    return ShiftView(
        id=shift.id,
        route_id=route.id,
        name=route.name,
        description=route.description,
        grid_id=route.grid_id,
        grid_name=grid.name if grid is not None else "",
        lat=route.lat,
        lon=route.lon,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        capacity=shift.capacity,
        taken=shift.taken,
        status=shift.status,
    )


async def load_view(session: AsyncSession, shift_id: int) -> ShiftView:
    row = (
        await session.execute(
            select(PatrolShift, PatrolRoute, Grid)
            .join(PatrolRoute, PatrolRoute.id == PatrolShift.route_id)
            .join(Grid, Grid.id == PatrolRoute.grid_id)
            .where(PatrolShift.id == shift_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise UserError("patrols.not_found", id=shift_id)
    return view(*row)


def clean_name(text: str) -> tuple[str, str]:
    """The first line is the route's name, the rest its description."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines or lines[0].startswith("/") or len(lines[0]) > NAME_MAX:
        raise UserError("patrols.form.name_length", max=NAME_MAX)
    description = "\n".join(lines[1:])
    if len(description) > DESCRIPTION_MAX:
        raise UserError("patrols.form.text_length", max=DESCRIPTION_MAX)
    return lines[0], description


def check_draft(app: AppContext, draft: ShiftDraft) -> None:
    now = app.now()
    if draft.starts_at <= now or draft.ends_at <= draft.starts_at:
        raise UserError("patrols.form.in_the_past")
    high = app.settings.patrols.max_capacity
    if not 1 <= draft.capacity <= high:
        raise UserError("patrols.form.number_range", low=1, high=high)
    if (draft.lat is None) != (draft.lon is None) or (
        draft.lat is not None and draft.lon is not None and not valid_point(draft.lat, draft.lon)
    ):
        raise UserError("patrols.form.bad_point")


@transactional
async def create_shift(
    app: AppContext, session: AsyncSession, staff_user_id: int, draft: ShiftDraft
) -> tuple[ShiftView, int]:
    """File the route (unless given) and the shift; invite the grid's volunteers.

    Returns the shift and how many volunteers were invited."""
    check_draft(app, draft)
    await begin_write(session)
    if not await staff_covers_grid(session, staff_user_id, draft.grid_id):
        raise UserError("patrols.not_your_grid")
    grid = await session.get(Grid, draft.grid_id)
    if grid is None or not grid.active:
        raise UserError("errors.stale_button")
    now = app.now()
    route: PatrolRoute | None
    if draft.route_id is not None:
        route = await session.get(PatrolRoute, draft.route_id)
        if route is None or route.grid_id != draft.grid_id:
            raise UserError("errors.stale_button")
    else:
        route = PatrolRoute(
            grid_id=draft.grid_id,
            name=draft.name,
            description=draft.description,
            lat=draft.lat,
            lon=draft.lon,
            created_by=staff_user_id,
            created_at=now,
        )
        session.add(route)
        await session.flush()
    shift = PatrolShift(
        route_id=route.id,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        capacity=draft.capacity,
        taken=0,
        status=st.OPEN,
        created_by=staff_user_id,
        created_at=now,
    )
    session.add(shift)
    await session.flush()
    schedule(
        session,
        kind=CLOSE_TIMER,
        key=f"patrol:{shift.id}:close",
        due_at=draft.ends_at + CLOSE_AFTER,
        payload={"shift_id": shift.id},
    )
    users = await segments.volunteers(session, grid_ids=[draft.grid_id])
    await outbox.enqueue(
        session,
        notice=Notice("patrols.invite", {"shift_id": shift.id}),
        user_ids=list(users),
        batch_key=f"pt:{shift.id}",
    )
    audit.record(session, staff_user_id, "patrol.create", "patrol_shift", shift.id, route=route.id)
    await session.commit()
    return view(shift, route, grid), len(users)


# --- who may patrol ---------------------------------------------------------------------------


async def patroller_grid(session: AsyncSession, user_id: int) -> tuple[bool, int | None]:
    """(may patrol, own grid): approved volunteers and staff (grid workers); None: every grid."""
    volunteer = await session.get(Volunteer, user_id)
    staff = await session.get(Staff, user_id)
    if staff is not None:
        return True, staff.grid_id if staff.scope == "grid" and not staff.is_admin else None
    if volunteer is not None and volunteer.status == "approved":
        return True, volunteer.grid_id
    return False, None


async def upcoming(app: AppContext, session: AsyncSession, user_id: int) -> list[MyShift]:
    """Shifts not over yet in the person's grid (community staff: every grid), soonest first."""
    may, grid_id = await patroller_grid(session, user_id)
    if not may:
        raise UserError("patrols.patrollers_only")
    query = (
        select(PatrolShift, PatrolRoute, Grid, PatrolSignup)
        .join(PatrolRoute, PatrolRoute.id == PatrolShift.route_id)
        .join(Grid, Grid.id == PatrolRoute.grid_id)
        .outerjoin(
            PatrolSignup,
            (PatrolSignup.shift_id == PatrolShift.id)
            & (PatrolSignup.user_id == user_id)
            & (PatrolSignup.status == SIGNED),
        )
        .where(PatrolShift.status.not_in(st.TERMINAL), PatrolShift.ends_at > app.now())
        .order_by(PatrolShift.starts_at, PatrolShift.id)
        .limit(LIST_LIMIT)
    )
    if grid_id is not None:
        query = query.where(PatrolRoute.grid_id == grid_id)
    rows = (await session.execute(query)).all()
    await session.commit()  # read only: end the transaction
    return [
        MyShift(view(s, r, g), signup is not None, signup.checked_in_at if signup else None)
        for s, r, g, signup in rows
    ]


async def my_shift(session: AsyncSession, shift_id: int, user_id: int) -> MyShift:
    shown = await load_view(session, shift_id)
    signup = await _signup(session, shift_id, user_id)
    await session.commit()
    signed = signup is not None and signup.status == SIGNED
    return MyShift(shown, signed, signup.checked_in_at if signed and signup else None)


async def _signup(session: AsyncSession, shift_id: int, user_id: int) -> PatrolSignup | None:
    return await session.scalar(
        select(PatrolSignup).where(
            PatrolSignup.shift_id == shift_id, PatrolSignup.user_id == user_id
        )
    )


async def locked_shift(session: AsyncSession, shift_id: int) -> PatrolShift:
    shift = await session.get(PatrolShift, shift_id, with_for_update=True, populate_existing=True)
    if shift is None:
        raise UserError("patrols.not_found", id=shift_id)
    return shift


# --- sign up and cancel ----------------------------------------------------------------------


@transactional
async def sign_up(app: AppContext, session: AsyncSession, shift_id: int, user_id: int) -> MyShift:
    """Take a place; signing up twice is one place (the second press is told the same)."""
    await begin_write(session)
    may, grid_id = await patroller_grid(session, user_id)
    if not may:
        raise UserError("patrols.patrollers_only")
    shift = await locked_shift(session, shift_id)
    route = await session.get(PatrolRoute, shift.route_id)
    assert route is not None
    if grid_id is not None and route.grid_id != grid_id:
        raise UserError("patrols.not_your_grid")
    signup = await _signup(session, shift_id, user_id)
    if signup is not None and signup.status == SIGNED:
        await session.commit()
        return await my_shift(session, shift_id, user_id)
    if shift.starts_at <= app.now() or shift.status in st.TERMINAL:
        raise UserError("patrols.signup_over")
    if shift.status == st.CLOSED:
        raise UserError("patrols.signups_closed")
    took = await session.execute(
        update(PatrolShift)
        .where(
            PatrolShift.id == shift_id,
            PatrolShift.status == st.OPEN,
            PatrolShift.taken < PatrolShift.capacity,
        )
        .values(taken=PatrolShift.taken + 1)
        .execution_options(synchronize_session=False)
    )
    if not took.rowcount:  # type: ignore[attr-defined]
        raise UserError("patrols.full")
    await session.refresh(shift)
    shift.status = st.after_signup_change(shift.status, shift.taken, shift.capacity)
    now = app.now()
    if signup is None:
        session.add(PatrolSignup(shift_id=shift_id, user_id=user_id, status=SIGNED, signed_at=now))
    else:
        signup.status, signup.signed_at = SIGNED, now
    audit.record(session, user_id, "patrol.signup", "patrol_shift", shift_id)
    await session.commit()
    return await my_shift(session, shift_id, user_id)


@transactional
async def cancel_signup(
    app: AppContext, session: AsyncSession, shift_id: int, user_id: int
) -> MyShift:
    await begin_write(session)
    shift = await locked_shift(session, shift_id)
    signup = await _signup(session, shift_id, user_id)
    if signup is None or signup.status != SIGNED:
        raise UserError("patrols.not_signed")
    if shift.status not in st.UPCOMING or signup.checked_in_at is not None:
        raise UserError("patrols.cannot_leave")
    signup.status = CANCELLED
    shift.taken = max(0, shift.taken - 1)
    shift.status = st.after_signup_change(shift.status, shift.taken, shift.capacity)
    audit.record(session, user_id, "patrol.cancel_signup", "patrol_shift", shift_id)
    await session.commit()
    return await my_shift(session, shift_id, user_id)


# --- staff: stop or reopen sign-ups, call off ---------------------------------------------


async def staff_shift(session: AsyncSession, staff_user_id: int, shift_id: int) -> PatrolShift:
    shift = await locked_shift(session, shift_id)
    route = await session.get(PatrolRoute, shift.route_id)
    assert route is not None
    if not await staff_covers_grid(session, staff_user_id, route.grid_id):
        raise UserError("patrols.not_your_grid")
    return shift


@transactional
async def set_signups_open(
    app: AppContext, session: AsyncSession, staff_user_id: int, shift_id: int, *, is_open: bool
) -> ShiftView:
    await begin_write(session)
    shift = await staff_shift(session, staff_user_id, shift_id)
    target = st.CLOSED if not is_open else st.OPEN
    if shift.status == target or (is_open and shift.status == st.FULL):
        await session.commit()
        return await load_view(session, shift_id)
    if not st.can_move(shift.status, target):
        raise UserError("patrols.state_changed", id=shift_id)
    nxt = st.after_signup_change(target, shift.taken, shift.capacity)
    shift.status = st.require(shift_id, shift.status, nxt)
    audit.record(session, staff_user_id, "patrol.signups", "patrol_shift", shift_id, open=is_open)
    await session.commit()
    return await load_view(session, shift_id)


@transactional
async def cancel_shift(
    app: AppContext, session: AsyncSession, staff_user_id: int, shift_id: int
) -> ShiftView:
    """Staff call a shift off before it runs; everyone signed up is told."""
    await begin_write(session)
    shift = await staff_shift(session, staff_user_id, shift_id)
    if not st.can_move(shift.status, st.CANCELLED):
        raise UserError("patrols.state_changed", id=shift_id)
    shift.status = st.CANCELLED
    await cancel_timers(session, key_prefix=f"patrol:{shift_id}:")
    people = (
        await session.scalars(
            select(PatrolSignup.user_id).where(
                PatrolSignup.shift_id == shift_id, PatrolSignup.status == SIGNED
            )
        )
    ).all()
    await outbox.enqueue(
        session,
        notice=Notice("patrols.called_off", {"shift_id": shift_id}),
        user_ids=list(people),
        batch_key=f"pt:{shift_id}:off",
    )
    audit.record(session, staff_user_id, "patrol.cancel", "patrol_shift", shift_id)
    await session.commit()
    return await load_view(session, shift_id)
