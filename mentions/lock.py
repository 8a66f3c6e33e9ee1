"""One scan at a time per state: an advisory lock on `STATE.lock`, or in PostgreSQL.

The lock is `flock(2)` on a file beside the state, so the kernel releases it when the
holder exits in any way, `kill -9` included: a dead scan never blocks the next one. The
file also holds a small JSON note (pid, host, start time) so that a second scan can say
who holds the lock. The file itself is never deleted: removing a locked file lets two
processes hold locks on two different files of the same name. (POSIX only: `fcntl`.)

A state in PostgreSQL is shared by machines that share no file system: its lock is a
session-level advisory lock (`pg_try_advisory_lock`), which the server releases when the
holder's connection ends, and its note a row of the `mentions_lock` table.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mentions.errors import StateLockedError

_POLL_SECONDS = 0.1
# Descriptors that hold a scan lock: a forked worker must not keep them open. A worker
# outlives a parent killed with -9 by up to half a second (workers.py), and an inherited
# descriptor would hold the lock (flock) or the database session (PostgreSQL) that long.
_HELD_IN_PARENT: set[int] = set()
_is_hooked = False


def close_in_children(fd: int) -> None:
    """Close `fd` in every process forked from now on (until `keep_in_children`)."""
    global _is_hooked
    if not _is_hooked:  # on first use, not on import
        os.register_at_fork(after_in_child=_close_held)
        _is_hooked = True
    _HELD_IN_PARENT.add(fd)


def keep_in_children(fd: int) -> None:
    """Undo `close_in_children` (the lock was given up; the number may be reused)."""
    _HELD_IN_PARENT.discard(fd)


def _close_held() -> None:
    for fd in list(_HELD_IN_PARENT):
        with contextlib.suppress(OSError):
            os.close(fd)  # the child's copy only: the parent's lock stays
    _HELD_IN_PARENT.clear()


def lock_path(state_path: Path) -> Path:
    """The lock file of a state file: `mentions.db` -> `mentions.db.lock`, beside the file a
    symbolic link leads to: two scans on one state under two names (`--state link.db`) took
    two locks and printed every mention twice."""
    real = state_path.resolve()
    return real.with_name(real.name + ".lock")


class StateLock:
    """An exclusive, process-wide lock on one state file."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.path = lock_path(state_path)
        self._fd: int | None = None

    @property
    def is_held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, waiting up to `wait` seconds; StateLockedError if it stays taken."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _poll(lambda: _try_lock(fd), lambda: _refusal(f"the state file {self.state_path}",
                                                          _read_note(fd), wait), wait)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(_note()).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        close_in_children(fd)

    def release(self) -> None:
        """Give the lock up (closing the file releases it)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            keep_in_children(fd)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # a stale note must not name a finished scan
            os.close(fd)

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class DatabaseLock:
    """The scan lock of a state in PostgreSQL: held while the connection `db` stays open."""

    def __init__(self, connection: Any, label: str, key: int) -> None:
        self._db = connection
        self._label = label
        self._key = key
        self.is_held = False
        self._socket = -1

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, waiting up to `wait` seconds; StateLockedError if it stays taken."""

        def try_lock() -> bool:
            return bool(self._db.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()[0])

        def read_note() -> dict[str, object]:
            try:  # the table is made by the first holder: it may not exist yet
                row = self._db.execute("SELECT note FROM mentions_lock").fetchone()
            except Exception:
                return {}
            return _note_of(row[0] if row else "")

        _poll(try_lock, lambda: _refusal(self._label, read_note(), wait), wait)
        self.is_held = True
        self._socket = self._db.fileno()
        close_in_children(self._socket)  # the session that holds the lock
        self._db.execute("CREATE TABLE IF NOT EXISTS mentions_lock (note TEXT NOT NULL)")
        self._db.execute("DELETE FROM mentions_lock")
        self._db.execute("INSERT INTO mentions_lock (note) VALUES (%s)", (json.dumps(_note()),))

    def release(self) -> None:
        """Give the lock up (closing the connection would too)."""
        if self.is_held:
            self.is_held = False
            keep_in_children(self._socket)
            with contextlib.suppress(Exception):  # a connection already gone released it
                self._db.execute("DELETE FROM mentions_lock")
                self._db.execute("SELECT pg_advisory_unlock(%s)", (self._key,))


def _poll(try_lock: Callable[[], bool], refusal: Callable[[], str], wait: float) -> None:
    """Call `try_lock` until it succeeds, for up to `wait` seconds; then StateLockedError."""
    deadline = time.monotonic() + max(wait, 0.0)
    while not try_lock():
        if time.monotonic() >= deadline:
            raise StateLockedError(refusal())
        time.sleep(min(_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))


def _note() -> dict[str, object]:
    """Who holds the lock, for the message of a scan that finds it taken."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


def _refusal(label: str, note: dict[str, object], wait: float) -> str:
    holder = describe_holder(note)
    waited = f" after waiting {wait:g} s" if wait > 0 else ""
    advice = "" if wait > 0 else "; pass --wait SECONDS to wait for it"
    return f"{label} is in use by another scan ({holder}){waited}{advice}"


def describe_holder(note: dict[str, object]) -> str:
    """`pid 4711 on host web1, since 2026-11-26T06:00:00Z`, or as much of it as is known."""
    parts = []
    if isinstance(note.get("pid"), int):
        parts.append(f"pid {note['pid']}")
    if isinstance(note.get("host"), str) and note["host"] != socket.gethostname():
        parts.append(f"on host {note['host']}")
    if isinstance(note.get("since"), str):
        parts.append(f"since {note['since']}")
    return ", ".join(parts) if parts else "holder unknown"


def _read_note(fd: int) -> dict[str, object]:
    try:
        return _note_of(os.pread(fd, 4096, 0))
    except OSError:
        return {}


def _note_of(raw: str | bytes) -> dict[str, object]:
    """The holder's note as written (JSON), or {} when there is none or it is unreadable."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
