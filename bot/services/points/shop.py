"""The rewards shop (积分超市, 以“分”易“物”): staff keep rewards, volunteers redeem them.

Redeeming holds the points at once (a ``hold`` entry) and issues a pickup code; staff confirm
the handover with the code (the hold is released and the points spent, so the statement reads
"held, then spent") or cancel it (released, stock back). No overselling: the stock is taken by
``UPDATE ... SET stock = stock - 1 WHERE stock > 0``. No negative balance: the person's account
is locked (ledger.lock_account) while the balance is checked and the hold written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Staff, User, Volunteer
from bot.db.models.points import (
    KIND_HOLD,
    KIND_RELEASE,
    KIND_SPEND,
    REDEMPTION_CANCELLED,
    REDEMPTION_HANDED_OVER,
    REDEMPTION_HELD,
    Redemption,
    Reward,
)
from bot.db.tx import begin_write
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.people.registration import staff_for_grid
from bot.services.points import ledger

# Pickup codes: no 0/O, 1/I/L — read aloud or typed by an elderly volunteer without doubt.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
NAME_MAX = 30
PLACE_MAX = 60
PRICE_MAX = 100_000
STOCK_MAX = 100_000
LIMIT_MAX = 1000
EDITABLE = ("name", "price", "stock", "per_person_limit", "pickup_place", "active")


@dataclass(frozen=True, slots=True)
class RewardForm:
    name: str
    price: int
    stock: int
    per_person_limit: int  # 0: no limit
    pickup_place: str


@dataclass(frozen=True, slots=True)
class RewardView:
    id: int
    name: str
    price: int
    stock: int
    per_person_limit: int
    pickup_place: str
    active: bool


@dataclass(frozen=True, slots=True)
class RedemptionView:
    id: int
    code: str
    status: str
    price: int
    reward_id: int
    reward_name: str
    pickup_place: str
    user_id: int
    volunteer_name: str
    created_at: datetime
    closed_at: datetime | None


def _reward_view(reward: Reward) -> RewardView:
    return RewardView(
        reward.id,
        reward.name,
        reward.price,
        reward.stock,
        reward.per_person_limit,
        reward.pickup_place,
        reward.active,
    )


# --- checking staff input ----------------------------------------------------------------------


def clean_name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX or name.startswith("/"):
        raise UserError("shop.name_invalid", max=NAME_MAX)
    return name


def clean_place(text: str) -> str:
    place = " ".join(text.split())
    if not place or len(place) > PLACE_MAX or place.startswith("/"):
        raise UserError("shop.place_invalid", max=PLACE_MAX)
    return place


def parse_number(text: str, *, minimum: int, maximum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise UserError("shop.number_invalid", min=minimum, max=maximum) from None
    if not minimum <= value <= maximum:
        raise UserError("shop.number_invalid", min=minimum, max=maximum)
    return value


def parse_field(field: str, text: str) -> str | int:
    """A staff member's typed value for one field of a reward, checked."""
    if field == "name":
        return clean_name(text)
    if field == "pickup_place":
        return clean_place(text)
    if field == "price":
        return parse_number(text, minimum=1, maximum=PRICE_MAX)
    if field == "stock":
        return parse_number(text, minimum=0, maximum=STOCK_MAX)
    if field == "per_person_limit":
        return parse_number(text, minimum=0, maximum=LIMIT_MAX)
    raise UserError("errors.stale_button")


def normalize_code(text: str) -> str:
    return "".join(text.split()).upper()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- staff: managing rewards ---------------------------------------------------------------------


async def _require_staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    return staff


async def add_reward(
    app: AppContext, session: AsyncSession, staff_user_id: int, form: RewardForm
) -> RewardView:
    await begin_write(session)
    await _require_staff(session, staff_user_id)
    reward = Reward(
        name=clean_name(form.name),
        price=form.price,
        stock=form.stock,
        per_person_limit=form.per_person_limit,
        pickup_place=clean_place(form.pickup_place),
        active=True,
        created_by=staff_user_id,
        created_at=app.now(),
        updated_at=app.now(),
    )
    session.add(reward)
    await session.flush()
    audit.record(
        session,
        staff_user_id,
        "reward.add",
        "reward",
        reward.id,
        name=reward.name,
        price=reward.price,
        stock=reward.stock,
    )
    await session.commit()
    return _reward_view(reward)


async def edit_reward(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    reward_id: int,
    field: str,
    value: str | int | bool,
) -> RewardView:
    """Change one field. A new stock is what is on the shelf now, not counting held items."""
    if field not in EDITABLE:
        raise UserError("errors.stale_button")
    # The same checks as typed input, whoever calls.
    value = bool(value) if field == "active" else parse_field(field, str(value))
    await begin_write(session)
    await _require_staff(session, staff_user_id)
    result = await session.execute(
        update(Reward)
        .where(Reward.id == reward_id)
        .values({field: value, "updated_at": app.now()})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("shop.unknown_reward")
    audit.record(session, staff_user_id, "reward.edit", "reward", reward_id, **{field: value})
    await session.commit()
    reward = await session.get(Reward, reward_id, populate_existing=True)
    assert reward is not None
    return _reward_view(reward)


async def list_rewards(session: AsyncSession, *, for_volunteers: bool) -> list[RewardView]:
    """Volunteers see active rewards in stock, cheapest first; staff see everything."""
    stmt = select(Reward)
    if for_volunteers:
        stmt = stmt.where(Reward.active, Reward.stock > 0).order_by(Reward.price, Reward.id)
    else:
        stmt = stmt.order_by(Reward.active.desc(), Reward.id)
    return [_reward_view(r) for r in (await session.scalars(stmt)).all()]


async def get_reward(session: AsyncSession, reward_id: int) -> RewardView:
    reward = await session.get(Reward, reward_id, populate_existing=True)
    if reward is None:
        raise UserError("shop.unknown_reward")
    return _reward_view(reward)


# --- volunteers: redeeming -----------------------------------------------------------------------


async def _taken_by(session: AsyncSession, user_id: int, reward_id: int) -> int:
    count = await session.scalar(
        select(func.count(Redemption.id)).where(
            Redemption.user_id == user_id,
            Redemption.reward_id == reward_id,
            Redemption.status.in_((REDEMPTION_HELD, REDEMPTION_HANDED_OVER)),
        )
    )
    return int(count or 0)


async def redeem(
    app: AppContext, session: AsyncSession, user_id: int, reward_id: int
) -> RedemptionView:
    """Take one of a reward: points held, stock down by one, a pickup code issued. Commits."""
    await begin_write(session)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None or volunteer.status != "approved":
        raise UserError("points.volunteers_only")
    await ledger.lock_account(session, user_id)
    reward = await session.get(Reward, reward_id, populate_existing=True)
    if reward is None or not reward.active:
        raise UserError("shop.unknown_reward")
    price = reward.price
    have = await ledger.balance(session, user_id)
    if have < price:
        raise UserError("shop.not_enough_points", price=price, balance=have)
    limit = reward.per_person_limit
    if limit > 0 and await _taken_by(session, user_id, reward_id) >= limit:
        raise UserError("shop.limit_reached", limit=limit)
    taken = await session.execute(
        update(Reward)
        .where(Reward.id == reward_id, Reward.active, Reward.stock > 0)
        .values(stock=Reward.stock - 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("shop.sold_out")
    redemption = await _new_redemption(app, session, reward_id, user_id, price)
    t = ledger.record_language(app)
    hold = await ledger.insert_entry(
        app,
        session,
        user_id=user_id,
        amount=-price,
        kind=KIND_HOLD,
        reason=t("points.reason.hold", reward=reward.name, code=redemption.code),
        source_type="redemption",
        source_id=str(redemption.id),
    )
    assert hold is not None  # a brand-new redemption id cannot have a hold yet
    reviewers = await staff_for_grid(session, volunteer.grid_id)
    await session.commit()
    view = await redemption_view(session, redemption.id)
    for staff_id in reviewers:
        await app.notifier.notify(
            staff_id,
            Notice(
                "shop.staff_new_redemption",
                {"name": view.volunteer_name, "reward": view.reward_name, "code": view.code},
            ),
        )
    return view


async def _new_redemption(
    app: AppContext, session: AsyncSession, reward_id: int, user_id: int, price: int
) -> Redemption:
    """Insert with a fresh pickup code; a (rare) code collision just draws another."""
    for _ in range(8):
        redemption = Redemption(
            reward_id=reward_id,
            user_id=user_id,
            price=price,
            code=new_code(),
            status=REDEMPTION_HELD,
            created_at=app.now(),
        )
        try:
            async with session.begin_nested():
                session.add(redemption)
        except IntegrityError:
            continue
        return redemption
    raise RuntimeError("could not draw a free pickup code in 8 tries")


async def redemption_view(session: AsyncSession, redemption_id: int) -> RedemptionView:
    row = (
        await session.execute(
            select(Redemption, Reward, Volunteer.name, User.display_name)
            .join(Reward, Reward.id == Redemption.reward_id)
            .join(User, User.id == Redemption.user_id)
            .outerjoin(Volunteer, Volunteer.user_id == Redemption.user_id)
            .where(Redemption.id == redemption_id)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise UserError("shop.unknown_redemption")
    redemption, reward, volunteer_name, display_name = row
    return RedemptionView(
        id=redemption.id,
        code=redemption.code,
        status=redemption.status,
        price=redemption.price,
        reward_id=reward.id,
        reward_name=reward.name,
        pickup_place=reward.pickup_place,
        user_id=redemption.user_id,
        volunteer_name=volunteer_name or display_name or "",
        created_at=redemption.created_at,
        closed_at=redemption.closed_at,
    )


async def find_by_code(session: AsyncSession, staff_user_id: int, code: str) -> RedemptionView:
    await _require_staff(session, staff_user_id)
    found = await session.scalar(
        select(Redemption.id).where(Redemption.code == normalize_code(code))
    )
    if found is None:
        raise UserError("shop.unknown_code", code=normalize_code(code))
    return await redemption_view(session, found)


async def my_redemptions(session: AsyncSession, user_id: int) -> list[RedemptionView]:
    """The person's redemptions waiting for pickup, oldest first."""
    ids = (
        await session.scalars(
            select(Redemption.id)
            .where(Redemption.user_id == user_id, Redemption.status == REDEMPTION_HELD)
            .order_by(Redemption.id)
        )
    ).all()
    return [await redemption_view(session, rid) for rid in ids]


async def _close(
    app: AppContext, session: AsyncSession, redemption_id: int, actor_id: int, status: str
) -> Redemption:
    """Move a held redemption to its final status, exactly once (conditional UPDATE)."""
    redemption = await session.get(Redemption, redemption_id, populate_existing=True)
    if redemption is None:
        raise UserError("shop.unknown_redemption")
    await ledger.lock_account(session, redemption.user_id)
    closed = await session.execute(
        update(Redemption)
        .where(Redemption.id == redemption_id, Redemption.status == REDEMPTION_HELD)
        .values(status=status, closed_at=app.now(), closed_by=actor_id)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        current = await session.get(Redemption, redemption_id, populate_existing=True)
        key = (
            "shop.already_handed_over"
            if current is not None and current.status == REDEMPTION_HANDED_OVER
            else "shop.already_cancelled"
        )
        raise UserError(key)
    return redemption


async def hand_over(
    app: AppContext, session: AsyncSession, staff_user_id: int, redemption_id: int
) -> RedemptionView:
    """Staff gave the reward: the held points are spent (a release + spend pair)."""
    await begin_write(session)
    await _require_staff(session, staff_user_id)
    redemption = await _close(app, session, redemption_id, staff_user_id, REDEMPTION_HANDED_OVER)
    reward = await session.get(Reward, redemption.reward_id)
    assert reward is not None
    t = ledger.record_language(app)
    source = str(redemption.id)
    for kind, amount, key in (
        (KIND_RELEASE, redemption.price, "points.reason.release_for_spend"),
        (KIND_SPEND, -redemption.price, "points.reason.spend"),
    ):
        await ledger.insert_entry(
            app,
            session,
            user_id=redemption.user_id,
            amount=amount,
            kind=kind,
            reason=t(key, reward=reward.name, code=redemption.code),
            source_type="redemption",
            source_id=source,
            approved_by=staff_user_id,
        )
    audit.record(session, staff_user_id, "redemption.hand_over", "redemption", redemption.id)
    await session.commit()
    view = await redemption_view(session, redemption.id)
    await app.notifier.notify(
        view.user_id, Notice("shop.handed_over", {"reward": view.reward_name, "code": view.code})
    )
    return view


async def cancel(
    app: AppContext, session: AsyncSession, actor_id: int, redemption_id: int
) -> RedemptionView:
    """Staff (any) or the volunteer (their own) cancel: points released, stock back."""
    await begin_write(session)
    redemption = await session.get(Redemption, redemption_id, populate_existing=True)
    if redemption is None:
        raise UserError("shop.unknown_redemption")
    by_staff = await session.get(Staff, actor_id) is not None
    if not by_staff and redemption.user_id != actor_id:
        raise UserError("errors.stale_button")
    redemption = await _close(app, session, redemption_id, actor_id, REDEMPTION_CANCELLED)
    await session.execute(
        update(Reward)
        .where(Reward.id == redemption.reward_id)
        .values(stock=Reward.stock + 1)
        .execution_options(synchronize_session=False)
    )
    reward = await session.get(Reward, redemption.reward_id)
    assert reward is not None
    t = ledger.record_language(app)
    await ledger.insert_entry(
        app,
        session,
        user_id=redemption.user_id,
        amount=redemption.price,
        kind=KIND_RELEASE,
        reason=t("points.reason.release_cancel", reward=reward.name, code=redemption.code),
        source_type="redemption",
        source_id=str(redemption.id),
        approved_by=actor_id if by_staff else None,
    )
    audit.record(session, actor_id, "redemption.cancel", "redemption", redemption.id)
    await session.commit()
    view = await redemption_view(session, redemption.id)
    if actor_id != view.user_id:
        await app.notifier.notify(
            view.user_id,
            Notice(
                "shop.cancelled_by_staff",
                {"reward": view.reward_name, "code": view.code, "points": view.price},
            ),
        )
    return view
