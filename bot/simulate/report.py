"""What `wishbot simulate` prints and writes: one JSON object per run, a comparison table
(Markdown and CSV) and PNG charts (matplotlib, Agg backend: no display, no downloads)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.simulate.engine import SimResult

COLUMNS = (
    ("claim_median_h", "median h to claim"),
    ("claim_p90_h", "p90 h to claim"),
    ("claimed_2h_share", "claimed ≤2 h"),
    ("claimed_24h_share", "claimed ≤24 h"),
    ("unserved_share", "unserved"),
    ("completion_share", "completion"),
    ("satisfaction", "satisfaction (1–5)"),
    ("tasks_gini", "Gini tasks/volunteer"),
    ("tasks_per_volunteer_max", "max tasks"),
    ("volunteer_notices_per_claim", "volunteer notices per claim"),
    ("wishes", "wishes"),
)


def rows(results: Sequence[SimResult], label: str | None = None) -> list[dict[str, Any]]:
    out = []
    for r in results:
        d = r.as_dict()
        if label is not None:
            d = {label: getattr(r, "label", ""), **d}
        out.append(d)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def markdown(table: Sequence[dict[str, Any]], keys: Sequence[str]) -> str:
    heads = [*keys, *(title for _, title in COLUMNS)]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for row in table:
        cells = [_cell(row.get(k)) for k in keys] + [_cell(row.get(k)) for k, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_out(
    out: Path, results: Sequence[SimResult], table: Sequence[dict[str, Any]], keys: Sequence[str]
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "comparison.md", out / "comparison.csv", out / "results.json"]
    written[0].write_text(markdown(table, keys), encoding="utf-8")
    with written[1].open("w", newline="", encoding="utf-8") as fh:
        fields = list(table[0]) if table else []
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(table)
    written[2].write_text(json.dumps(list(table), ensure_ascii=False, indent=1), encoding="utf-8")
    written += charts(out, results, table, keys)
    return written


def charts(
    out: Path, results: Sequence[SimResult], table: Sequence[dict[str, Any]], keys: Sequence[str]
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [" ".join(str(row[k]) for k in keys) for row in table]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for name, r in zip(names, results, strict=True):
        hours = sorted(r.claim_hours)
        if not hours:
            continue
        share = [(i + 1) / len(hours) for i in range(len(hours))]
        ax.step(hours, share, where="post", label=name)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("hours from approval to claim")
    ax.set_ylabel("share of claimed wishes")
    ax.set_title("Time to claim (cumulative)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    claim_png = out / "time_to_claim.png"
    fig.savefig(claim_png)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for name, r in zip(names, results, strict=True):
        ax.plot(range(1, len(r.tasks_per_volunteer) + 1), r.tasks_per_volunteer, label=name)
    ax.set_xlabel("volunteers, busiest first")
    ax.set_ylabel("tasks done")
    ax.set_title("Tasks per volunteer")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tasks_png = out / "tasks_per_volunteer.png"
    fig.savefig(tasks_png)
    plt.close(fig)
    return [claim_png, tasks_png]
