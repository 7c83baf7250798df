"""Phone and ID-card numbers typed into free text, masked for everyone but who must see them.

The writer sees their own words and staff see them on the review card; everyone else (the
volunteers offered a wish, the one holding it, a linked group, other staff views) reads
``138****5678``. The holder reaches the resident through the contact button while holding.
"""

from __future__ import annotations

import re

# 18-digit resident ID (the last may be X); not part of a longer run of digits or letters.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Mainland mobile: 1[3-9] and 9 more digits, maybe +86, maybe spaced or dashed 3-4-4.
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)")
# Landline with its area code: 0xx(x), optional brackets, 7-8 digits.
_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[- ]?\d{7,8}(?!\d)")


def _stars(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = [c for c in found if c.isalnum()]
    if len(digits) == 13 and digits[:2] == ["8", "6"]:
        digits = digits[2:]  # +86: the mobile number itself is what is masked
    keep_head = 6 if len(digits) == 18 else 3
    masked = digits[:keep_head] + ["*"] * (len(digits) - keep_head - 4) + digits[-4:]
    return "".join(masked)


def mask_personal(text: str | None) -> str:
    """``text`` with ID-card, mobile and landline numbers masked (digits kept: 3 + last 4)."""
    if not text:
        return ""
    for pattern in (_ID_CARD, _MOBILE, _LANDLINE):
        text = pattern.sub(_stars, text)
    return text
