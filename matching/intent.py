"""Is this message a request for help, or a suggestion / complaint about the neighbourhood?

`intent(text)` returns "suggestion" (社情民意: an opinion, a proposal, a complaint about how
things are run or kept) or "request" (a micro-wish: someone wants a concrete thing done for
them). The bot asks the resident when it reads a suggestion (it offers "提建议"), so a wrong
"suggestion" costs one tap; a wrong "request" costs nothing either, the resident can still
send `/suggest`. The rule therefore leans to "request" unless the evidence is clear.

Evidence, scored on the normalised text:

- suggestion cues: 建议 / 希望社区 / 能不能把 ... 改 / 投诉 / 反映 / 意见 / 太乱了 / 没人管 /
  应该 / 总是 / 老是 / 一直没 / 提个意见, and English "suggest", "complain", "should"...
- request cues: 帮我 / 帮忙 / 能来 / 有人能 / 需要人 / 我家 / 修一下 / 陪 / 代买, questions about
  one's own situation (想找 / 看什么科 / 怎么申请), and "help me", "can someone", "my ...";
  a personal need outweighs a general remark.

A suggestion needs clear evidence: at least 2 points, and 1 more than the request cues (one
weak cue such as 老是 or "should" is not enough).

Public-space words (小区, 楼道, 路灯, 停车, 垃圾分类, 广场舞, 噪音, 物业...) tip a near tie to a
suggestion: they are about everyone, not about the sender's own home.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.text import compact, normalize

__all__ = ["INTENTS", "IntentResult", "classify_intent", "intent"]

INTENTS = ("request", "suggestion")

# (cue, weight). Longer, clearer phrases weigh more.
_SUGGESTION: tuple[tuple[str, float], ...] = (
    ("建议", 2.0),
    ("提个建议", 1.0),
    ("提建议", 1.0),
    ("提个意见", 2.0),
    ("意见", 1.5),
    ("投诉", 2.5),
    ("反映", 1.5),
    ("希望社区", 2.0),
    ("希望物业", 2.0),
    ("希望能", 1.0),
    ("社区能不能", 1.5),
    ("物业能不能", 1.5),
    ("能不能把", 1.0),
    ("应该", 1.0),
    ("没人管", 1.5),
    ("不管", 1.0),
    ("太乱", 1.5),
    ("太吵", 1.5),
    ("乱停", 1.5),
    ("乱扔", 1.5),
    ("乱堆", 1.5),
    ("老是", 1.0),
    ("总是", 1.0),
    ("一直没", 1.0),
    ("好久了", 0.5),
    ("整改", 2.0),
    ("改进", 1.5),
    ("改善", 1.5),
    ("增设", 2.0),
    ("增加", 1.0),
    ("加装", 1.5),
    ("多装", 1.5),
    ("不合理", 2.0),
    ("不满意", 1.5),
    ("有安全隐患", 1.0),
    ("suggest", 2.0),
    ("suggestion", 1.0),
    ("complain", 2.5),
    ("complaint", 1.0),
    ("should", 1.0),
    ("should have", 1.0),
    ("propose", 2.0),
    ("it would be nice", 1.5),
    ("why does nobody", 2.0),
    ("nobody fixes", 2.0),
    ("improve", 1.5),
)
_REQUEST: tuple[tuple[str, float], ...] = (
    ("帮我", 2.0),
    ("帮帮", 2.0),
    ("帮忙", 1.5),
    ("能来", 1.5),
    ("来一下", 1.5),
    ("有人能", 1.5),
    ("谁能", 1.0),
    ("需要人", 1.5),
    ("找人", 1.0),
    ("我家", 1.5),
    ("我们家", 1.5),
    ("家里", 1.0),
    ("我妈", 1.0),
    ("我爸", 1.0),
    ("老伴", 1.0),
    ("修一下", 1.5),
    ("修修", 1.0),
    ("陪", 1.0),
    ("代买", 1.5),
    ("买点", 1.0),
    ("教我", 1.5),
    ("辅导", 1.0),
    ("接送", 1.0),
    ("上门", 1.0),
    ("help me", 2.0),
    ("can someone", 1.5),
    ("could someone", 1.5),
    ("anyone help", 1.5),
    ("i need", 1.5),
    ("my ", 1.0),
    # Questions about one's own situation ask for help, not for a change.
    ("想找", 1.5),
    ("想请", 1.0),
    ("想学", 1.5),
    ("有没有人", 1.5),
    ("有没有医生", 1.5),
    ("怎么申请", 1.5),
    ("怎么办", 1.0),
    ("多少钱", 1.0),
    ("补贴多少", 1.0),
    ("去哪里", 1.0),
    ("看什么科", 1.5),
    ("是不是", 1.0),
    ("能告", 1.5),
    ("which doctor", 1.5),
    ("where should i", 1.5),
)
_PUBLIC: tuple[str, ...] = (
    "小区",
    "楼道",
    "路灯",
    "停车",
    "垃圾分类",
    "垃圾桶",
    "广场舞",
    "噪音",
    "物业",
    "绿化",
    "健身器材",
    "电梯",
    "社区",
    "公共",
    "大家",
    "居民",
    "neighbourhood",
    "neighborhood",
    "estate",
    "street light",
    "parking",
)
_PUBLIC_WEIGHT = 0.5  # per public-space word, at most twice
_MARGIN = 1.0  # a suggestion needs this much more evidence than a request
_FLOOR = 2.0  # and this much at least: one weak cue ("老是", "should") is not enough


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: str  # one of INTENTS
    suggestion_score: float
    request_score: float


def _score(text: str, cues: tuple[tuple[str, float], ...]) -> float:
    total = 0.0
    for cue, weight in cues:
        if cue in text:
            total += weight
    return total


def classify_intent(text: str) -> IntentResult:
    """Score both intents; see the module docstring for the rule."""
    spaced = f" {normalize(text)} "
    joined = compact(spaced)
    suggestion = _score(joined, tuple(c for c in _SUGGESTION if " " not in c[0]))
    suggestion += _score(spaced, tuple(c for c in _SUGGESTION if " " in c[0]))
    request = _score(joined, tuple(c for c in _REQUEST if " " not in c[0]))
    request += _score(spaced, tuple(c for c in _REQUEST if " " in c[0]))
    public = sum(1 for word in _PUBLIC if (word in joined if " " not in word else word in spaced))
    if suggestion > 0:
        suggestion += _PUBLIC_WEIGHT * min(public, 2)
    clear = suggestion >= _FLOOR and suggestion >= request + _MARGIN
    kind = "suggestion" if clear else "request"
    return IntentResult(kind, suggestion, request)


def intent(text: str) -> str:
    """ "suggestion" or "request" (see the module docstring)."""
    return classify_intent(text).intent
