"""One scan at a time per state file: an advisory lock on `STATE.lock`.

The lock is `flock(2)` on a file beside the state, so the kernel releases it when the
holder exits in any way, `kill -9` included: a dead scan never blocks the next one. The
file also holds a small JSON note (pid, host, start time) so that a second scan can say
who holds the lock. The file itself is never deleted: removing a locked file lets two
processes hold locks on two different files of the same name. (POSIX only: `fcntl`.)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from mentions.errors import StateLockedError

_POLL_SECONDS = 0.1


def lock_path(state_path: Path) -> Path:
    """The lock file of a state file: `mentions.db` -> `mentions.db.lock`."""
    return state_path.with_name(state_path.name + ".lock")


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
        deadline = time.monotonic() + max(wait, 0.0)
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise StateLockedError(self._refusal(fd, wait))
                time.sleep(min(_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
            note = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(note).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (closing the file releases it)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # a stale note must not name a finished scan
            os.close(fd)

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def _refusal(self, fd: int, wait: float) -> str:
        holder = describe_holder(_read_note(fd))
        waited = f" after waiting {wait:g} s" if wait > 0 else ""
        advice = "" if wait > 0 else "; pass --wait SECONDS to wait for it"
        return f"the state file {self.state_path} is in use by another scan ({holder}){waited}{advice}"


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
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
