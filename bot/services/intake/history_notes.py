"""History notes as codes with parameters, so each reader sees them in their own language.

A wish's history note (`WishEvent.note`, a text column) holds JSON such as
`{"code": "offer_round", "round": 2}`; the reader's locale has `history.offer_round`. Words a
person typed (a rejection reason, a dispute, a department's answer) are kept as
`{"code": "text", "text": ...}` and shown as written. Rows written before the codes existed
hold free text ("round 1", "released: busy", "category health→eldercare"): `decode` reads the
known shapes into the same codes and leaves anything else as text, so old rows still render.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["CODES", "decode", "encode", "plain_text"]

# code -> parameter names (all rendered by the `history.<code>` text).
CODES: dict[str, tuple[str, ...]] = {
    "filed": (),
    "filed_web": (),  # through the web form (H5): staff phone the resident before approving
    "details": (),
    "auto": (),
    "by_resident": (),
    "by_staff": (),
    "recategorised": ("from", "to"),
    "offer_round": ("round",),
    "no_volunteer": (),
    "released": ("reason",),
    "time_agreed": (),
    "time_changed": (),
    "rated": ("stars",),
    "dispute_accepted": (),
    "dispute_redo": (),
    "dispute_closed": (),
    "thanked": (),
    "merged_into": ("into",),
    "merged_from": ("id",),
    "text": ("text",),
    "filed_for": (),  # 代办: filed by a grid worker / staff for a resident without Telegram
}


def encode(code: str, **params: Any) -> str:
    """The note to store; unknown codes and missing parameters are programming errors."""
    wanted = CODES[code]
    if set(params) != set(wanted):
        raise ValueError(f"history note {code!r} takes {wanted}, got {sorted(params)}")
    return json.dumps({"code": code, **params}, ensure_ascii=False, sort_keys=True)


_LEGACY: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"filed"), "filed", ()),
    (re.compile(r"details"), "details", ()),
    (re.compile(r"auto"), "auto", ()),
    (re.compile(r"resident"), "by_resident", ()),
    (re.compile(r"staff"), "by_staff", ()),
    (re.compile(r"category (\S+)→(\S+)"), "recategorised", ("from", "to")),
    (re.compile(r"round (\d+)"), "offer_round", ("round",)),
    (re.compile(r"no volunteer left"), "no_volunteer", ()),
    (re.compile(r"released: (\w+)"), "released", ("reason",)),
    (re.compile(r"time agreed"), "time_agreed", ()),
    (re.compile(r"time changed"), "time_changed", ()),
    (re.compile(r"([1-5])★"), "rated", ("stars",)),
    (re.compile(r"dispute: accepted"), "dispute_accepted", ()),
    (re.compile(r"dispute: redo"), "dispute_redo", ()),
    (re.compile(r"dispute: closed"), "dispute_closed", ()),
    (re.compile(r"#(\d+)"), "merged_into", ("into",)),
    (re.compile(r"merged #(\d+)"), "merged_from", ("id",)),
]


def decode(note: str | None) -> tuple[str, dict[str, Any]] | None:
    """(code, params) of a stored note, reading old free-text rows too; None for no note."""
    if not note:
        return None
    if note.startswith("{"):
        try:
            data = json.loads(note)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("code") in CODES:
            code = str(data.pop("code"))
            if set(data) == set(CODES[code]):
                return code, data
    for pattern, code, names in _LEGACY:
        match = pattern.fullmatch(note)
        if match:
            values = match.groups()
            return code, {
                name: int(v) if v.isdigit() else v for name, v in zip(names, values, strict=True)
            }
    return "text", {"text": note}


def plain_text(note: str | None) -> str:
    """The words a person typed into a note ('' when the note is a system code)."""
    decoded = decode(note)
    if decoded is None or decoded[0] != "text":
        return ""
    return str(decoded[1]["text"])
