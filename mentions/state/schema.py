"""The schema of the state and its forward migrations, for SQLite and PostgreSQL alike.

The schema version lives in `PRAGMA user_version` (SQLite) or the `mentions_schema` table
(PostgreSQL). MIGRATIONS is append-only: entry N takes a state from version N to N+1, so a
state written by any older mentions opens in a newer one, and an older mentions refuses a
newer state instead of damaging it.

The few words the two dialects spell differently are placeholders, filled by `DIALECTS`:
`{serial}` (a key numbered by the database), `{time}` (RFC 3339 text, compared byte by byte:
PostgreSQL would otherwise compare by the database's locale) and `{order}` (SQLite's rowid
is the order of insertion; PostgreSQL needs a column for it).
"""

from __future__ import annotations

from mentions.errors import StateError
from mentions.state.database import Database

DIALECTS = {
    "sqlite": {"serial": "INTEGER PRIMARY KEY", "time": "TEXT", "order": ""},
    "postgresql": {
        "serial": "BIGSERIAL PRIMARY KEY", "time": 'TEXT COLLATE "C"', "order": "seq BIGSERIAL NOT NULL,",
    },
}

MIGRATIONS: tuple[str, ...] = (
    # 1: mentions reported, HTTP validators per URL, health per source.
    """
    CREATE TABLE mentions ({order}
        id TEXT PRIMARY KEY,
        keyword TEXT NOT NULL,
        source TEXT NOT NULL,
        source_type TEXT NOT NULL,
        url TEXT,
        title TEXT NOT NULL,
        author TEXT,
        published {time},
        found_at {time} NOT NULL,
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
        found_at {time} NOT NULL
    );
    CREATE INDEX forgotten_fingerprint ON forgotten (keyword, fingerprint);
    ALTER TABLE sources ADD COLUMN http_status INTEGER;
    ALTER TABLE sources ADD COLUMN failing_since TEXT;
    CREATE TABLE runs (
        id {serial},
        started TEXT NOT NULL,
        finished TEXT NOT NULL,
        pid INTEGER NOT NULL,
        sources INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        new_mentions INTEGER NOT NULL
    );
    """,
    # 3: what a source notes for its next run (a sitemap: each page it has seen, with its
    # <lastmod>), saved with its validators once its mentions are recorded.
    """
    CREATE TABLE notes (
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (source, key)
    );
    """,
    # 4: HTTP validators per source and URL. Kept per URL alone, a source reading a URL that
    # another source had read (a page that a sitemap source also lists, two feed sources on
    # one URL for different keywords) sent the other's validators on its first request, got
    # a 304, read nothing, and never found its mentions. The old ones cannot be given to a
    # source: they go, and the next scan reads each URL once in full (nothing is reported
    # twice: mentions are known by their ids).
    """
    DROP TABLE validators;
    CREATE TABLE validators (
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        PRIMARY KEY (source, url)
    );
    """,
    # 5: whether `scan --seed` recorded a mention. A seed records a source's whole backlog at
    # once, and a mention without a published date counts on the day it was found: the
    # seed's day, where hundreds of old posts made a spike that never happened. The report
    # leaves those out (`report.py`); mentions recorded before are taken as not seeded, so
    # an older state reports as it did (which of them a seed recorded is nowhere written).
    """
    ALTER TABLE mentions ADD COLUMN is_seeded INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: a digest of what a failing source was when it last failed (`identity.py`). Health is
    # kept by name, so a source backing off stayed skipped after the user fixed its URL or
    # token in the config; one whose definition changed since is tried at once. Rows from
    # before have none: taken as unchanged, they back off as they did.
    """
    ALTER TABLE sources ADD COLUMN definition_digest TEXT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: Database) -> None:
    """Bring the state up to SCHEMA_VERSION, one migration per transaction."""
    version = db.schema_version()
    _refuse_newer(version, db.label)
    words = DIALECTS[db.dialect]
    while version < SCHEMA_VERSION:
        with db.schema_lock():
            db.begin()
            try:
                # Another process may have migrated while we waited for the lock.
                version = db.schema_version()
                _refuse_newer(version, db.label)
                if version >= SCHEMA_VERSION:
                    db.commit()
                    break
                for statement in MIGRATIONS[version].format(**words).split(";"):
                    if statement.strip():
                        db.execute(statement)
                version += 1
                db.set_schema_version(version)
            except BaseException:
                db.rollback()
                raise
            db.commit()


def require_current(db: Database) -> None:
    """A reader's check instead of `migrate`: it may not write, so it reads this version's
    schema only, and leaves the upgrade to the next scan."""
    version = db.schema_version()
    _refuse_newer(version, db.label)
    if version < SCHEMA_VERSION:
        raise StateError(
            f"{db.label} has an older schema ({version}, this mentions reads {SCHEMA_VERSION}): "
            "a `mentions scan` must upgrade it first"
        )


def _refuse_newer(version: int, label: str) -> None:
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{label} was written by a newer mentions (schema {version}, "
            f"this one knows {SCHEMA_VERSION}); upgrade mentions or use another --state"
        )
