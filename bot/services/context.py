"""What every service call needs besides its session: settings, the clock, the notifier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.services.notices import Notifier

if TYPE_CHECKING:
    from matching.classify import Classifier


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    notifier: Notifier
    clock: Callable[[], datetime] = system_clock
    classifier: Classifier | None = field(default=None)

    def now(self) -> datetime:
        return self.clock()
