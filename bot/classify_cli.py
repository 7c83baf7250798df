"""`wishbot classify`: one wish per line in, one JSON object per line out (for tuning keywords)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.config import Settings
from bot.services.intake.classifier import build_classifier
from matching.classify import Classifier, bench_classify
from matching.timewindow import extract_time


def classify_line(
    classifier: Classifier, settings: Settings, text: str, now: datetime
) -> dict[str, Any]:
    result = classifier.classify(text)
    when = extract_time(text, now.astimezone(settings.tz))
    window = None
    if when.start is not None:
        window = {
            "start": when.start.isoformat(),
            "end": when.end.isoformat() if when.end else None,
        }
    return {
        "text": text,
        "category": result.category,
        "confidence": round(result.confidence, 4),
        "alternatives": [a for a in result.alternatives if a != result.category],
        "time_window": window,
        "urgent": when.urgent,
    }


def classify_stream(settings: Settings, source: TextIO, sink: TextIO) -> None:
    classifier = build_classifier(settings)
    now = datetime.now(UTC)
    for line in source:
        text = line.rstrip("\r\n")  # every line answers, blank or not: outputs stay aligned
        sink.write(
            json.dumps(classify_line(classifier, settings, text, now), ensure_ascii=False) + "\n"
        )
        sink.flush()


def bench_classifier(settings: Settings) -> dict[str, Any]:
    """Speed per wish, and accuracy on the hold-out set the classifier never trained on."""
    from pathlib import Path

    data = Path(__file__).resolve().parent.parent / "tests" / "data" / "wishes_holdout3.tsv"
    rows = [
        line.split("\t", 1)
        for line in data.read_text(encoding="utf-8").splitlines()
        if "\t" in line and not line.startswith("#")
    ]
    classifier = build_classifier(settings)
    results = [(cat, classifier.classify(text.strip())) for cat, text in rows]
    top1 = sum(r.category == cat for cat, r in results) / len(results)
    top3 = sum(cat in (r.category, *r.alternatives[:2]) for cat, r in results) / len(results)
    timing = bench_classify(classifier, [text.strip() for _, text in rows])
    return {**timing, "holdout": data.name, "top1": round(top1, 4), "top3": round(top3, 4)}
