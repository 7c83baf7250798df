"""Logging: one line per event, plain or JSON lines. Never log a phone number.

Each line carries the context of the update being handled (update id, the person's internal
id, the wish id where known) from context variables, so one person's trouble can be followed
through the log without a Telegram id or a name in it.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from bot.config import LoggingConfig

_update: ContextVar[int | None] = ContextVar("log_update", default=None)
_user: ContextVar[int | None] = ContextVar("log_user", default=None)
_wish: ContextVar[int | None] = ContextVar("log_wish", default=None)


def bind(*, update: int | None = None, user: int | None = None, wish: int | None = None) -> None:
    """Add what is known to the current task's log context (None leaves a field as it is)."""
    if update is not None:
        _update.set(update)
    if user is not None:
        _user.set(user)
    if wish is not None:
        _wish.set(wish)


def clear() -> None:
    _update.set(None)
    _user.set(None)
    _wish.set(None)


def context() -> dict[str, int]:
    fields = {"update": _update.get(), "user": _user.get(), "wish": _wish.get()}
    return {key: value for key, value in fields.items() if value is not None}


class ContextFilter(logging.Filter):
    """Puts the update context on every record: ``record.ctx`` (text) and ``record.context``."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = context()
        record.context = fields
        record.ctx = "".join(f" {key}={value}" for key, value in fields.items())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "context", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s:%(ctx)s %(message)s"


def setup_logging(config: LoggingConfig) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if config.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.level)
    # aiogram logs every handled update at INFO; keep that at our level only when debugging.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
    # Start-up chatter an operator cannot act on: Alembic's "Context impl SQLiteImpl." and
    # APScheduler's "Adding job tentatively" lines.
    for noisy in ("alembic.runtime.migration", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
