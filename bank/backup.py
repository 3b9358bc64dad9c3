"""Backups and restores (EU GMP Annex 11 §7.2): SQLite through its online backup API (a consistent copy of
a live database, writers carry on), PostgreSQL through pg_dump's custom format and pg_restore. A checkpoint
of the audit chain is written first, so a copy holds every row it counts; a copy restored later is
held against the newest checkpoint by `audit verify`, which names rows committed since and lost."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from bank.db import make_engine
from bank.i18n import t


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq(url: str) -> tuple[str, str]:
    """The URL as pg_dump reads it (no driver name), and the schema the application works in."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    finally:
        engine.dispose()
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), schema


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} is not installed (Debian: postgresql-client of the server's version)"
        )
    return found


def backup(url: str, destination: Path) -> Path:
    """Copy the database at `url` to `destination` (must not exist)."""
    destination = Path(destination)
    if destination.exists():
        raise FileExistsError(t("%(path)s exists: a backup never overwrites one", path=str(destination)))
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url), timeout=30)
        target = sqlite3.connect(destination)
        try:
            with target:
                source.backup(target)  # one step: a consistent snapshot, taken under a read lock only
        finally:
            target.close()
            source.close()
        return destination
    dsn, schema = _libpq(url)
    subprocess.run(
        [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--schema={schema}",
            f"--file={destination}",
            f"--dbname={dsn}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return destination


def holds_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        if "audit_entries" not in inspect(conn).get_table_names():
            return False
        return conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() > 0


def restore(url: str, source: Path, force: bool = False) -> None:
    """Replace the database at `url` with the backup `source`. Refuses a database that holds records
    unless `force` (stop the application first: its workers would write into the old copy)."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(t("%(path)s: no such backup", path=str(source)))
    engine = make_engine(url)
    try:
        if holds_data(engine) and not force:
            raise FileExistsError(
                t(
                    "the database holds records: restoring would overwrite them (--force, with the "
                    "application stopped)"
                )
            )
    finally:
        engine.dispose()
    if url.startswith("sqlite"):
        backup_db = sqlite3.connect(source)
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
        return
    dsn, schema = _libpq(url)
    listing = subprocess.run(
        [_tool("pg_restore"), "--list", str(source)], check=True, capture_output=True, text=True
    ).stdout
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            # Whole schema out, then the copy's in: triggers come back after the rows (pg_dump's order).
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            if f" SCHEMA - {schema} " not in listing:  # (a dump of `public` does not create it)
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    subprocess.run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
