"""Wish classification: accuracy on labelled wishes, typo tolerance, learning, calibration."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.classify import (
    CategorySpec,
    Classification,
    Classifier,
    bench_classify,
    load_training,
)
from matching.text import cjk_bigrams, compact, latin_tokens, normalize

from .conftest import CATEGORIES_TOML

CATEGORY_IDS = [
    "repair",
    "errand",
    "eldercare",
    "children",
    "health",
    "legal",
    "mediation",
    "environment",
    "safety",
    "digital",
    "employment",
    "policy",
    "other",
]


def accuracy(classifier: Classifier, rows: list[tuple[str, str]]) -> tuple[float, float]:
    top1 = top3 = 0
    for expected, text in rows:
        result = classifier.classify(text)
        top1 += result.category == expected
        top3 += expected in (result.category, *result.alternatives)
    return top1 / len(rows), top3 / len(rows)


# --- the default taxonomy ------------------------------------------------------------------


def test_default_taxonomy_has_the_stable_ids_in_order_with_every_key() -> None:
    with CATEGORIES_TOML.open("rb") as fh:
        categories = tomllib.load(fh)["category"]
    assert [c["id"] for c in categories] == CATEGORY_IDS
    for c in categories:
        assert set(c) == {
            "id",
            "name_zh",
            "name_en",
            "keywords_zh",
            "keywords_en",
            "difficulty",
            "review",
            "verify",
            "points",
        }, c["id"]
        assert c["difficulty"] in ("easy", "normal", "hard")
        assert c["review"] in ("auto", "staff")
        assert isinstance(c["verify"], bool)
        assert set(c["points"]) == {"easy", "normal", "hard"}
        assert c["points"]["easy"] < c["points"]["normal"] < c["points"]["hard"]
        assert len(c["keywords_zh"]) >= 30 and len(c["keywords_en"]) >= 25, c["id"]


def test_risky_categories_are_always_reviewed_by_staff() -> None:
    with CATEGORIES_TOML.open("rb") as fh:
        review = {c["id"]: c["review"] for c in tomllib.load(fh)["category"]}
    assert {review[c] for c in ("legal", "mediation", "safety", "health")} == {"staff"}
    assert {review[c] for c in ("errand", "digital", "environment")} == {"auto"}


# --- accuracy -----------------------------------------------------------------------------


def test_dev_set_is_large_balanced_and_partly_english(dev_set: list[tuple[str, str]]) -> None:
    assert len(dev_set) >= 300
    counts = {c: sum(1 for label, _ in dev_set if label == c) for c in CATEGORY_IDS}
    assert min(counts[c] for c in CATEGORY_IDS if c != "other") >= 20, counts
    assert counts["other"] >= 5
    english = sum(1 for _, text in dev_set if len(latin_tokens(normalize(text))) >= 3)
    assert english / len(dev_set) >= 0.15


def test_dev_set_accuracy_floors(classifier: Classifier, dev_set: list[tuple[str, str]]) -> None:
    top1, top3 = accuracy(classifier, dev_set)
    print(f"\ndev set: n={len(dev_set)} top-1={top1:.3f} top-3={top3:.3f}")
    assert top1 >= 0.94
    assert top3 >= 0.99


def test_holdout_accuracy(classifier: Classifier, holdout_set: list[tuple[str, str]]) -> None:
    """Written after the keywords were frozen and never used to tune them: the honest figure."""
    top1, top3 = accuracy(classifier, holdout_set)
    print(f"\nhold-out set: n={len(holdout_set)} top-1={top1:.3f} top-3={top3:.3f}")
    assert top1 >= 0.90
    assert top3 >= 0.98


def test_second_holdout_accuracy(
    classifier: Classifier, holdout2_set: list[tuple[str, str]]
) -> None:
    """150 wishes written blind before a second round of tuning, whose errors then guided it
    (by kind of wording, not sentence by sentence): no longer honest, kept as a regression floor."""
    assert len(holdout2_set) >= 150
    assert {label for label, _ in holdout2_set} == set(CATEGORY_IDS)
    top1, top3 = accuracy(classifier, holdout2_set)
    print(f"\nhold-out 2: n={len(holdout2_set)} top-1={top1:.3f} top-3={top3:.3f}")
    assert top1 >= 0.95
    assert top3 >= 0.99


def test_third_holdout_accuracy(
    classifier: Classifier, holdout3_set: list[tuple[str, str]]
) -> None:
    """100 wishes written after the second freeze and classified once: the honest figure for
    fresh wording (77 % top-1 when written). A floor against regressions, not a target."""
    assert len(holdout3_set) >= 100
    top1, top3 = accuracy(classifier, holdout3_set)
    print(f"\nhold-out 3: n={len(holdout3_set)} top-1={top1:.3f} top-3={top3:.3f}")
    assert top1 >= 0.76
    assert top3 >= 0.94


def test_classification_speed_is_measured(
    classifier: Classifier, dev_set: list[tuple[str, str]]
) -> None:
    texts = [text for _, text in dev_set]
    classifier.classify(texts[0])  # first call warms caches
    stats = bench_classify(classifier, texts)
    print(f"\nclassify: n={stats['n']} p50={stats['p50_ms']:.3f} ms p95={stats['p95_ms']:.3f} ms")
    assert stats["n"] == len(texts)
    assert 0 < stats["p50_ms"] <= stats["p95_ms"]


# --- the learned model (trained on bot/defaults/wishes_train.tsv) ----------------------------


def test_training_file_is_labelled_and_never_holds_the_third_holdout(
    training: list[tuple[str, str]], holdout3_set: list[tuple[str, str]]
) -> None:
    """Holdout 3 stays the honest figure for fresh wording: no line of it may be trained on."""
    assert len(training) >= 1500
    assert {category for _, category in training} == set(CATEGORY_IDS)
    trained_texts = {compact(normalize(text)) for text, _ in training}
    assert not [text for _, text in holdout3_set if compact(normalize(text)) in trained_texts]


def test_cross_validated_accuracy_of_keywords_plus_model(
    specs: list[CategorySpec], dev_set: list[tuple[str, str]]
) -> None:
    """10-fold: the model learns from nine tenths of the dev set and is tested on the rest
    (the keywords were tuned on all of it, so this still overstates fresh text). ~1 s."""
    folds = 10
    top1 = top3 = 0
    for fold in range(folds):
        training = [(t, c) for i, (c, t) in enumerate(dev_set) if i % folds != fold]
        classifier = Classifier(specs, training=training)
        for expected, text in dev_set[fold::folds]:
            result = classifier.classify(text)
            top1 += result.category == expected
            top3 += expected in (result.category, *result.alternatives)
    print(f"\n10-fold dev: top-1={top1 / len(dev_set):.3f} top-3={top3 / len(dev_set):.3f}")
    assert top1 / len(dev_set) >= 0.96
    assert top3 / len(dev_set) >= 0.99


def test_trained_third_holdout_accuracy(
    trained: Classifier, holdout3_set: list[tuple[str, str]]
) -> None:
    """Never trained or tuned on: 91.1 % top-1, 98.0 % top-3 when the model was added
    (keywords alone: 77.2 %, 95.0 %)."""
    top1, top3 = accuracy(trained, holdout3_set)
    print(f"\nhold-out 3, trained: top-1={top1:.3f} top-3={top3:.3f}")
    assert top1 >= 0.90
    assert top3 >= 0.97


def test_trained_accuracy_on_what_it_learned_from(
    trained: Classifier,
    dev_set: list[tuple[str, str]],
    holdout_set: list[tuple[str, str]],
    holdout2_set: list[tuple[str, str]],
) -> None:
    top1, top3 = accuracy(trained, dev_set + holdout_set + holdout2_set)
    assert top1 >= 0.98
    assert top3 >= 0.99


def test_trained_confidence_reads_as_a_probability_on_unseen_text(
    trained: Classifier, holdout3_set: list[tuple[str, str]]
) -> None:
    right: list[float] = []
    wrong: list[float] = []
    for expected, text in holdout3_set:
        result = trained.classify(text)
        (right if result.category == expected else wrong).append(result.confidence)
    assert sum(right) / len(right) > sum(wrong) / len(wrong) + 0.1
    confident_right = sum(1 for c in right if c >= 0.45)
    assert confident_right / (confident_right + sum(1 for c in wrong if c >= 0.45)) >= 0.9


def test_trained_classification_speed_is_measured(
    trained: Classifier, holdout3_set: list[tuple[str, str]], dev_set: list[tuple[str, str]]
) -> None:
    texts = [text for _, text in holdout3_set + dev_set]
    trained.classify(texts[0])
    stats = bench_classify(trained, texts)
    print(f"\ntrained classify: p50={stats['p50_ms']:.3f} ms p95={stats['p95_ms']:.3f} ms")
    # Speed is a figure of `wishbot bench classify`, not a test that fails on a busy machine.
    assert stats["n"] == len(texts)
    assert 0 < stats["p50_ms"] <= stats["p95_ms"]


def test_training_rows_of_unknown_categories_are_skipped_and_keywords_decide_the_rest() -> None:
    specs = [
        CategorySpec("repair", ("水管",)),
        CategorySpec("legal", ("律师",)),
        CategorySpec("pets", ("猫粮", "遛狗")),
    ]
    training = [
        ("厨房水管漏了", "repair"),
        ("马桶堵了 冲不下去", "repair"),
        ("老板拖欠工资不给", "legal"),
        ("帮我查社保", "policy"),  # not in this taxonomy
    ]
    classifier = Classifier(specs, training=training)
    assert classifier.category_ids == ("repair", "legal", "pets", "other")
    assert classifier.classify("马桶又堵了").category == "repair"  # the model alone knows this
    assert classifier.classify("帮我买袋猫粮").category == "pets"  # no rows: keywords decide
    assert classifier.classify("你好").category == "other"


def test_load_training_reads_category_tab_text(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("# comment\nrepair\t水管漏了 \n\nlegal\t欠薪\tof a year\n", encoding="utf-8")
    assert load_training(path) == [("水管漏了", "repair"), ("欠薪\tof a year", "legal")]
    path.write_text("repair 水管漏了\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no tab"):
        load_training(path)


# --- the kinds of text residents write -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("卫生间的水笼头关不紧了", "repair"),  # 水龙头 typed with a wrong homophone
        ("热水气坏了 洗不了澡", "repair"),  # 热水器
        ("燃汽灶打不着火", "repair"),  # 燃气灶
        ("电动车飞线冲电 太危险", "safety"),  # 充电
        ("支付包怎么付款", "digital"),  # 支付宝
        ("厨房水池下面的管子露水了", "repair"),  # 漏水, through the characters it shares
        ("washing machine leakking everywhere", "repair"),
        ("my compter wont turn on", "digital"),
        ("my toilet is cloged", "repair"),
        ("I need a lawer", "legal"),
    ],
)
def test_typos_still_classify(either: Classifier, text: str, expected: str) -> None:
    assert either.classify(text).category == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("俺家灯不亮咋整😭", "repair"),
        ("娃作业不会 咋整", "children"),
        ("腿脚不便 想找人唠嗑", "eldercare"),
        ("kitchen水管又漏了 help！", "repair"),
        ("ｍｙ ｐｈｏｎｅ ｐａｓｓｗｏｒｄ 忘了", "digital"),
        ("楼道灯坏了", "repair"),
        ("下水道堵了", "repair"),
        ("智能手机不会用", "digital"),
        ("医保怎么报销", "policy"),
        ("想请人给我妈理个发", "eldercare"),  # 理发 with a measure word inside
        ("卫生间的灯坏了", "repair"),  # 卫生 (environment) yields to 卫生间
    ],
)
def test_colloquial_dialect_emoji_and_mixed_text(
    either: Classifier, text: str, expected: str
) -> None:
    assert either.classify(text).category == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "😀😀😀", "你好", "hello", "。。。", "谢谢", "在吗", "好的", "ok thanks"]
)
def test_no_signal_falls_back_with_low_confidence(either: Classifier, text: str) -> None:
    result = either.classify(text)
    assert result.category == "other"
    assert result.confidence < 0.45


def test_a_context_word_alone_counts_but_yields_to_a_need() -> None:
    classifier = Classifier(
        [CategorySpec("care", ("~老伴", "聊天")), CategorySpec("repair", ("灯泡",))]
    )
    assert classifier.classify("老伴").category == "care"
    assert classifier.classify("老伴说灯泡坏了").category == "repair"
    assert classifier.classify("老伴想找人聊天").category == "care"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80))
def test_any_text_gives_a_well_formed_answer(either: Classifier, text: str) -> None:
    result = either.classify(text)
    assert isinstance(result, Classification)
    assert result.category in CATEGORY_IDS
    assert 0.0 <= result.confidence <= 1.0
    assert len(result.alternatives) == 3
    assert len(set(result.alternatives)) == 3
    assert result.category not in result.alternatives
    assert set(result.alternatives) <= set(CATEGORY_IDS)


# --- confidence ---------------------------------------------------------------------------


def test_confidence_is_higher_when_right_and_the_threshold_catches_mistakes(
    classifier: Classifier,
    dev_set: list[tuple[str, str]],
    holdout_set: list[tuple[str, str]],
) -> None:
    right: list[float] = []
    wrong: list[float] = []
    for expected, text in dev_set + holdout_set:
        result = classifier.classify(text)
        (right if result.category == expected else wrong).append(result.confidence)
    confident = [c for c in right if c >= 0.45]
    mean_right, mean_wrong = sum(right) / len(right), sum(wrong) / len(wrong)
    print(f"\nmean confidence: right {mean_right:.2f}, wrong {mean_wrong:.2f}")
    assert mean_right > mean_wrong + 0.1
    # Above the threshold, the answer is right far more often than below it.
    above = len(confident) / (len(confident) + sum(1 for c in wrong if c >= 0.45))
    below_right = sum(1 for c in right if c < 0.45)
    below = below_right / max(1, below_right + sum(1 for c in wrong if c < 0.45))
    assert above >= 0.9
    assert above > below


# --- learning from staff corrections ------------------------------------------------------


@pytest.mark.parametrize("with_model", [False, True])
def test_corrections_change_similar_future_wishes(
    specs: list[CategorySpec], training: list[tuple[str, str]], with_model: bool
) -> None:
    classifier = Classifier(specs, training=training if with_model else ())
    if not with_model:  # the model already files this one as an errand
        assert classifier.classify("帮我抢张演唱会的票").category != "errand"
    assert classifier.classify("帮我手机上买张电影票").category == "digital"

    for text in ("帮我抢演唱会门票", "帮我用手机抢张火车票", "在手机上帮我抢两张高铁票"):
        classifier.learn(text, "errand")

    assert classifier.classify("帮我抢张演唱会的票").category == "errand"
    assert classifier.classify("帮我手机上买张电影票").category == "errand"
    # Unrelated wishes keep their categories.
    assert classifier.classify("教我用手机发微信").category == "digital"
    assert classifier.classify("厨房水管漏水了").category == "repair"


def test_one_correction_decides_the_same_text(specs: list[CategorySpec]) -> None:
    classifier = Classifier(specs)
    text = "楼上漏水 把我家厨房的水管泡坏了"
    classifier.learn(text, "mediation")
    assert classifier.classify(text).category == "mediation"
    # The same words typed with other punctuation and emoji are the same text.
    assert classifier.classify("楼上漏水，把我家厨房的水管泡坏了！😡").category == "mediation"
    classifier.learn(text, "repair")  # staff changed their minds: the latest correction counts
    assert classifier.classify(text).category == "repair"


def test_examples_at_start_up_act_like_learning(specs: list[CategorySpec]) -> None:
    corrections = [("帮我抢演唱会门票", "errand"), ("能帮忙抢一下话剧票吗", "errand")]
    taught = Classifier(specs)
    for text, category in corrections:
        taught.learn(text, category)
    loaded = Classifier(specs, examples=corrections)
    probe = "帮我抢张演唱会的票"
    assert loaded.classify(probe) == taught.classify(probe)
    assert loaded.classify(probe).category == "errand"


def test_learning_from_half_the_dev_set_helps_the_other_half(
    specs: list[CategorySpec], dev_set: list[tuple[str, str]]
) -> None:
    taught_rows, test_rows = dev_set[::2], dev_set[1::2]
    before, _ = accuracy(Classifier(specs), test_rows)
    after, _ = accuracy(Classifier(specs, examples=[(t, c) for c, t in taught_rows]), test_rows)
    print(f"\nlearning from {len(taught_rows)} corrections: top-1 {before:.3f} -> {after:.3f}")
    assert after >= before


def test_learning_an_unknown_category_is_refused(specs: list[CategorySpec]) -> None:
    classifier = Classifier(specs)
    with pytest.raises(ValueError, match="unknown category"):
        classifier.learn("帮我修水管", "plumbing")
    with pytest.raises(ValueError, match="unknown category"):
        Classifier(specs, examples=[("帮我修水管", "plumbing")])


def test_learning_nothing_but_emoji_changes_nothing(specs: list[CategorySpec]) -> None:
    classifier = Classifier(specs)
    classifier.learn("🙏🙏", "legal")
    assert classifier.classify("🙏🙏").category == "other"
    assert classifier.classify("").category == "other"


# --- construction -------------------------------------------------------------------------


def test_duplicate_category_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Classifier([CategorySpec("a", ("水管",)), CategorySpec("a", ("灯",))])


def test_a_fallback_outside_the_taxonomy_is_added() -> None:
    classifier = Classifier([CategorySpec("plumbing", ("水管", "pipe"))], fallback="misc")
    assert classifier.category_ids == ("plumbing", "misc")
    assert classifier.classify("水管漏了").category == "plumbing"
    assert classifier.classify("你好").category == "misc"
    assert classifier.classify("水管漏了").alternatives == ("misc",)


# --- text normalisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full width to half width
        ("Hello,  World!!", "hello world"),
        ("水管漏水了！！😭😭 help", "水管漏水了 help"),
        ("  俺家\t灯\n不亮  ", "俺家 灯 不亮"),
        ("wi_fi", "wi fi"),
        ("①号楼", "1号楼"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_segmentation_helpers() -> None:
    assert compact(normalize("水 龙头 坏了")) == "水龙头坏了"
    assert cjk_bigrams(normalize("水管漏水")) == ["水管", "管漏", "漏水"]
    assert cjk_bigrams(normalize("灯 wifi")) == ["灯"]
    assert latin_tokens(normalize("WiFi密码忘了 打12345")) == ["wifi", "12345"]
