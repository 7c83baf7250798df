"""The notifier of a simulated run: keeps the notices the simulated people act on (offer cards,
group posts) and only counts the others."""

from __future__ import annotations

from collections import Counter

from bot.services.notices import Notice, SentRef


class SimNotifier:
    """Keeps the notices the simulated people act on; everything else is only counted."""

    def __init__(self) -> None:
        self.offer_cards: list[tuple[int, int]] = []  # (volunteer, offer id)
        self.group_posts: list[tuple[int, int]] = []  # (chat id, wish id)
        self.kinds: Counter[str] = Counter()
        self._next = 0

    async def notify(self, user_id: int, notice: Notice) -> SentRef | None:
        self.kinds[notice.kind] += 1
        if notice.kind == "offer.card":
            self.offer_cards.append((user_id, int(notice.params["offer_id"])))
        self._next += 1
        return SentRef(user_id, self._next)

    async def notify_chat(self, chat_id: int, notice: Notice) -> SentRef | None:
        self.kinds[notice.kind] += 1
        if notice.kind == "group.wish_post":
            self.group_posts.append((chat_id, int(notice.params["id"])))
        self._next += 1
        return SentRef(chat_id, self._next)

    async def edit(self, ref: SentRef, notice: Notice, lang: str | None = None) -> bool:
        return True
