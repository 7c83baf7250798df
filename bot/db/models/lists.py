"""三张清单 (resources, service projects) and 召集人汇总 (convenors, declaration batches)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow

RESOURCE_KINDS = ("unit", "venue", "equipment", "skill")
PROJECT_ACTIVE = "active"
PROJECT_DONE = "done"
BATCH_FORWARDED = "forwarded"  # the convenor sent it; staff verify
BATCH_VERIFIED = "verified"  # every item decided
BATCH_RETURNED = "returned"  # staff sent it back; its undecided items may be batched again
BATCH_STATES = (BATCH_FORWARDED, BATCH_VERIFIED, BATCH_RETURNED)


class Resource(Base):
    """资源清单: what a partner organisation (共建单位) or a member offers, when, and whom to call.

    The contact person and phone are for staff only: never shown outside staff views."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # unit | venue | equipment | skill
    title: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(128))
    available: Mapped[str] = mapped_column(String(128), default="")
    categories: Mapped[list[str]] = mapped_column(default=list)
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Project(Base):
    """项目清单 (书记项目 / service projects): owner, goal, milestones, linked wishes and events."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(64))
    goal: Mapped[str] = mapped_column(Text, default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=PROJECT_ACTIVE, index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectMilestone(Base):
    __tablename__ = "project_milestones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectLink(Base):
    """A wish or an event that serves a project."""

    __tablename__ = "project_links"
    __table_args__ = (UniqueConstraint("project_id", "kind", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # wish | event
    object_id: Mapped[int] = mapped_column(BigIntPK)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Convenor(Base):
    """召集人: a member who gathers the declarations of a grid or of a home organisation."""

    __tablename__ = "convenors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    branch: Mapped[str | None] = mapped_column(String(128))
    appointed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeclarationBatch(Base):
    """召集人汇总: declarations forwarded together with the convenor's summary."""

    __tablename__ = "declaration_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    convenor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=BATCH_FORWARDED, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]


class DeclarationBatchItem(Base):
    __tablename__ = "declaration_batch_items"

    batch_id: Mapped[int] = mapped_column(ForeignKey("declaration_batches.id"), primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id"), primary_key=True, index=True
    )
