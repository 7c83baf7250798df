"""How services talk to people without knowing about Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell someone: ``kind`` picks the renderer, ``params`` fill it."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SentRef:
    chat_id: int
    message_id: int


class Notifier(Protocol):
    async def notify(self, user_id: int, notice: Notice) -> SentRef | None:
        """Tell a user (our id). Returns where it landed, or None if it could not be sent."""

    async def notify_chat(self, chat_id: int, notice: Notice) -> SentRef | None:
        """Post to a chat (a grid's group), rendered in the community's default language."""

    async def edit(self, ref: SentRef, notice: Notice, lang: str | None = None) -> bool:
        """Replace a message sent earlier. False if it could not be edited."""


class RecordingNotifier:
    """A Notifier for tests and the CLI: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, Notice]] = []
        self.edits: list[tuple[SentRef, Notice]] = []
        self._next = 0

    async def notify(self, user_id: int, notice: Notice) -> SentRef | None:
        self.sent.append((user_id, notice))
        self._next += 1
        return SentRef(user_id, self._next)

    async def notify_chat(self, chat_id: int, notice: Notice) -> SentRef | None:
        return await self.notify(chat_id, notice)

    async def edit(self, ref: SentRef, notice: Notice, lang: str | None = None) -> bool:
        self.edits.append((ref, notice))
        return True

    def kinds(self, user_id: int | None = None) -> list[str]:
        return [n.kind for uid, n in self.sent if user_id is None or uid == user_id]
