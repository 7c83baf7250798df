"""Logging: one line per event, plain or JSON lines. Never log a phone number."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.config import LoggingConfig


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(config: LoggingConfig) -> None:
    handler = logging.StreamHandler()
    if config.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.level)
    # aiogram logs every handled update at INFO; keep that at our level only when debugging.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
