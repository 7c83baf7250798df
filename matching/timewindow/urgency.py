"""Whether a wish is urgent (急, 尽快, ASAP), unless negated (不急, no rush)."""

from __future__ import annotations

import re

_URGENT_ZH = re.compile(r"十万火急|越快越好|着急|紧急|尽快|马上|赶紧|赶快|立刻|立即|急")
_NEGATION_ZH = re.compile(
    r"(?:不|别|没|不用|不必|不需要|不是很|不太|不那么|没那么)[很太那么是用]*$"
)
_URGENT_EN = re.compile(
    r"\basap\b|\burgent(?:ly)?\b|\bright away\b|\bas soon as possible\b|\bimmediately\b"
    r"|\bemergency\b"
)
_NOT_URGENT_EN = re.compile(
    r"\bnot\s+(?:very\s+|that\s+|so\s+)?urgent\b|\bno\s+rush\b|\bno\s+hurry\b"
    r"|\bnot\s+in\s+a\s+hurry\b|\bnot\s+an\s+emergency\b"
)


def is_urgent(folded: str) -> bool:
    for match in _URGENT_ZH.finditer(folded):
        before = folded[max(0, match.start() - 4) : match.start()]
        if _NEGATION_ZH.search(before):
            continue  # 不急, 不着急, 不用马上, 不是很急
        if match.group() == "马上" and re.match(r"就?要", folded[match.end() :]):
            continue  # 马上要中考了: "about to", not "right now"
        return True
    english = _NOT_URGENT_EN.sub(" ", folded)
    return _URGENT_EN.search(english) is not None
