"""People and places: users, their role profiles, grids, invite codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, BigIntPK, utcnow


class User(Base):
    """Anyone who has talked to the bot. Roles come from the profile rows below."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # Null once the person erased their data (/delete_me): the row only anchors the audit trail.
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    resident: Mapped[Resident | None] = relationship(back_populates="user", lazy="selectin")
    volunteer: Mapped[Volunteer | None] = relationship(
        back_populates="user", lazy="selectin", foreign_keys="Volunteer.user_id"
    )
    staff: Mapped[Staff | None] = relationship(
        back_populates="user", lazy="selectin", foreign_keys="Staff.user_id"
    )


class Grid(Base):
    """A grid (网格) from config; synced at start-up, never deleted (history points at it)."""

    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    community: Mapped[str] = mapped_column(String(64))
    neighbours: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class Resident(Base):
    __tablename__ = "residents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(64))
    # Kept only so the volunteer holding a task can call; masked everywhere else.
    phone: Mapped[str | None] = mapped_column(String(32))
    share_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="resident")
    grid: Mapped[Grid] = relationship(lazy="selectin")


class Volunteer(Base):
    """An in-service member (在职党员) registered with the community where they live."""

    __tablename__ = "volunteers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(128))
    branch: Mapped[str] = mapped_column(String(128))
    occupation: Mapped[str] = mapped_column(String(64))
    skills: Mapped[list[str]] = mapped_column(default=list)
    specialties: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[list[str]] = mapped_column(default=list)
    max_active_tasks: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    public_board: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 党群接单: "member" (在职党员, counted in 报到率/活动率 and evaluations) or "resident"
    # (群众志愿者: claims and earns points the same, counted only in outcome figures).
    kind: Mapped[str] = mapped_column(String(12), default="member", server_default="member")

    user: Mapped[User] = relationship(back_populates="volunteer", foreign_keys=[user_id])
    grid: Mapped[Grid] = relationship(lazy="selectin")


class Staff(Base):
    __tablename__ = "staff"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), default="community")  # community | grid
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="staff", foreign_keys=[user_id])
    grid: Mapped[Grid | None] = relationship(lazy="selectin")


class InviteCode(Base):
    """A one-time code shared as a deep link; works once, until it expires."""

    __tablename__ = "invite_codes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # staff | volunteer
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what to which object, when. Survives /delete_me (the user row is anonymised)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[str] = mapped_column(String(48))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ConversationState(Base):
    """aiogram FSM state kept in the database, so a half-finished form survives a restart."""

    __tablename__ = "conversation_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
