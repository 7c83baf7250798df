"""Filing on behalf (代办): a resident's recorded consent, and which wish who filed for whom.

A resident without Telegram is an ordinary ``users`` row with no ``telegram_id`` and a
``residents`` row (the web form's residents are the same); nothing else about them changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class ResidentConsent(Base):
    """The resident agreed that a grid worker (or staff, or a volunteer) files for them."""

    __tablename__ = "resident_consents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # spoken | signed
    given_at: Mapped[datetime]
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class ProxyFiling(Base):
    """A wish filed for a resident by someone else: the filer stands in for them in the bot."""

    __tablename__ = "proxy_filings"

    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), primary_key=True)
    filer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("resident_consents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
