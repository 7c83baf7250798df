"""Fixtures for the wish-understanding tests: the default taxonomy and the labelled wish sets."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from matching.classify import CategorySpec, Classifier, load_training

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES_TOML = ROOT / "bot" / "defaults" / "categories.toml"
DATA = ROOT / "tests" / "data"
TRAINING_TSV = ROOT / "bot" / "defaults" / "wishes_train.tsv"


def load_specs() -> list[CategorySpec]:
    with CATEGORIES_TOML.open("rb") as fh:
        categories = tomllib.load(fh)["category"]
    return [
        CategorySpec(c["id"], tuple(c["keywords_zh"]) + tuple(c["keywords_en"])) for c in categories
    ]


def load_wishes(name: str) -> list[tuple[str, str]]:
    """(category, text) rows of a TSV in tests/data; lines starting with # are comments."""
    rows: list[tuple[str, str]] = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, text = line.split("\t", 1)
        rows.append((category, text))
    return rows


@pytest.fixture(scope="session")
def specs() -> list[CategorySpec]:
    return load_specs()


@pytest.fixture(scope="session")
def classifier(specs: list[CategorySpec]) -> Classifier:
    """Shared, never taught: tests that call learn() build their own."""
    return Classifier(specs)


@pytest.fixture(scope="session")
def training() -> list[tuple[str, str]]:
    """The shipped training wishes, as (text, category)."""
    return load_training(TRAINING_TSV)


@pytest.fixture(scope="session")
def trained(specs: list[CategorySpec], training: list[tuple[str, str]]) -> Classifier:
    """Keywords blended with the model trained on the shipped file, as the bot builds it."""
    return Classifier(specs, training=training)


@pytest.fixture(scope="session", params=["keywords", "trained"])
def either(
    request: pytest.FixtureRequest, classifier: Classifier, trained: Classifier
) -> Classifier:
    """Behaviour both the keyword-only and the trained classifier must show."""
    return classifier if request.param == "keywords" else trained


@pytest.fixture(scope="session")
def dev_set() -> list[tuple[str, str]]:
    return load_wishes("wishes_dev.tsv")


@pytest.fixture(scope="session")
def holdout_set() -> list[tuple[str, str]]:
    return load_wishes("wishes_holdout.tsv")


@pytest.fixture(scope="session")
def holdout2_set() -> list[tuple[str, str]]:
    return load_wishes("wishes_holdout2.tsv")


@pytest.fixture(scope="session")
def holdout3_set() -> list[tuple[str, str]]:
    return load_wishes("wishes_holdout3.tsv")
