"""Who may open a state file how: readers with read access alone, writers that can write it all.

The usual team setup: the cron user owns the state and its folder, and a teammate runs
`mentions history`. A WAL-mode file is read through its `-wal` and `-shm` files. SQLite
(3.22 and later) reads a file it may not write when those exist, or when it may create
them; `immutable=1` reads the file alone. A reader must not create them as whoever it
runs as: SQLite gives them the state file's mode (and its owner only when run as root), so
a teammate's or a 444 file's copies are files the next scan cannot write.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import quote


def journal_files(path: Path) -> tuple[Path, Path]:
    """The `-wal` and `-shm` files SQLite keeps beside the state file `path`."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def reader_uri(path: Path) -> str:
    """The URI that opens `path` read-only without leaving any file behind.

    `mode=ro` where the -wal and -shm exist (a scan runs, or a reader left them) or where
    the ones SQLite would make are as a scan makes them; else `immutable=1`, which is right
    only while there is no -wal: then every commit is in the file itself. Its price: such a
    reader takes no lock and does not see a scan that starts while it reads, and that
    scan's checkpoint (at its end) rewrites pages under it."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    wal, shm = journal_files(path)
    if (wal.exists() and shm.exists()) or _makes_usable_journal(path):
        return uri
    if _size(wal):
        return uri  # commits only the -wal holds: SQLite reads it if it can
    return uri + "&immutable=1"


def _size(path: Path) -> int:
    """The size of `path`; 0 when it is not there (a scan that ends deletes its -wal)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _makes_usable_journal(path: Path) -> bool:
    """Whether the -wal and -shm SQLite would create for this process are what a scan would:
    owned by the state file's owner (SQLite hands them over when run as root), with a mode
    that lets the owner write."""
    info = path.stat()
    is_owner = os.geteuid() in (0, info.st_uid)
    return is_owner and bool(info.st_mode & stat.S_IWUSR) and is_writable(path.parent)


def is_writable(path: Path) -> bool:
    """Whether this process (its effective user) may write `path`."""
    return os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def why_unwritable(path: Path) -> str | None:
    """Why this process cannot write the existing state file `path`, naming the file that
    stops it (a -wal or -shm left by another user, say); None if nothing does, or if there is
    no file yet (creating it reports its own error)."""
    if not path.is_file():
        return None
    if not is_writable(path):
        return f"{path} is not writable by this user"
    for part in journal_files(path):
        if part.exists() and not is_writable(part):
            return f"{part} beside it is not writable by this user; give it the state file's owner and mode"
    if not all(part.exists() for part in journal_files(path)) and not is_writable(path.parent):
        return f"its folder {path.parent}, where SQLite makes its -wal and -shm, is not writable by this user"
    return None
