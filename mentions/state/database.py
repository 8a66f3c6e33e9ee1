"""Where the state lives: a SQLite file, or a PostgreSQL database shared by several machines.

`State` speaks one small SQL dialect through `Database`: `?` placeholders, explicit
`begin`/`commit`, savepoints, `INSERT ... ON CONFLICT`, and `ORDER BY found_at, <order>`
for "in the order they were recorded". The two adapters below translate the rest:
SQLite keeps its settings in PRAGMAs and its schema version in `user_version`; PostgreSQL
takes `%s` placeholders, keeps the version in a table of its own and needs psycopg, an
optional dependency (`pip install 'mentions[postgres]'`).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from mentions.errors import StateError

# 16 MB of page cache instead of SQLite's 2 MB: each new mention lands at a random place in
# two indexes (id, keyword+fingerprint). Recording 200,000 mentions took 8.4-12.1 s of CPU
# with the default, 6.4-9.3 s with 16 MB (alternating runs); at 40,000 no difference showed.
_CACHE_KIB = 16_000
DATABASE_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):/")
POSTGRES_SCHEMES = ("postgresql", "postgres")
# One number for the scan lock of every mentions state in a PostgreSQL database
# (pg_advisory_lock takes a bigint): "mentions" in ASCII.
PG_LOCK_KEY = 0x6D656E74696F6E73
_CONNECT_SECONDS = 30


class Cursor(Protocol):
    """What both drivers' cursors offer and `State` uses."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Any: ...


class Database(Protocol):
    """An open state database, whichever kind."""

    dialect: str  # "sqlite" or "postgresql"
    label: str  # how messages name it: "the state file PATH", or a URL without its password
    order: str  # the column that sorts rows in the order they were inserted
    errors: tuple[type[Exception], ...]

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> Cursor: ...

    def describe(self, error: BaseException) -> str:
        """One line of the driver's message about `error`, without any password."""
        ...

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def schema_version(self) -> int: ...

    def set_schema_version(self, version: int) -> None: ...

    def schema_lock(self) -> AbstractContextManager[None]: ...

    def compact(self) -> None: ...

    def close(self) -> None: ...


def is_database_url(location: str) -> bool:
    """Whether a `state:` value is a URL (`postgresql://...`) rather than a file path."""
    return DATABASE_URL.match(location) is not None


def url_problem(location: str) -> str | None:
    """Why a database URL cannot hold the state, or None if it can."""
    found = DATABASE_URL.match(location)
    if found is None:
        return None
    scheme = found.group(1).lower()
    if scheme not in POSTGRES_SCHEMES:
        return f"{scheme}:// is not a state mentions can use; give a SQLite file or a postgresql:// URL"
    if not has_postgres_driver():
        return ("a postgresql:// state needs psycopg, which is not installed; "
                "install it with: pip install 'mentions[postgres]'")
    return None


def has_postgres_driver() -> bool:
    import importlib.util

    return importlib.util.find_spec("psycopg") is not None


def without_password(url: str) -> str:
    """`url` with its password left out (`user:***@host`, `?password=***`), as messages show it.

    Everything between `scheme://` and the last `@` is taken as the user and password, even
    where the password holds an unencoded `#`, `/`, `?` or `@` (which libpq accepts): a URL
    parser would split there and show the rest of the password."""
    prefix, userinfo, rest = _url_parts(url)
    if userinfo is not None:
        user, has_password, _ = userinfo.partition(":")
        if any(mark in user for mark in "/?#&="):
            user, has_password = "", ":"  # not a user name: the last `@` lies further on
        prefix += f"{user}:***@" if has_password else f"{user}@"
    address, has_query, query = rest.partition("?")
    if not has_query:
        return prefix + address
    hidden = "&".join(
        f"{key}=***" if "password" in unquote(key).lower() else part
        for part in query.split("&")
        for key in [part.partition("=")[0]]
    )
    return f"{prefix}{address}?{hidden}"


def _url_parts(url: str) -> tuple[str, str | None, str]:
    """`scheme://`, the user and password before the last `@` (None if no `@`), the rest."""
    found = re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:/*", url)
    prefix = found.group(0) if found else ""
    userinfo, has_at, rest = url[len(prefix):].rpartition("@")
    return prefix, (userinfo if has_at else None), rest


def _secrets(url: str) -> list[str]:
    """The password of `url` (and its pieces) and `password=` values of its query, as written
    and decoded."""
    _, userinfo, _ = _url_parts(url)
    password = userinfo.partition(":")[2] if userinfo is not None else ""
    # libpq splits a password with an unencoded `/`, `?` or `#` there, and may quote a piece
    found = [password, *re.split(r"[/?#@]", password)]
    # after any `?`, not only the last `@`: `postgresql://host/db?password=a@b` has one too
    for query in url.split("?")[1:]:
        for part in query.split("&"):
            key, _, value = part.partition("=")
            if "password" in unquote(key).lower():
                found += [value, value.partition("#")[0]]
    found += [unquote(secret) for secret in found]
    return sorted({secret for secret in found if secret}, key=len, reverse=True)


def _without_secret(text: str, url: str) -> str:
    """A driver's message about `url` without the URL's password: libpq quotes parts of the
    URL it cannot parse (`invalid percent-encoded token: "50%offSale"`), or all of it."""
    text = text.replace(url, without_password(url))
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


class SqliteDatabase:
    """A state file: WAL, so readers (`history`, `sources`) work beside a running scan."""

    dialect = "sqlite"
    order = "rowid"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path, *, is_read_only: bool = False) -> None:
        self.label = f"the state file {path}"
        self._path = path
        self._unlocked: tuple[int, int, int] | None = None  # see _open_read_only
        if is_read_only:
            self._open_read_only(path)
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        except OSError as error:
            raise StateError(f"cannot create the state file {path}: {error.strerror}") from None
        except sqlite3.Error as error:
            raise StateError(f"cannot open the state file {path}: {error}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # A commit survives a killed process; a power cut may undo the last commits, which
            # only repeats lines.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StateError(f"cannot use the state file {path}: {self.describe(error)}") from None

    def _open_read_only(self, path: Path) -> None:
        """For commands that only read: they need read access alone, and change nothing (no
        journal mode, no file created; see access.py)."""
        from mentions.state.access import reader_uri

        uri = reader_uri(path)
        # `immutable=1` takes no lock: a scan's checkpoint or a prune may rewrite the file under
        # the read, which then returned rows silently missing or "database disk image is
        # malformed" for a sound file. The file is compared with what it was when opened.
        self._unlocked = _identity(path) if "immutable=1" in uri else None
        try:
            self._db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
            self._db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        except OSError as error:  # it went, or its folder is out of reach, since it was found
            raise StateError(f"cannot read the state file {path}: {error.strerror}") from None
        except sqlite3.Error as error:
            raise StateError(f"cannot read the state file {path}: {error}") from None

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> Cursor:
        return self._db.execute(sql, tuple(parameters))

    def describe(self, error: BaseException) -> str:
        """The driver's line; when it could not write, which file stopped it (a -shm that
        another user's reader left, say)."""
        if self._has_changed():
            return CHANGED_WHILE_READ
        text = first_line(error)
        if getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_READONLY:
            from mentions.state.access import why_unwritable

            why = why_unwritable(self._path)
            if why:
                return f"{text}: {why}"
        return text

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        self._db.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # take the write lock now, not at the first write

    def commit(self) -> None:
        self._db.commit()

    def rollback(self) -> None:
        self._db.rollback()

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, version: int) -> None:
        self._db.execute(f"PRAGMA user_version = {int(version)}")

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Nothing to take: `begin` takes the file's write lock, which serialises migrations."""
        yield

    def compact(self) -> None:
        self._db.execute("VACUUM")

    def close(self) -> None:
        self._db.close()
        if self._has_changed():  # what was read may miss rows: say so rather than pass it off
            raise StateError(f"cannot read {self.label}: {CHANGED_WHILE_READ}")

    def _has_changed(self) -> bool:
        return self._unlocked is not None and _identity(self._path) != self._unlocked


CHANGED_WHILE_READ = "it changed while it was read (a scan or prune wrote to it); run the command again"


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a rewritten file from the one opened: inode, size, modification time."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


class PostgresDatabase:
    """A state in PostgreSQL, for teams whose sources outgrow one machine (`scan --shard`)."""

    dialect = "postgresql"
    order = "seq"

    def __init__(self, url: str) -> None:
        import psycopg

        self._url = url
        self.label = f"the state database {without_password(url)}"
        self.errors: tuple[type[Exception], ...] = (psycopg.Error,)
        self._transaction_idle = psycopg.pq.TransactionStatus.IDLE
        try:
            # A server that never answers must not hang a cron job (unless the URL or
            # PGCONNECT_TIMEOUT says how long to wait).
            options: dict[str, Any] = {}
            if "connect_timeout" not in url and not os.environ.get("PGCONNECT_TIMEOUT"):
                options["connect_timeout"] = _CONNECT_SECONDS
            # autocommit: transactions are begun explicitly, as with SQLite.
            self._db = psycopg.connect(url, autocommit=True, **options)
        except psycopg.Error as error:
            raise StateError(f"cannot connect to {self.label}: {self.describe(error)}") from None

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> Cursor:
        return self._db.execute(_pg_sql(sql), tuple(parameters))  # type: ignore[arg-type,return-value]

    def describe(self, error: BaseException) -> str:
        return first_line(error, self._url)

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(_pg_sql(sql), rows)  # type: ignore[arg-type]

    @property
    def in_transaction(self) -> bool:
        return bool(self._db.info.transaction_status != self._transaction_idle)

    def begin(self) -> None:
        self._db.execute("BEGIN")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        self._db.execute("ROLLBACK")

    def schema_version(self) -> int:
        found = self._db.execute("SELECT to_regclass('mentions_schema')").fetchone()
        if found is None or found[0] is None:
            return 0  # a new database
        row = self._db.execute("SELECT max(version) FROM mentions_schema").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def set_schema_version(self, version: int) -> None:
        """Within the migration's transaction, under `schema_lock`."""
        self._db.execute("CREATE TABLE IF NOT EXISTS mentions_schema (version INTEGER NOT NULL)")
        self._db.execute("DELETE FROM mentions_schema")
        self._db.execute("INSERT INTO mentions_schema (version) VALUES (%s)", (int(version),))

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Two machines starting at once: one migrates, the other waits and then sees it done.

        Taken before the transaction begins, not inside it: a transaction that began before
        the other's commit may still see the catalog as it was (no `mentions_schema` yet)."""
        self._db.execute("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY - 1,))
        try:
            yield
        finally:
            self._db.execute("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY - 1,))

    def compact(self) -> None:
        """Nothing: PostgreSQL's autovacuum reclaims the space of deleted rows."""

    def close(self) -> None:
        self._db.close()

    @property
    def connection(self) -> Any:
        """The driver's connection, for the scan lock (a session-level advisory lock)."""
        return self._db


def _pg_sql(sql: str) -> str:
    """The shared dialect's `?` placeholders as psycopg's `%s` (no `?` or `%` occurs in literals)."""
    return sql.replace("%", "%%").replace("?", "%s")


def first_line(error: BaseException, url: str = "") -> str:
    """A driver's message without the hints and context lines it appends, nor the password
    of the database `url` it may quote."""
    text = (_without_secret(str(error), url) if url else str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connect(location: Path | str, *, is_read_only: bool = False) -> Database:
    """Open the state at `location`: a file path, or a postgresql:// URL.

    `is_read_only` opens a file read-only (see access.py); a database URL opens as ever."""
    if isinstance(location, str) and is_database_url(location):
        problem = url_problem(location)
        if problem:
            raise StateError(problem)
        return PostgresDatabase(location)
    return SqliteDatabase(Path(location), is_read_only=is_read_only)
