"""The `wishbot` command line: run, web, migrate, backup, restore, demo, classify, poster,
simulate, bench."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from bot.config import ConfigError, Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def safe_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def config_problems(settings: Settings) -> tuple[list[str], list[str]]:
    """What `run` needs before it touches the database: (errors, warnings), one line each."""
    errors, warnings = [], []
    if settings.telegram.token is None:
        errors.append(
            "telegram.token is not set: put the token from @BotFather in config.toml "
            "or WISHBOT__TELEGRAM__TOKEN"
        )
    if settings.telegram.mode == "webhook":
        if settings.webhook.secret is None:
            errors.append(
                'webhook.secret is not set: telegram.mode = "webhook" needs a secret token '
                "(1-256 of A-Z a-z 0-9 _ -), so that only Telegram can post updates"
            )
        if settings.webhook.url is None:
            warnings.append(
                "webhook.url is not set: Telegram is told to post to "
                f"http://{settings.webhook.host}:{settings.webhook.port}{settings.webhook.path}, "
                "which only a local Bot API server can reach"
            )
    if not settings.staff.admins:
        warnings.append(
            "staff.admins is empty, so nobody can invite staff: send /myid to the bot and put "
            "your id in staff.admins"
        )
    return errors, warnings


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import BotRunner, StartupFault
    from bot.logs import setup_logging

    settings = _settings(args)
    if getattr(args, "polling", False) and settings.telegram.mode != "polling":
        # Back to long polling: the webhook is deleted at start (getUpdates needs that).
        settings.telegram.mode = "polling"
    errors, warnings = config_problems(settings)  # config first, then the database
    for line in warnings:
        print(f"wishbot: warning: {line}", file=sys.stderr)
    for line in errors:
        print(f"wishbot: {line}", file=sys.stderr)
    if errors:
        return 2
    setup_logging(settings.logging)
    try:
        asyncio.run(BotRunner(settings).run())
    except StartupFault as exc:  # one line naming the cause and what to do; no traceback
        print(f"wishbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from bot.app import SchemaNotCurrent
    from bot.logs import setup_logging
    from bot.web.serve import serve_alone

    settings = _settings(args)
    if not settings.web.enabled:
        print("wishbot: web.host is not set: the dashboard is off", file=sys.stderr)
        return 2
    setup_logging(settings.logging)
    try:
        asyncio.run(serve_alone(settings))
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
    revision = migrate.head_revision() if args.revision == "head" else args.revision
    print(f"{safe_url(settings.database.url)}: schema at {revision}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.backup import BackupError, backup, restore

    settings = _settings(args)
    action = backup if args.command == "backup" else restore
    try:
        outcome = action(settings.database.url, Path(args.file))
    except BackupError as exc:
        print(f"wishbot: {exc}", file=sys.stderr)
        return 2
    print(f"wishbot {args.command}: {outcome.message}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.run import main as demo_main

    return asyncio.run(demo_main(keep=args.keep, quiet=args.quiet, lang=args.lang, serve=args.keep))


def cmd_classify(args: argparse.Namespace) -> int:
    from bot.classify_cli import classify_stream

    classify_stream(_settings(args), sys.stdin, sys.stdout)
    return 0


def cmd_poster(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.poster import NoCJKFont
    from bot.poster_cli import PosterProblem, make_poster

    settings = _settings(args)
    if not (args.bot or settings.telegram.username):
        print(
            "wishbot: warning: telegram.username is not set (nor --bot): the bot's QR code "
            "points at the demo bot",
            file=sys.stderr,
        )
    try:
        files = make_poster(
            settings,
            args.grid,
            args.building,
            Path(args.out),
            bot_username=args.bot,
            lang=args.lang,
        )
    except (PosterProblem, NoCJKFont) as exc:
        print(f"wishbot: {exc}", file=sys.stderr)
        return 2
    for path in files:
        print(path)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    result = args.bench(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulate.cli import run_simulate

    return run_simulate(args)


def _bench_match(args: argparse.Namespace) -> dict[str, object]:
    from matching.bench import run_match_bench

    return run_match_bench(args.volunteers, args.wishes, args.seed)


def _bench_classify(args: argparse.Namespace) -> dict[str, object]:
    from bot.classify_cli import bench_classifier

    return bench_classifier(_settings(args))


def _bench_load(args: argparse.Namespace) -> dict[str, object]:
    if args.mode == "webhook":
        from bot.demo.cluster_load import run_cluster_load

        if args.database != "postgresql":
            print("wishbot: --mode webhook runs on PostgreSQL", file=sys.stderr)
        result = asyncio.run(
            run_cluster_load(args.users, args.workers, kill=args.kill, redis_url=args.redis)
        )
        result.pop("worker_logs", None)
        return result
    from bot.demo.load import run_load_bench

    return asyncio.run(run_load_bench(args.users, args.database, args.spam))


def _bench_offer(args: argparse.Namespace) -> dict[str, object]:
    from bot.bench.offer import run_offer_bench

    return asyncio.run(
        run_offer_bench(
            args.volunteers,
            args.wishes,
            args.database,
            samples=args.samples,
            claim_rounds=args.claim_rounds,
            seed=args.seed,
        )
    )


def _bench_pipeline(args: argparse.Namespace) -> dict[str, object]:
    from bot.bench.pipeline import run_pipeline_bench

    return asyncio.run(run_pipeline_bench(args.updates, concurrency=args.concurrency))


def _bench_broadcast(args: argparse.Namespace) -> dict[str, object]:
    from bot.delivery.bench import run_broadcast_bench

    return asyncio.run(run_broadcast_bench(args.recipients, args.rate, args.faults, seed=args.seed))


def _bench_dashboard(args: argparse.Namespace) -> dict[str, object]:
    from bot.web.bench import run_dashboard_bench

    return asyncio.run(
        run_dashboard_bench(
            args.wishes, args.volunteers, args.database, runs=args.runs, seed=args.seed
        )
    )


def _add_bench(parser: argparse.ArgumentParser) -> None:
    """`wishbot bench KIND`: each kind lists only its own options."""
    kinds = parser.add_subparsers(dest="what", required=True, metavar="KIND")

    def kind(
        name: str, summary: str, fn: Callable[[argparse.Namespace], dict[str, object]]
    ) -> argparse.ArgumentParser:
        p = kinds.add_parser(name, help=summary, description=summary)
        _common(p)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(bench=fn)
        return p

    p = kind("match", "ranking one wish against a synthetic district", _bench_match)
    p.add_argument("--volunteers", type=int, default=30000)
    p.add_argument("--wishes", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    kind("classify", "classifier speed and hold-out accuracy", _bench_classify)
    p = kind("broadcast", "a broadcast through the delivery engine, with faults", _bench_broadcast)
    p.add_argument("--recipients", type=int, default=5000)
    p.add_argument("--rate", type=float, default=500, help="messages per second allowed")
    p.add_argument("--faults", type=float, default=0.05, help="share of requests that fail")
    p.add_argument("--seed", type=int, default=1)
    p = kind("load", "many residents at once, and one spammer, through the real bot", _bench_load)
    p.add_argument("--users", type=int, default=500, help="residents acting at once")
    p.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--spam", type=int, default=200, help="the spammer's messages")
    p.add_argument(
        "--mode",
        choices=["polling", "webhook"],
        default="polling",
        help="webhook: `wishbot run` workers behind nginx on PostgreSQL and Redis",
    )
    p.add_argument("--workers", type=int, default=2, help="webhook mode: worker processes")
    p.add_argument("--kill", action="store_true", help="webhook mode: kill -9 one worker midway")
    p.add_argument(
        "--redis", default="redis://127.0.0.1:6379/0", help="webhook mode: the Redis URL"
    )
    p = kind(
        "offer", "confirm to first offer card, and a 50-way claim, in a big district", _bench_offer
    )
    p.add_argument("--volunteers", type=int, default=30000)
    p.add_argument("--wishes", type=int, default=100000)
    p.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--samples", type=int, default=20, help="wishes confirmed")
    p.add_argument("--claim-rounds", type=int, default=3, help="50-way claims")
    p.add_argument("--seed", type=int, default=1)
    p = kind("pipeline", "updates/s and CPU per update next to a bare echo bot", _bench_pipeline)
    p.add_argument("--updates", type=int, default=300, help="updates per kind")
    p.add_argument("--concurrency", type=int, default=8, help="people at once")
    p = kind("dashboard", "web overview and wish search on a seeded database", _bench_dashboard)
    p.add_argument("--wishes", type=int, default=100_000)
    p.add_argument("--volunteers", type=int, default=30_000)
    p.add_argument(
        "--database",
        default="postgresql",
        help="postgresql (a fresh database on 127.0.0.1:5432), sqlite, or a database URL",
    )
    p.add_argument("--runs", type=int, default=30, help="timed requests per page")
    p.add_argument("--seed", type=int, default=1)


CONFIG_HELP = "config file (default: $WISHBOT_CONFIG or ./config.toml)"


def _common(parser: argparse.ArgumentParser) -> None:
    # --config is accepted after the subcommand too (`wishbot run --config x.toml`).
    parser.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wishbot",
        description="微心愿 micro-wish bot: residents ask, staff dispatch, volunteers serve",
    )
    parser.add_argument("--config", help=CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, description=summary)
        _common(p)
        return p

    p = command("run", "run the bot for real (needs telegram.token)")
    p.add_argument(
        "--polling",
        action="store_true",
        help="poll with getUpdates whatever telegram.mode says (deletes a webhook first)",
    )
    p.set_defaults(fn=cmd_run)

    command("web", "serve the staff web dashboard alone (needs web.host)").set_defaults(fn=cmd_web)

    p = command("migrate", "create or upgrade the database schema (to head, or to REVISION)")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(fn=cmd_migrate)

    p = command("backup", "copy the database to FILE (SQLite: online, while the bot runs)")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(fn=cmd_backup)

    p = command("restore", "replace the database with the backup in FILE (stop the bot first)")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(fn=cmd_backup)

    p = command("demo", "watch a whole community use the bot, locally, no token needed")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the database and the files the bot sent under demo-output/, and keep the "
        "bot and the web dashboard running (Ctrl-C stops)",
    )
    p.add_argument(
        "--lang", choices=["zh-CN", "en"], default="zh-CN", help="language of the notes and summary"
    )
    p.add_argument("--quiet", action="store_true", help="print the summary only")
    p.set_defaults(fn=cmd_demo)

    p = command("classify", "classify wishes from stdin, one JSON object per line")
    p.set_defaults(fn=cmd_classify)

    p = command("poster", "a printable poster (民情二维码) for a grid or building: PDF/PNG")
    p.add_argument("--grid", required=True, help="grid code from config, e.g. G01")
    p.add_argument("--building", help="building on the poster and in its links, e.g. 8")
    p.add_argument(
        "--out",
        required=True,
        help="FILE.pdf or FILE.png; any other name writes both FILE.pdf and FILE.png",
    )
    p.add_argument("--bot", help="the bot's @username (default: telegram.username)")
    p.add_argument("--lang", choices=["zh-CN", "en"], help="default: community.default_language")
    p.set_defaults(fn=cmd_poster)
    p = command("simulate", "simulate a month of a community: matching vs group chat vs random")
    from bot.simulate.cli import add_arguments

    add_arguments(p)
    p.set_defaults(fn=cmd_simulate)

    p = command("bench", "benchmarks: match, classify, broadcast, load, offer, pipeline, dashboard")
    _add_bench(p)
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
