"""The `wishbot` command line: run, migrate, demo, classify, bench."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import BotRunner, SchemaNotCurrent
    from bot.logs import setup_logging

    settings = _settings(args)
    setup_logging(settings.logging)
    try:
        asyncio.run(BotRunner(settings).run())
    except SchemaNotCurrent as exc:
        print(f"wishbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.db import migrate

    settings = _settings(args)
    migrate.upgrade(settings.database.url, args.revision)
    print(f"database at {migrate.head_revision() if args.revision == 'head' else args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.run import main as demo_main

    return asyncio.run(demo_main(keep=args.keep, quiet=args.quiet))


def cmd_classify(args: argparse.Namespace) -> int:
    from bot.classify_cli import classify_stream

    classify_stream(_settings(args), sys.stdin, sys.stdout)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    if args.what == "match":
        from matching.bench import run_match_bench

        result = run_match_bench(args.volunteers, args.wishes, args.seed)
    elif args.what == "classify":
        from bot.classify_cli import bench_classifier

        result = bench_classifier(_settings(args))
    elif args.what == "offer":
        from bot.bench.offer import run_offer_bench

        result = asyncio.run(
            run_offer_bench(
                args.volunteers,
                args.wishes,
                args.database,
                samples=args.samples,
                claim_rounds=args.claim_rounds,
                seed=args.seed,
            )
        )
    elif args.what == "pipeline":
        from bot.bench.pipeline import run_pipeline_bench

        result = asyncio.run(run_pipeline_bench(args.updates, concurrency=args.concurrency))
    else:
        from bot.delivery.bench import run_broadcast_bench

        result = asyncio.run(
            run_broadcast_bench(args.recipients, args.rate, args.faults, seed=args.seed)
        )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wishbot",
        description="微心愿 micro-wish bot: residents ask, staff dispatch, volunteers serve",
    )
    parser.add_argument("--config", help="config file (default: $WISHBOT_CONFIG or ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="run the bot (long polling)").set_defaults(fn=cmd_run)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(fn=cmd_migrate)

    p = sub.add_parser("demo", help="watch a whole community use the bot, locally, no token needed")
    p.add_argument("--keep", action="store_true", help="keep the demo database afterwards")
    p.add_argument("--quiet", action="store_true", help="print the summary only")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("classify", help="classify wishes from stdin, one JSON object per line")
    p.set_defaults(fn=cmd_classify)

    p = sub.add_parser("bench", help="benchmarks")
    p.add_argument("what", choices=["match", "classify", "broadcast", "offer", "pipeline"])
    p.add_argument("--volunteers", type=int, default=30000)
    p.add_argument("--wishes", type=int, default=500)
    p.add_argument("--recipients", type=int, default=5000)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--faults", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--samples", type=int, default=20, help="offer: wishes confirmed")
    p.add_argument("--claim-rounds", type=int, default=3, help="offer: 50-way claims")
    p.add_argument("--updates", type=int, default=300, help="pipeline: updates per kind")
    p.add_argument("--concurrency", type=int, default=8, help="pipeline: people at once")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.fn(args)
    except ConfigError as exc:
        print(f"wishbot: config error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
