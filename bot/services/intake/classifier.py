"""The wish classifier: config keywords, the shipped labelled wishes and staff corrections."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import select

from bot.config import DEFAULTS_DIR, Settings
from bot.db.models import CategoryCorrection
from bot.services.context import AppContext
from matching.classify import CategorySpec, Classifier, load_training


def category_specs(settings: Settings) -> list[CategorySpec]:
    return [
        CategorySpec(id=c.id, keywords=tuple(c.keywords_zh + c.keywords_en))
        for c in settings.categories.resolved
    ]


@functools.cache
def training_rows() -> tuple[tuple[str, str], ...]:
    """Labelled wishes shipped with the bot: the classifier's learned part trains on them."""
    return tuple(load_training(DEFAULTS_DIR / "wishes_train.tsv"))


def build_classifier(settings: Settings, examples: Iterable[tuple[str, str]] = ()) -> Classifier:
    known = set(settings.categories.ids)
    return Classifier(
        category_specs(settings),
        examples=[(text, cat) for text, cat in examples if cat in known],
        fallback="other",
        training=training_rows(),
    )


async def load_classifier(app: AppContext) -> Classifier:
    """The classifier from config keywords, the shipped examples and every staff correction."""
    async with app.sessions() as session:
        rows = (
            await session.execute(select(CategoryCorrection.text, CategoryCorrection.to_category))
        ).all()
    return build_classifier(app.settings, [(text, cat) for text, cat in rows])


def classifier_of(app: AppContext) -> Classifier:
    if app.classifier is None:
        app.classifier = build_classifier(app.settings)
    return app.classifier
