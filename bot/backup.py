"""`wishbot backup FILE` and `wishbot restore FILE`.

SQLite: SQLite's online backup API (a consistent copy while the bot keeps writing; no need to
stop it). PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean`, the PostgreSQL client
tools (package postgresql-client, the server's major version or newer); the password goes to
them through PGPASSWORD, never on the command line.

Restore replaces the whole database with the file's contents: stop the bot first.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """Why a backup or restore cannot be done, in one line saying what to do."""


@dataclass(frozen=True)
class Outcome:
    message: str


def _sqlite_file(url: URL) -> Path:
    name = url.database or ""
    if not name or name == ":memory:":
        raise BackupError("database.url is an in-memory SQLite database: nothing to back up")
    return Path(name)


def _schema_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def backup(url: str, file: Path) -> Outcome:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_backup(_sqlite_file(parsed), file)
    return _pg_backup(parsed, file)


def restore(url: str, file: Path) -> Outcome:
    if not file.is_file():
        raise BackupError(f"{file}: no such file")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_restore(file, _sqlite_file(parsed))
    return _pg_restore(parsed, file)


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_backup(source: Path, file: Path) -> Outcome:
    if not source.is_file():
        raise BackupError(f"database file {source} does not exist: nothing to back up")
    if file.exists():
        raise BackupError(f"{file} exists already: choose a new file name (nothing was changed)")
    partial = file.with_name(file.name + ".partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # page by page, consistent even while the bot writes
            revision = _schema_revision(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {source}: {exc}") from exc
    finally:
        src.close()
    partial.replace(file)
    return Outcome(f"{source} → {file} (SQLite, schema {revision or 'none'})")


def _sqlite_restore(file: Path, target: Path) -> Outcome:
    try:
        src = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        ok = src.execute("PRAGMA integrity_check").fetchone()
        revision = _schema_revision(src)
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            f"{file} is not a SQLite backup ({exc}); PostgreSQL backups restore into PostgreSQL"
        ) from exc
    try:
        if ok is None or ok[0] != "ok":
            raise BackupError(f"{file} is damaged (integrity check: {ok}); nothing was changed")
        if revision is None:
            raise BackupError(f"{file} is not a wishbot database backup; nothing was changed")
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)  # replaces every page of the target in one go
        finally:
            dst.close()
    finally:
        src.close()
    return Outcome(
        f"{file} → {target} (SQLite, schema {revision}); run `wishbot migrate` if the code "
        "is newer than the backup"
    )


# --- PostgreSQL ---------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client, the server's major version or newer)"
        )
    return path


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres"]
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[-1] if lines else f'exit {done.returncode}'}")


def _pg_backup(url: URL, file: Path) -> Outcome:
    pg_dump = _tool("pg_dump")
    if file.exists():
        raise BackupError(f"{file} exists already: choose a new file name (nothing was changed)")
    args, env = _pg_args(url)
    partial = file.with_name(file.name + ".partial")
    try:
        _run(
            [pg_dump, "--format=custom", "--no-owner", "--file", str(partial), *args],
            env,
            "pg_dump",
        )
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(file)
    return Outcome(f"{url.database} → {file} (PostgreSQL, pg_dump custom format)")


def _pg_restore(url: URL, file: Path) -> Outcome:
    pg_restore = _tool("pg_restore")
    with file.open("rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError(
                f"{file} is not a pg_dump backup; SQLite backups restore into SQLite "
                "(nothing was changed)"
            )
    args, env = _pg_args(url)
    command = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([*command, *args, str(file)], env, "pg_restore")
    return Outcome(
        f"{file} → {url.database} (PostgreSQL); run `wishbot migrate` if the code is newer "
        "than the backup"
    )
