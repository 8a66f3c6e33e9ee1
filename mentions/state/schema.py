"""The SQLite schema of the state file and its forward migrations.

The schema version lives in `PRAGMA user_version`. MIGRATIONS is append-only: entry N
takes a file from version N to N+1, so a state written by any older mentions opens in a
newer one, and an older mentions refuses a newer file instead of damaging it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mentions.errors import StateError

MIGRATIONS: tuple[str, ...] = (
    # 1: mentions reported, HTTP validators per URL, health per source.
    """
    CREATE TABLE mentions (
        id TEXT PRIMARY KEY,
        keyword TEXT NOT NULL,
        source TEXT NOT NULL,
        source_type TEXT NOT NULL,
        url TEXT,
        title TEXT NOT NULL,
        author TEXT,
        published TEXT,
        found_at TEXT NOT NULL,
        terms TEXT NOT NULL,
        count INTEGER NOT NULL,
        snippet TEXT NOT NULL,
        lang TEXT,
        tags TEXT NOT NULL
    );
    CREATE INDEX mentions_found_at ON mentions (found_at);
    CREATE TABLE validators (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT
    );
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        last_attempt TEXT,
        last_success TEXT,
        status TEXT,
        items INTEGER,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    """,
    # 2: a text fingerprint per mention (syndicated copies at other URLs are the same
    # document); ids of pruned mentions (so pruning never re-reports an old post still on a
    # page); HTTP status and the start of a failure streak per source; a log of runs.
    """
    ALTER TABLE mentions ADD COLUMN fingerprint TEXT;
    CREATE INDEX mentions_fingerprint ON mentions (keyword, fingerprint);
    CREATE INDEX mentions_source ON mentions (source);
    CREATE TABLE forgotten (
        id TEXT PRIMARY KEY,
        keyword TEXT NOT NULL,
        fingerprint TEXT,
        found_at TEXT NOT NULL
    );
    CREATE INDEX forgotten_fingerprint ON forgotten (keyword, fingerprint);
    ALTER TABLE sources ADD COLUMN http_status INTEGER;
    ALTER TABLE sources ADD COLUMN failing_since TEXT;
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT NOT NULL,
        pid INTEGER NOT NULL,
        sources INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        new_mentions INTEGER NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite3.Connection) -> int:
    """The version stored in the file (0 for a new, empty file)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the file up to SCHEMA_VERSION, one migration per transaction."""
    version = schema_version(db)
    _refuse_newer(version, path)
    while version < SCHEMA_VERSION:
        with db:
            db.execute("BEGIN IMMEDIATE")
            # Another process may have migrated while we waited for the write lock.
            version = schema_version(db)
            _refuse_newer(version, path)
            if version >= SCHEMA_VERSION:
                break
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            version += 1
            db.execute(f"PRAGMA user_version = {version}")


def _refuse_newer(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise StateError(
            f"the state file {path} was written by a newer mentions (schema {version}, "
            f"this one knows {SCHEMA_VERSION}); upgrade mentions or use another --state"
        )
