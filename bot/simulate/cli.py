"""`wishbot simulate`: arguments, runs (policies × seeds × sweep values) and output."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.simulate.engine import SimConfig, SimResult, simulate
from bot.simulate.policies import POLICIES

SWEEPABLE = ("volunteers", "residents", "grids", "offer_k", "round_minutes")


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas: {text}") from exc
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers: {text}")
    return values


def _policies(text: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    bad = [n for n in names if n not in POLICIES]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"policies are {', '.join(POLICIES)}; got {text}")
    return names


def _sweep(text: str) -> tuple[str, list[int]]:
    name, _, values = text.partition("=")
    if name not in SWEEPABLE:
        raise argparse.ArgumentTypeError(f"sweep one of {', '.join(SWEEPABLE)}: NAME=1,2,3")
    return name, _ints(values)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--days", type=float, default=30, help="days of wishes (default 30)")
    p.add_argument("--residents", type=int, default=2000)
    p.add_argument("--volunteers", type=int, default=300)
    p.add_argument("--grids", type=int, default=12)
    p.add_argument(
        "--policy",
        type=_policies,
        default=list(POLICIES),
        help="matching, groupchat, random, or several separated by commas (default: all three)",
    )
    p.add_argument("--seed", type=_ints, default=[1], help="seed, or seeds: 1,2,3 (default 1)")
    p.add_argument("--offer-k", type=int, default=3, help="volunteers per offer round")
    p.add_argument("--round-minutes", type=int, default=240, help="minutes an offer round waits")
    p.add_argument("--database", help="database URL (default: a fresh SQLite file per run)")
    p.add_argument(
        "--sweep", type=_sweep, help="repeat over NAME=v1,v2 (" + ", ".join(SWEEPABLE) + ")"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per run on stdout")
    p.add_argument("--out", type=Path, help="write comparison.md/.csv and PNG charts here")


def _configs(args: argparse.Namespace) -> list[tuple[dict[str, Any], SimConfig]]:
    base = SimConfig(
        days=args.days,
        residents=args.residents,
        volunteers=args.volunteers,
        grids=args.grids,
        offer_k=args.offer_k,
        round_minutes=args.round_minutes,
        database=args.database,
    )
    sweep: list[tuple[str | None, int | None]] = [(None, None)]
    if args.sweep:
        sweep = [(args.sweep[0], v) for v in args.sweep[1]]
    runs = []
    for name, value in sweep:
        for policy in args.policy:
            for seed in args.seed:
                cfg = replace(base, policy=policy, seed=seed)
                key: dict[str, Any] = {}
                if name is not None:
                    extra: dict[str, Any] = {name: value}
                    cfg = replace(cfg, **extra)
                    key[name] = value
                runs.append((key, cfg))
    return runs


def run_simulate(args: argparse.Namespace) -> int:
    if args.days <= 0 or min(args.residents, args.volunteers, args.grids) < 1:
        print(
            "wishbot simulate: days, residents, volunteers and grids must be positive",
            file=sys.stderr,
        )
        return 2
    results: list[SimResult] = []
    table: list[dict[str, Any]] = []
    for key, cfg in _configs(args):
        result = asyncio.run(simulate(cfg))
        row = {**key, **result.as_dict()}
        results.append(result)
        table.append(row)
        if args.json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            print(_line(row), flush=True)
    if args.out:
        from bot.simulate.report import write_out

        keys = [*([args.sweep[0]] if args.sweep else []), "policy", "seed"]
        for path in write_out(args.out, results, table, keys):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _line(row: dict[str, Any]) -> str:
    shown = (
        "claim_median_h",
        "claim_p90_h",
        "unserved_share",
        "satisfaction",
        "tasks_gini",
        "volunteer_notices_per_claim",
        "wishes",
        "cpu_s",
    )
    head = " ".join(
        f"{k}={row[k]}" for k in row if k not in shown and k in ("policy", "seed", *SWEEPABLE)
    )
    return head + " " + " ".join(f"{k}={row.get(k)}" for k in shown)
