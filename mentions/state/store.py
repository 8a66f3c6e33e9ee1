"""The state: what was reported, HTTP validators, source health, a log of runs.

A mention is recorded only after its line was written (the pipeline calls `deliver` after
the writer returned), so a crash can repeat a line but never lose one; `withdraw` takes back
the mentions whose lines a reader left unread in a pipe. Everything one
source changes (its mentions, its validators, its health) goes into one transaction (or
one savepoint of a group, below), so validators are never saved without the mentions of
the answer they validate.

While sources finish faster than it can record them, a scan groups their changes
(`grouped_commits`): a commit at most every second instead of one per source, and one
whenever the scan waits for the network. Each commit rewrites every page it touched, and
the random ids and fingerprints of 40 mentions touch about a hundred index pages, so
per-source commits wrote ~0.5 MB each and held the event loop for milliseconds. Within a
group, each change is a savepoint: a failing one is undone alone. A scan killed with -9
loses at most its last second's records, which, like a power cut, only repeats lines.

The state is a SQLite file or a PostgreSQL database (`database.py`); the SQL here is the
dialect both understand.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache, wraps
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar

from mentions.dates import moment_of, rfc3339, seconds_before
from mentions.errors import StateError
from mentions.lock import DatabaseLock, StateLock
from mentions.models import Mention
from mentions.output import to_json
from mentions.state.access import why_unwritable
from mentions.state.database import PG_LOCK_KEY, Database, PostgresDatabase, connect
from mentions.state.health import SourceHealth, parse_time
from mentions.state.schema import migrate, require_current

P = ParamSpec("P")
R = TypeVar("R")
_CHUNK = 400  # stays below SQLite's limit of host parameters per statement

_MENTION_COLUMNS = ("id, keyword, source, source_type, url, title, author, published, found_at, "
                    "terms, count, snippet, lang, tags, fingerprint")
_HEALTH_COLUMNS = ("name, last_attempt, last_success, status, items, failures, last_error, "
                   "http_status, failing_since, definition_digest")
# A failure of a source whose definition changed since it last failed starts a new streak.
_CHANGED = "sources.definition_digest <> excluded.definition_digest"

Validators = Sequence[tuple[str, str | None, str | None]]
Location = Path | str  # a SQLite file, or a postgresql:// URL


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Turn database failures (disk full, a damaged file, a lost server) into one sentence."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        state = args[0]
        assert isinstance(state, State)
        try:
            return method(*args, **kwargs)
        except state.db.errors as error:
            raise _unusable(state.db, error) from None

    return wrapper


def _unusable(db: Database, error: BaseException) -> StateError:
    """One sentence for a database failure (disk full, a damaged file, a lost server)."""
    return StateError(f"{db.label} cannot be used: {db.describe(error)}")


def _file_lock(path: Path, wait: float) -> StateLock:
    """The scan lock of a state file, taken (StateLockedError if it stays taken)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = StateLock(path)
        lock.acquire(wait)
    except OSError as error:
        raise StateError(f"cannot create the state file {path}: {error.strerror}") from None
    return lock


def _refuse_unwritable(path: Path, lock: StateLock) -> None:
    """Before a writer reads anything: SQLite opens a file, -wal or -shm it may not write
    read-only without a word, and the scan would fetch and print everything, then fail to
    record it."""
    why = why_unwritable(path)
    if why is not None:
        lock.release()
        raise StateError(f"cannot write the state file {path}: {why}")


@lru_cache(maxsize=4096)
def _json_list_text(values: tuple[str, ...]) -> str:
    """`values` as the JSON text stored; the same few tags and terms recur in a scan's
    mentions, and encoding them took 3.5 us each, twice per mention."""
    return to_json(values)


def _now() -> str:
    return rfc3339(datetime.now(UTC)) or ""


class State:
    """An open state; use as a context manager.

    `lock_wait` takes the scan lock first (waiting up to that many seconds) for commands
    that write; readers leave it as None and read beside a running scan (WAL, or MVCC).
    `is_read_only` (a file's readers, `open_existing`) neither migrates nor writes anything.
    """

    def __init__(
        self, location: Location, *, lock_wait: float | None = None, is_read_only: bool = False,
    ) -> None:
        self._lock: StateLock | DatabaseLock | None = None
        self._group_seconds: float | None = None  # set while grouping commits
        self._group_started = 0.0
        self._is_held = False  # nothing is committed until `release_commits`
        if lock_wait is not None and isinstance(location, Path):
            # A file's lock comes before the file is opened: a second scan that opened it
            # while the first creates or migrates it could meet "database is locked".
            self._lock = _file_lock(location, lock_wait)
            _refuse_unwritable(location, self._lock)
        try:
            self.db: Database = connect(location, is_read_only=is_read_only)
        except BaseException:
            self._release_lock()
            raise
        try:
            if lock_wait is not None and isinstance(self.db, PostgresDatabase):
                self._lock = DatabaseLock(self.db.connection, self.db.label, PG_LOCK_KEY)
                self._lock.acquire(lock_wait)
            if is_read_only:
                require_current(self.db)
            else:
                migrate(self.db)
        except self.db.errors as error:
            self.close()
            raise StateError(f"cannot use {self.db.label}: {self.db.describe(error)}") from None
        except BaseException:
            self.close()
            raise

    @classmethod
    def open_existing(cls, path: Location) -> State | None:
        """Open for reading only; None when nothing was recorded yet: no state file, or an
        empty one (SQLite would have made it a database)."""
        if isinstance(path, str):
            return cls(path)  # a database: an empty one reads as no mentions at all
        try:
            if not path.exists():
                return None
            if not path.is_file():
                raise StateError(f"cannot use the state file {path}: it is not a file")
            if path.stat().st_size == 0:
                return None
        except OSError as error:  # a folder this user may not enter
            raise StateError(f"cannot read the state file {path}: {error.strerror or error}") from None
        return cls(path, is_read_only=True)

    def __enter__(self) -> State:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database, then let the next scan in."""
        try:
            self.db.close()
        finally:
            self._release_lock()

    @contextmanager
    def grouped_commits(self, seconds: float = 1.0) -> Iterator[None]:
        """Commit the changes made inside at most every `seconds`, and at the end.

        The end commits even when an exception leaves the block: what was recorded stands
        for lines already written.
        """
        self._group_seconds = seconds
        try:
            yield
        finally:
            self._group_seconds = None
            self.commit()

    @_guarded
    def commit(self) -> None:
        """Make what the group recorded so far permanent (a scan calls it when it waits)."""
        if self.db.in_transaction and not self._is_held:
            self.db.commit()

    def hold_commits(self) -> None:
        """Commit nothing until `release_commits`, not even at the end of a group.

        For output that is written only when the scan ends (the table): its mentions are
        not out until then, so they may not be recorded before. If the table never gets
        out, closing the state undoes them, and the next run reports them again."""
        self._is_held = True

    def release_commits(self) -> None:
        """The held output is out: make everything recorded since `hold_commits` permanent."""
        self._is_held = False
        self.commit()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One change, all or nothing: its own transaction, or a savepoint in the group's (or
        in the transaction that holds everything until `release_commits`)."""
        seconds = self._group_seconds
        if seconds is None and not self._is_held:
            self.db.begin()
            try:
                yield
            except BaseException:
                self.db.rollback()
                raise
            self.db.commit()
            return
        if not self.db.in_transaction:
            self.db.begin()
            self._group_started = time.monotonic()
        self.db.execute("SAVEPOINT change")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK TO SAVEPOINT change")
            self.db.execute("RELEASE SAVEPOINT change")
            raise
        self.db.execute("RELEASE SAVEPOINT change")
        if seconds is not None and not self._is_held and time.monotonic() - self._group_started >= seconds:
            self.db.commit()

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # --- mentions ---------------------------------------------------------------------

    @_guarded
    def seen(self, mentions: Iterable[Mention], fingerprints: Mapping[str, str] | None = None) -> set[str]:
        """Ids of `mentions` reported before: the same id, or the same text under the same keyword."""
        wanted = list(mentions)
        prints = fingerprints or {}
        found: set[str] = set()
        ids = [m.id for m in wanted]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for table in ("mentions", "forgotten"):
                rows = self.db.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk)
                found.update(row[0] for row in rows)
        for mention in wanted:
            fingerprint = prints.get(mention.id)
            if mention.id in found or not fingerprint:
                continue
            for table in ("mentions", "forgotten"):
                row = self.db.execute(
                    f"SELECT 1 FROM {table} WHERE keyword = ? AND fingerprint = ? LIMIT 1",
                    (mention.keyword, fingerprint),
                ).fetchone()
                if row:
                    found.add(mention.id)
                    break
        return found

    @_guarded
    def first_found(
        self, mentions: Sequence[Mention], fingerprints: Mapping[str, str]
    ) -> dict[str, datetime]:
        """When each of `mentions` that was reported before was first found, by id (`--all`
        prints them again, with the time of their first report).

        Pruned mentions count too: `forgotten` keeps their `found_at`, and without it `--all`
        showed them as found now."""
        found: dict[str, datetime] = {}
        for mention in mentions:
            row = self.db.execute(
                "SELECT min(found_at) FROM (SELECT found_at FROM mentions WHERE id = ? "
                "UNION ALL SELECT found_at FROM forgotten WHERE id = ?) AS known",
                (mention.id, mention.id),
            ).fetchone()
            fingerprint = fingerprints.get(mention.id)
            if (row is None or row[0] is None) and fingerprint:
                row = self.db.execute(
                    "SELECT min(found_at) FROM (SELECT found_at FROM mentions WHERE keyword = ? AND "
                    "fingerprint = ? UNION ALL SELECT found_at FROM forgotten WHERE keyword = ? AND "
                    "fingerprint = ?) AS known",
                    (mention.keyword, fingerprint, mention.keyword, fingerprint),
                ).fetchone()
            first = parse_time(row[0]) if row is not None else None
            if first is not None:
                found[mention.id] = first
        return found

    @_guarded
    def record(
        self, mentions: Sequence[Mention], fingerprints: Mapping[str, str] | None = None, *,
        is_seed: bool = False,
    ) -> None:
        """Remember `mentions` as reported, in one transaction; `is_seed`: by `scan --seed`."""
        if not mentions:
            return
        with self._transaction():
            self._insert(mentions, fingerprints or {}, is_seed=is_seed)

    def _insert(self, mentions: Sequence[Mention], fingerprints: Mapping[str, str], *, is_seed: bool) -> None:
        rows = [
            (m.id, m.keyword, m.source, m.source_type, m.url, m.title, m.author, rfc3339(m.published),
             rfc3339(m.found_at), _json_list_text(m.terms), m.count, m.snippet,
             m.lang, _json_list_text(m.tags), fingerprints.get(m.id), int(is_seed))
            for m in mentions
        ]
        marks = ",".join("?" * 16)
        self.db.executemany(
            f"INSERT INTO mentions ({_MENTION_COLUMNS}, is_seeded) VALUES ({marks}) ON CONFLICT DO NOTHING",
            rows,
        )

    @_guarded
    def withdraw(self, ids: Sequence[str]) -> None:
        """Forget mentions this scan recorded whose lines no one read (the reader went away
        and left them in a pipe), so that the next run reports them again.

        Their rows go, fingerprints with them. So do the HTTP validators of their sources (a
        304 would hide the mentions from the next run) and a note kept under a withdrawn
        mention's URL (a sitemap's page, which would not be read again)."""
        if not ids:
            return
        with self._transaction():
            places: set[tuple[str, str | None]] = set()
            for start in range(0, len(ids), _CHUNK):
                chunk = list(ids[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self.db.execute(f"SELECT source, url FROM mentions WHERE id IN ({marks})", chunk)
                places.update((source, url) for source, url in rows)
                self.db.execute(f"DELETE FROM mentions WHERE id IN ({marks})", chunk)
            sources = {source for source, _ in places}
            self.db.executemany("DELETE FROM validators WHERE source = ?", [(source,) for source in sources])
            self.db.executemany("DELETE FROM notes WHERE source = ? AND key = ?",
                                [(source, url) for source, url in places if url is not None])

    @_guarded
    def deliver(
        self, name: str, mentions: Sequence[Mention], fingerprints: Mapping[str, str],
        validators: Validators, *, error: str | None, status: str, http_status: int | None, items: int,
        notes: Sequence[tuple[str, str]] = (), is_seed: bool = False, definition_digest: str | None = None,
    ) -> None:
        """Record one source's written mentions (`is_seed`: found by `scan --seed`, not
        written), its validators, its notes and its health in one commit (with a failure,
        `definition_digest`: what the source was)."""
        with self._transaction():
            self._insert(mentions, fingerprints, is_seed=is_seed)
            self._save_validators(name, validators)
            if notes:
                self.db.executemany(
                    "INSERT INTO notes (source, key, value) VALUES (?,?,?) ON CONFLICT (source, key) "
                    "DO UPDATE SET value = excluded.value", [(name, key, value) for key, value in notes],
                )
            self._update_health(name, error=error, status=status, http_status=http_status, items=items,
                                definition_digest=definition_digest)

    @_guarded
    def notes(self, name: str) -> dict[str, str]:
        """What source `name` noted in its earlier runs (`deliver`), by key."""
        return dict(self.db.execute("SELECT key, value FROM notes WHERE source = ?", (name,)).fetchall())

    def mentions(
        self, *, keywords: Sequence[str] = (), sources: Sequence[str] = (), since: datetime | None = None,
    ) -> Iterator[Mention]:
        """Recorded mentions, oldest first; `since` compares the published time, else found_at."""
        where: list[str] = []
        params: list[object] = []
        for column, values in (("keyword", keywords), ("source", sources)):
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if since is not None:
            # A day early: a date without a time, kept as midnight UTC, counts from the start
            # of its local day (`moment_of`), which west of UTC lies up to 12 hours later.
            where.append("COALESCE(published, found_at) >= ?")
            params.append(rfc3339(seconds_before(since, 86400)))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        query = f"SELECT {_MENTION_COLUMNS} FROM mentions{clause} ORDER BY found_at, {self.db.order}"
        try:  # a generator: `_guarded` would not see what fails while it is read
            for row in self.db.execute(query, params):
                mention = _mention_from_row(row)
                if since is None or moment_of(mention.published, mention.found_at) >= since:
                    yield mention
        except self.db.errors as error:
            raise _unusable(self.db, error) from None

    @_guarded
    def recorded_names(self, column: Literal["keyword", "source"]) -> set[str]:
        """The keywords (or sources) of the recorded mentions: what `--keyword` (`--source`)
        of `history` and `report` can select besides the config's."""
        return {str(row[0]) for row in self.db.execute(f"SELECT DISTINCT {column} FROM mentions")}

    @_guarded
    def prune(self, before: datetime, *, is_dry_run: bool = False) -> int:
        """Forget mentions found before `before`; keep their ids so they are never re-reported."""
        cutoff = rfc3339(before)
        if is_dry_run:
            return int(self.db.execute("SELECT COUNT(*) FROM mentions WHERE found_at < ?",
                                        (cutoff,)).fetchone()[0])
        with self._transaction():
            self.db.execute(
                "INSERT INTO forgotten (id, keyword, fingerprint, found_at) "
                "SELECT id, keyword, fingerprint, found_at FROM mentions WHERE found_at < ? "
                "ON CONFLICT DO NOTHING", (cutoff,),
            )
            count = self.db.execute("DELETE FROM mentions WHERE found_at < ?", (cutoff,)).rowcount
        if count:
            self.db.compact()
        return int(count)

    # --- HTTP validators ----------------------------------------------------------------

    @_guarded
    def validators(self, source: str, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified that source `source` last got for `url` (another
        source's answer for the same URL says nothing about what this one has read)."""
        row = self.db.execute(
            "SELECT etag, last_modified FROM validators WHERE source = ? AND url = ?", (source, url)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def _save_validators(self, source: str, rows: Validators) -> None:
        if rows:
            self.db.executemany(
                "INSERT INTO validators (source, url, etag, last_modified) VALUES (?,?,?,?) "
                "ON CONFLICT (source, url) DO UPDATE SET etag = excluded.etag, "
                "last_modified = excluded.last_modified",
                [(source, *row) for row in rows],
            )

    # --- source health ------------------------------------------------------------------

    @_guarded
    def health(self, name: str) -> SourceHealth | None:
        """The stored health of one source."""
        row = self.db.execute(f"SELECT {_HEALTH_COLUMNS} FROM sources WHERE name = ?", (name,)).fetchone()
        return SourceHealth(*row) if row else None

    @_guarded
    def all_health(self) -> dict[str, SourceHealth]:
        """The stored health of every source ever attempted, by name."""
        rows = self.db.execute(f"SELECT {_HEALTH_COLUMNS} FROM sources")
        return {row[0]: SourceHealth(*row) for row in rows}

    @_guarded
    def update_health(
        self, name: str, *, error: str | None, status: str, items: int, http_status: int | None = None,
        definition_digest: str | None = None,
    ) -> None:
        """Record one attempt at a source."""
        with self._transaction():
            self._update_health(name, error=error, status=status, http_status=http_status, items=items,
                                definition_digest=definition_digest)

    def _update_health(
        self, name: str, *, error: str | None, status: str, http_status: int | None, items: int,
        definition_digest: str | None = None,
    ) -> None:
        """A success clears the failures; a failure counts one more in a row, or starts a new
        streak when the source's definition changed since its last failure (it is another
        source now: its backoff, its "failing since" restart)."""
        now = _now()
        if error is None:
            self.db.execute(
                f"INSERT INTO sources ({_HEALTH_COLUMNS}) VALUES (?,?,?,?,?,0,NULL,?,NULL,NULL) "
                "ON CONFLICT(name) DO UPDATE SET last_attempt=excluded.last_attempt, "
                "last_success=excluded.last_success, status=excluded.status, items=excluded.items, "
                "failures=0, last_error=NULL, http_status=excluded.http_status, failing_since=NULL, "
                "definition_digest=NULL",
                (name, now, now, status, items, http_status),
            )
        else:
            self.db.execute(
                f"INSERT INTO sources ({_HEALTH_COLUMNS}) VALUES (?,?,NULL,?,0,1,?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET last_attempt=excluded.last_attempt, "
                f"status=excluded.status, failures=CASE WHEN {_CHANGED} THEN 1 ELSE sources.failures+1 END, "
                "last_error=excluded.last_error, http_status=excluded.http_status, "
                f"failing_since=CASE WHEN {_CHANGED} THEN excluded.failing_since "
                "ELSE COALESCE(sources.failing_since, excluded.failing_since) END, "
                "definition_digest=COALESCE(excluded.definition_digest, sources.definition_digest)",
                (name, now, status, error, http_status, now, definition_digest),
            )

    # --- runs ---------------------------------------------------------------------------

    @_guarded
    def record_run(self, started: datetime, *, sources: int, failed: int, skipped: int, new: int) -> None:
        """Append one line to the log of runs."""
        with self._transaction():
            self.db.execute(
                "INSERT INTO runs (started, finished, pid, sources, failed, skipped, new_mentions) "
                "VALUES (?,?,?,?,?,?,?)",
                (rfc3339(started), _now(), os.getpid(), sources, failed, skipped, new),
            )


def _mention_from_row(row: Sequence[object]) -> Mention:
    """A recorded mention as the value the writers take (highlights are not stored)."""
    (id_, keyword, source, source_type, url, title, author, published, found_at, terms, count,
     snippet, lang, tags, _fingerprint) = row
    return Mention(
        id=str(id_),
        keyword=str(keyword),
        tags=tuple(_json_list(tags)),
        source=str(source),
        source_type=str(source_type),
        url=url if isinstance(url, str) else None,
        title=str(title),
        author=author if isinstance(author, str) else None,
        published=parse_time(published if isinstance(published, str) else None),
        found_at=parse_time(str(found_at)) or datetime.fromtimestamp(0, UTC),
        terms=tuple(_json_list(terms)),
        count=int(count) if isinstance(count, int) else 0,
        snippet=str(snippet),
        lang=lang if isinstance(lang, str) else None,
    )


def _json_list(value: object) -> list[str]:
    try:
        data = json.loads(str(value))
    except ValueError:
        return []
    return [str(item) for item in data] if isinstance(data, list) else []


def default_state_path() -> Path:
    """The state file in the user state directory."""
    import platformdirs

    return Path(platformdirs.user_state_dir("mentions")) / "mentions.db"


@_guarded
def read_rows(state: State, sql: str, parameters: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """Rows of a read-only SELECT, for `report.py`, which builds its own queries over `mentions`."""
    return list(state.db.execute(sql, tuple(parameters)).fetchall())
