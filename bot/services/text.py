"""What a person typed, without what cannot be seen."""

from __future__ import annotations

import unicodedata

# Format (Cf: zero-width space/joiners, BOM, bidi marks, soft hyphen...) and control (Cc)
# characters draw nothing; line breaks and tabs are kept, they are layout.
_KEPT = {"\n", "\t"}


def visible(text: str) -> str:
    """``text`` without zero-width and control characters, stripped at both ends.

    A text of only such characters is empty, so it is refused like an empty one.
    """
    kept = (ch for ch in text if ch in _KEPT or unicodedata.category(ch) not in ("Cf", "Cc", "Cs"))
    return "".join(kept).strip()
