"""The database session of the update being handled, for code that aiogram calls for us.

The update's session is opened once (by the update pump, or the session middleware when an
update is fed some other way) and published here, so the conversation-state store works in
the same session instead of taking a second connection from the pool: two connections per
update deadlock as soon as half the pool's worth of people write at once.
"""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)
