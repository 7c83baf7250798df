"""Text formatting as Telegram applies it: HTML parse_mode to plain text plus entities.

Offsets and lengths are UTF-16 code units, as in the Bot API. The HTML check is deliberately
as strict as Telegram's: a bare `<` or an unknown tag is refused, which is exactly the bug
(unescaped user text inside an HTML message) this fake is meant to surface in tests.
"""

from __future__ import annotations

import re
from typing import Any

from bot.fakeapi.errors import ApiError, bad_request

# Tag name -> entity type. `span` is only valid as <span class="tg-spoiler">.
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_CHARS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_TAG_NAME = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9-]*)")
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram attaches to a message starting with a command."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


def parse_html(raw: str) -> tuple[str, list[dict[str, Any]]]:
    """Strip Telegram HTML to plain text and entities; refuse what Telegram refuses."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the text produced so far
    open_tags: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(raw):
        char = raw[pos]
        if char == "&":
            ref = _CHAR_REF.match(raw, pos)
            piece = _decode_char_ref(ref.group(1)) if ref else "&"
            pos = ref.end() if ref else pos + 1
        elif char == "<":
            end = raw.find(">", pos)
            if end < 0:
                raise _parse_error(f"unclosed start tag at byte offset {_byte_offset(raw, pos)}")
            body = raw[pos + 1 : end]
            if body.startswith("/"):
                _close_tag(body[1:].strip().lower(), open_tags, entities, out_len, raw, pos)
            else:
                name, attrs = _open_tag(body, raw, pos)
                open_tags.append((name, out_len, attrs))
            pos = end + 1
            continue
        else:
            piece = char
            pos += 1
        out.append(piece)
        out_len += utf16_len(piece)
    if open_tags:
        raise _parse_error(f'can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


def _open_tag(body: str, raw: str, pos: int) -> tuple[str, dict[str, str]]:
    match = _TAG_NAME.match(body)
    name = match.group(1).lower() if match else body
    if match is None or match.start(1) != 0 or name not in _TAG_ENTITY:
        raise _parse_error(
            f'unsupported start tag "{name}" at byte offset {_byte_offset(raw, pos)}'
        )
    attrs = {
        found.group(1).lower(): next(g for g in found.groups()[1:] if g is not None)
        for found in _ATTR.finditer(body, match.end())
    }
    if name == "blockquote" and re.search(r"\bexpandable\b", body):
        attrs["expandable"] = ""
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _parse_error(f'unsupported start tag "span" at byte offset {_byte_offset(raw, pos)}')
    return name, attrs


def _close_tag(
    name: str,
    open_tags: list[tuple[str, int, dict[str, str]]],
    entities: list[dict[str, Any]],
    out_len: int,
    raw: str,
    pos: int,
) -> None:
    if not open_tags or open_tags[-1][0] != name:
        expected = f'expected "</{open_tags[-1][0]}>", ' if open_tags else ""
        raise _parse_error(
            f"unmatched end tag at byte offset {_byte_offset(raw, pos)}, "
            f'{expected}found "</{name}>"'
        )
    tag, start, attrs = open_tags.pop()
    if out_len == start:
        return  # Telegram silently drops empty entities
    entity: dict[str, Any] = {"type": _TAG_ENTITY[tag], "offset": start, "length": out_len - start}
    if tag == "a":
        if "href" not in attrs:
            return  # <a> without href is plain text in Telegram
        entity["url"] = attrs["href"]
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif tag == "code" and open_tags and open_tags[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        language = attrs.get("class", "").removeprefix("language-")
        if language:
            open_tags[-1][2]["language"] = language
        return
    elif tag == "pre" and "language" in attrs:
        entity["language"] = attrs["language"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def _decode_char_ref(ref: str) -> str:
    if ref in _NAMED_CHARS:
        return _NAMED_CHARS[ref]
    code = int(ref[2:], 16) if ref.startswith("#x") else int(ref[1:])
    return chr(code) if code <= 0x10FFFF else "\ufffd"


def _byte_offset(raw: str, pos: int) -> int:
    return len(raw[:pos].encode())


def _parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason[0].upper()}{reason[1:]}")
