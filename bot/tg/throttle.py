"""Per-person throttle: one person's flood cannot crowd out everyone else.

Past ``burst`` messages in ``window`` seconds, the person gets one kind notice and further
messages are ignored for ``cooldown`` seconds. Button presses (callback queries) always go
through: a person in a form must be able to finish it. The update pump asks as it fetches, so
ignored messages never reach the dispatcher (no database work) and never queue up behind the
person's earlier ones (they are done, and confirmed, at once). State is in this process only
(a person's updates come through one pump); an entry is dropped once its window and cool-down
are over.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.types import Update

from bot.i18n import Translator, normalize_language

log = logging.getLogger(__name__)


@dataclass
class _Person:
    times: deque[float] = field(default_factory=deque)
    quiet_until: float = 0.0


class Throttle:
    def __init__(
        self,
        burst: int,
        window: float,
        cooldown: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.window = window
        self.cooldown = cooldown
        self._clock = clock
        self._people: dict[int, _Person] = {}
        self._last_sweep = 0.0
        self.ignored = 0

    def __len__(self) -> int:
        return len(self._people)

    def quiet_now(self) -> int:
        """People whose messages are being ignored right now."""
        now = self._clock()
        return sum(1 for p in self._people.values() if now < p.quiet_until)

    def check(self, user_id: int) -> str:
        """``"ok"``, ``"notice"`` (the first message past the burst) or ``"ignore"``."""
        now = self._clock()
        self._sweep(now)
        person = self._people.setdefault(user_id, _Person())
        if now < person.quiet_until:
            self.ignored += 1
            return "ignore"
        times = person.times
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        if len(times) <= self.burst:
            return "ok"
        times.clear()
        person.quiet_until = now + self.cooldown
        self.ignored += 1
        return "notice"

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        stale = [
            uid
            for uid, p in self._people.items()
            if now >= p.quiet_until and (not p.times or p.times[-1] <= now - self.window)
        ]
        for uid in stale:
            del self._people[uid]

    def verdict(self, update: Update) -> str:
        """``check`` for an update: only a person's messages in a private chat count."""
        message = update.message
        if message is None or message.from_user is None or message.chat.type != "private":
            return "ok"  # buttons, group posts, edits and the rest are not throttled
        return self.check(message.from_user.id)

    async def notify(self, bot: Bot, update: Update) -> None:
        """The one kind notice, in the person's Telegram language."""
        message = update.message
        if message is None or message.from_user is None:
            return
        t = Translator(normalize_language(message.from_user.language_code))
        try:
            await bot.send_message(
                message.chat.id, t("throttle.notice", seconds=round(self.cooldown))
            )
        except Exception as exc:  # blocked us, network: the throttle holds regardless
            log.info("throttle notice to %s not sent: %s", message.chat.id, exc)
