"""The web dashboard's rows: one-time login links, sessions, wall-screen display tokens, and
where each staff review card was sent (so a review on the web edits the bot's cards)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class WebLoginLink(Base):
    """A link the bot sent to a staff member; works once, for a few minutes. Only the hash of
    its secret part is stored."""

    __tablename__ = "web_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A logged-in browser. Ends on logout or after ``web.session_idle_minutes`` unused."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class DisplayToken(Base):
    """A read-only token for the wall screen (big screen), issued and revoked by staff."""

    __tablename__ = "display_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))  # None: every grid
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class WishStaffCard(Base):
    """A staff review card the bot sent for a wish: edited when the wish is reviewed anywhere."""

    __tablename__ = "wish_staff_cards"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
