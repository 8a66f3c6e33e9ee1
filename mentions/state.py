"""The only module that talks to SQLite: what was reported, HTTP validators, source health.

A mention is recorded only after its line was written (the pipeline calls `record` after
the writer returned), so a crash can repeat a line but never lose one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mentions.dates import rfc3339
from mentions.errors import StateError
from mentions.models import Mention

SCHEMA_VERSION = 1

# Append-only: each entry migrates from the version before it to the next.
MIGRATIONS: tuple[str, ...] = (
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
)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a source fared on its recent runs."""

    name: str
    last_attempt: str | None
    last_success: str | None
    status: str | None
    items: int | None
    failures: int
    last_error: str | None


class State:
    """An open state file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise StateError(f"cannot use the state file {path}: {error}") from None
        except OSError as error:
            raise StateError(f"cannot create the state file {path}: {error.strerror}") from None

    def __enter__(self) -> State:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the state file {self.path} was written by a newer mentions (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade mentions"
            )
        for number in range(version, SCHEMA_VERSION):
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")

    def seen(self, ids: Iterable[str]) -> set[str]:
        """Which of `ids` were reported before."""
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT id FROM mentions WHERE id IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    def record(self, mentions: Sequence[Mention]) -> None:
        """Remember `mentions` as reported, in one transaction."""
        if not mentions:
            return
        rows = [
            (m.id, m.keyword, m.source, m.source_type, m.url, m.title, m.author, rfc3339(m.published),
             rfc3339(m.found_at), json.dumps(m.terms, ensure_ascii=False), m.count, m.snippet,
             m.lang, json.dumps(m.tags, ensure_ascii=False))
            for m in mentions
        ]
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO mentions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
            )

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified last seen for `url`."""
        row = self._db.execute(
            "SELECT etag, last_modified FROM validators WHERE url = ?", (url,)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_validators(self, rows: Sequence[tuple[str, str | None, str | None]]) -> None:
        """Store (url, etag, last_modified) after the mentions from those answers were recorded."""
        if not rows:
            return
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO validators VALUES (?,?,?)", rows)

    def health(self, name: str) -> SourceHealth | None:
        """The stored health of one source."""
        row = self._db.execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
        return SourceHealth(*row) if row else None

    def update_health(self, name: str, *, error: str | None, status: str, items: int) -> None:
        """Record one attempt at a source."""
        now = rfc3339(datetime.now(UTC))
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if error is None:
                self._db.execute(
                    "INSERT INTO sources VALUES (?,?,?,?,?,0,NULL) ON CONFLICT(name) DO UPDATE SET "
                    "last_attempt=excluded.last_attempt, last_success=excluded.last_success, "
                    "status=excluded.status, items=excluded.items, failures=0, last_error=NULL",
                    (name, now, now, status, items),
                )
            else:
                self._db.execute(
                    "INSERT INTO sources VALUES (?,?,NULL,?,0,1,?) ON CONFLICT(name) DO UPDATE SET "
                    "last_attempt=excluded.last_attempt, status=excluded.status, "
                    "failures=sources.failures+1, last_error=excluded.last_error",
                    (name, now, status, error),
                )


def default_state_path() -> Path:
    """The state file in the user state directory."""
    import platformdirs

    return Path(platformdirs.user_state_dir("mentions")) / "mentions.db"


def read_rows(state: State, sql: str, parameters: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """Rows of a read-only SELECT, for `report.py`, which builds its own queries over `mentions`."""
    return state._db.execute(sql, tuple(parameters)).fetchall()
