"""Every text exists in zh-CN and en with the same placeholders; every key used in code exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalog, render_text, t

ROOT = Path(__file__).resolve().parents[2]
KEY_IN_CODE = re.compile(r"""(?:\bt|UserError|Notice)\(\s*"([a-z_]+(?:\.[a-z0-9_]+)+)\"""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    assert sorted(set(zh) - set(en)) == [], "missing in en"
    assert sorted(set(en) - set(zh)) == [], "missing in zh-CN"


def test_placeholders_match_between_languages() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    wrong = {
        k: (_placeholders(zh[k]), _placeholders(en[k]))
        for k in zh
        if _placeholders(zh[k]) != _placeholders(en.get(k, ""))
    }
    assert wrong == {}


def test_every_literal_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if "fakeapi" in path.parts:
                continue
            used |= set(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    import handlers
    from bot.tg.dispatcher import build_dispatcher  # noqa: F401
    from bot.tg.render import RENDERERS

    handlers.routers()
    used -= set(RENDERERS)  # notice kinds with their own renderer are not locale keys
    for lang in LANGUAGES:
        missing = sorted(k for k in used if k not in catalog(lang))
        assert missing == [], f"{lang} lacks {missing}"


def test_status_texts_cover_every_wish_state() -> None:
    from bot.services.intake.wish_states import STATES

    for lang in LANGUAGES:
        assert {f"status.wish.{s}" for s in STATES} <= set(catalog(lang))


# --- wording found in review (issue 10) ---------------------------------------------------

NUMBERED = re.compile(r"\{(id|into)\}")


def test_one_numbering_form_in_chinese() -> None:
    """Wishes, tasks and events are numbered "#12" for every audience, never "12 号" or "#12 号"."""
    zh = catalog("zh-CN")
    doubled = {k: v for k, v in zh.items() if re.search(r"\{(id|into)\}\s*号", v)}
    assert doubled == {}
    for lang in LANGUAGES:
        texts = catalog(lang)
        bare = {
            k: v
            for k, v in texts.items()
            for m in NUMBERED.finditer(v)
            if v[max(0, m.start() - 1) : m.start()] != "#"
        }
        assert bare == {}, lang


@pytest.mark.parametrize(
    ("key", "wanted", "unwanted"),
    [
        ("events.form.published", "{volunteers} 位志愿者、{groups} 个联络群", "位（个）"),
        ("why.reason_own_wish", "这是本人提的心愿", "他/她"),
        ("why.reason_excluded", "本人", "他/她"),
        ("why.skill", "服务技能", None),
        ("volunteer.summary", "服务技能：", "服务类别"),
        ("staff.volunteer_card", "服务技能：", "服务类别"),
        ("me.volunteer", "服务技能：", "服务类别"),
        ("me.edit_skills", "服务技能", "服务类别"),
        ("events.form.skills_ask", "服务技能", "服务类别"),
        ("staff.no_taker", "请社区协调", "吹哨"),
        ("wish.time_flexible", "不限", "时间"),
        ("offer.pause_week", "7 天", "本周"),
        ("offer.paused", "7 天", "这一周"),
        ("points.passbook_held", "兑换中（待领取）", "冻结"),
        ("points.kind.hold", "兑换中（待领取）", "冻结"),
        ("points.reason.hold", "兑换中", "冻结"),
        ("points.reason.release_for_spend", "兑换中", "冻结"),
        ("shop.redeemed", "兑换中（待领取）", "冻结"),
        ("history.filed", "已提交", None),
    ],
)
def test_reviewed_chinese_wording(key: str, wanted: str, unwanted: str | None) -> None:
    text = catalog("zh-CN")[key]
    assert wanted in text
    if unwanted is not None:
        assert unwanted not in text


def test_whistle_means_escalation_to_departments_only() -> None:
    zh = catalog("zh-CN")
    whistles = {k for k, v in zh.items() if "吹哨" in v}
    escalation_deadlines = {
        "deadline.escalation_reminder",
        "deadline.escalation_overdue",
        "deadline.queue_due",
        "deadline.queue_overdue",
    }
    # The dashboard's escalation pages and buttons (上报部门).
    dashboard = {
        "web.escalate",
        "web.k_escalations",
        "web.done_escalate",
        "web.escalated_hint",
        "web.escalations",
        "webops.nav_escalations",
        "webops.esc_title",
        "webops.esc_done_answer_already",
    }
    allowed = {"staff.escalate", "staff.escalated"} | escalation_deadlines | dashboard
    assert whistles <= allowed, whistles


def test_no_chinese_text_says_frozen_points() -> None:
    assert [k for k, v in catalog("zh-CN").items() if "冻结" in v] == []


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0 wishes"), (1, "1 wish"), (2, "2 wishes"), (21, "21 wishes")]
)
def test_english_plural_spec(n: int, text: str) -> None:
    assert render_text("{n:plural:# wish|# wishes}", n=n) == text


def test_english_texts_agree_with_their_numbers() -> None:
    assert "1 wish " in t("en", "wish.too_many_open", max=1)
    assert "3 wishes" in t("en", "wish.too_many_open", max=3)
    one = t("en", "events.form.published", id=4, title="Clean-up", volunteers=1, groups=1)
    assert "1 volunteer and 1 group chat." in one
    many = t("en", "events.form.published", id=4, title="Clean-up", volunteers=5, groups=2)
    assert "5 volunteers and 2 group chats." in many
    assert t("en", "common.age_days", n=1) == "1 day"


def test_every_english_plural_has_two_forms() -> None:
    for key, text in catalog("en").items():
        for _, _name, spec, _ in string.Formatter().parse(text):
            if spec and spec.startswith("plural:"):
                assert len(spec.split("|")) == 2, key
                assert t("en", key, **dict.fromkeys(_placeholders(text), 1))


def test_every_kind_of_small_talk_has_an_answer() -> None:
    from matching.smalltalk import KINDS

    for lang in LANGUAGES:
        assert {f"smalltalk.{k}" for k in KINDS} <= set(catalog(lang)), lang
