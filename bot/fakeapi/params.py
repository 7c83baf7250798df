"""Typed access to Bot API call parameters, whatever the body encoding was.

Values arrive as strings (multipart or urlencoded: aiogram JSON-encodes objects and arrays
into form fields), as decoded JSON values (a JSON body), or as uploaded files. Each getter
converts by the parameter's Bot API type and refuses as Telegram does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.fakeapi.errors import bad_request


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    content_type: str | None = None


class Params:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __contains__(self, name: str) -> bool:
        return self._values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or isinstance(value, Upload):
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str) -> int | None:
        value = self._values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except ValueError as error:
            raise bad_request(f"invalid {name} specified") from error

    def get_float(self, name: str) -> float | None:
        value = self._values.get(name)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError) as error:
            raise bad_request(f"invalid {name} specified") from error

    def get_bool(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        """An object or array parameter (reply_markup, entities, allowed_updates, ...)."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError as error:
            raise bad_request(f"can't parse {name} JSON object") from error

    def get_file(self, name: str) -> Upload | str | None:
        """An InputFile: an upload (directly or via attach://<field>) or a file_id / URL."""
        value = self._values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self._values.get(value.removeprefix("attach://"))
            if not isinstance(value, Upload):
                raise bad_request(f"wrong file identifier/HTTP URL specified for {name}")
        if value is None or isinstance(value, Upload | str):
            return value
        raise bad_request(f"wrong file identifier/HTTP URL specified for {name}")
