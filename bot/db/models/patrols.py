"""治安巡查 patrols: routes (areas), shifts, who signed up and checked in, check-in codes, and
the hazards found on the way. Standing posts (楼道长, 党员先锋岗, 责任区): the post, each
member's term on it, and the monthly check-ins of a term."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class PatrolRoute(Base):
    """A patrol route or area of a grid; ``lat``/``lon`` is the meeting point for check-in."""

    __tablename__ = "patrol_routes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PatrolShift(Base):
    """One patrol on a route: open → full/closed → in_progress → done (or cancelled)."""

    __tablename__ = "patrol_shifts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("patrol_routes.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    # Kept beside the rows so a sign-up takes a place with one conditional UPDATE.
    taken: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finished_at: Mapped[datetime | None]


class PatrolSignup(Base):
    """One patroller on one shift: signed or cancelled; checked in by qr | code | location."""

    __tablename__ = "patrol_signups"
    __table_args__ = (UniqueConstraint("shift_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("patrol_shifts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="signed")  # signed | cancelled
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_at: Mapped[datetime | None]
    checkin_method: Mapped[str | None] = mapped_column(String(8))
    points_awarded: Mapped[int | None] = mapped_column(Integer)


class PatrolCheckinCode(Base):
    """A rotating check-in code of a shift: ``token`` in the QR deep link, ``pin`` typed."""

    __tablename__ = "patrol_checkin_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("patrol_shifts.id"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    pin: Mapped[str] = mapped_column(String(6), index=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Hazard(Base):
    """A hazard found on patrol. Staff decide: a safety wish, a 吹哨 escalation, or dismiss."""

    __tablename__ = "hazards"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_shifts.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # reported | wish | escalated | dismissed
    status: Mapped[str] = mapped_column(String(12), default="reported", index=True)
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Post(Base):
    """A standing post (楼道长 of building 8, 党员先锋岗 at the station, 责任区 of a grid)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # stairwell | vanguard | area
    title: Mapped[str] = mapped_column(String(64))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    duties: Mapped[str] = mapped_column(Text, default="")
    term_months: Mapped[int] = mapped_column(Integer, default=12)
    status: Mapped[str] = mapped_column(String(12), default="vacant", index=True)  # vacant|held
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostTerm(Base):
    """One member's term on a post: held → ended (term over, given back, or ended by staff)."""

    __tablename__ = "post_terms"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default="held")  # held | ended
    ended_at: Mapped[datetime | None]


class PostCheckin(Base):
    """A month's check-in on a post (a short report); one per term and month."""

    __tablename__ = "post_checkins"
    __table_args__ = (UniqueConstraint("term_id", "month"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("post_terms.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, community time
    report: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    points_awarded: Mapped[int | None] = mapped_column(Integer)
