"""Who may use a state file how: commands that only read need read access alone, and change
nothing, as when the cron user owns the state and a teammate runs `mentions history`.

Root ignores file modes, so as root the commands run under `setpriv` without the
capabilities that let it (CAP_DAC_OVERRIDE and kin): modes then bind as for anyone else.
Where setpriv is missing or may not drop them (a container without CAP_SETPCAP), the tests
that need modes to bind are skipped. Running them as another user does not work in every
sandbox (the one they were written in has no other user that may run the venv's Python).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mentions.models import Mention
from mentions.state import SCHEMA_VERSION, State
from mentions.state.schema import DIALECTS, MIGRATIONS
from tests.conftest import REPO
from tests.localsite import LocalSite
from tests.state_helpers import Item, invoke, rss, scan, write_config

RSS = "application/rss+xml"
READERS = [
    ("history",),
    ("report", "--since", "3650d"),
    ("sources",),
    ("prune", "--older-than", "1d", "--dry-run"),
]




def run(prefix: list[str], folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`mentions ARGS` in a subprocess, in `folder` (so that output names the state alike)."""
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    return subprocess.run([*prefix, sys.executable, "-m", "mentions", *args], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=60, check=False)


def listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file in `folder`: mode, owner, size."""
    found = {}
    for path in sorted(folder.iterdir()):
        info = path.stat()
        found[path.name] = (stat.S_IMODE(info.st_mode), info.st_uid, info.st_size)
    return found


@pytest.fixture
def shared(site: LocalSite, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A config and a folder of its own with `state.db`, filled by a real scan; the folder's
    modes are restored afterwards, whatever a test made them."""
    feed = site.add("/f", rss([Item("Acme one", "Acme is here", "http://x.org/1"),
                               Item("Acme two", "Acme again", "http://x.org/2",
                                    date="Mon, 02 Jan 2023 10:00:00 GMT")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    folder = tmp_path / "shared"
    folder.mkdir()
    assert len(scan(config, "--state", str(folder / "state.db")).records) == 2
    assert sorted(p.name for p in folder.iterdir()) == ["state.db", "state.db.lock"]  # no -wal left
    yield config, folder
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)


def _without_minutes(output: str) -> str:
    """prune names its cutoff (now less the age) to the minute, which may turn between runs."""
    return re.sub(r"\d\d:\d\d in ", "HH:MM in ", output)


@pytest.mark.parametrize("folder_mode", [0o555, 0o755], ids=["read-only folder", "writable folder"])
def test_readers_need_only_read_access_and_leave_nothing_behind(
    shared: tuple[Path, Path], bound_by_modes: list[str], tmp_path: Path, folder_mode: int,
) -> None:
    config, folder = shared
    reference = tmp_path / "reference"
    reference.mkdir()
    shutil.copy2(folder / "state.db", reference / "state.db")
    expected = [run([], reference, *command, "-c", str(config), "--state", "state.db")
                for command in READERS]
    (folder / "state.db").chmod(0o444)
    folder.chmod(folder_mode)
    before = listing(folder)
    for command, wanted in zip(READERS, expected, strict=True):
        got = run(bound_by_modes, folder, *command, "-c", str(config), "--state", "state.db")
        assert (got.returncode, got.stderr) == (0, ""), command
        assert _without_minutes(got.stdout) == _without_minutes(wanted.stdout), command
    assert "Acme one" in expected[0].stdout and "Top sources" in expected[1].stdout
    # No -wal or -shm of the reader's user and the 444 file's mode, which the scan cannot write.
    assert listing(folder) == before
    folder.chmod(0o755)
    (folder / "state.db").chmod(0o644)
    again = run(bound_by_modes, folder, "scan", "-c", str(config), "--state", "state.db", "--format", "jsonl")
    assert (again.returncode, again.stderr) == (0, "")


def test_a_reader_beside_a_running_scan_reads_its_last_commits(
    shared: tuple[Path, Path], bound_by_modes: list[str],
) -> None:
    """A scan's commits stay in the -wal until it ends: a reader that opened the file alone
    (`immutable`) would not see them."""
    _, folder = shared
    now = datetime.now(UTC)
    with State(folder / "state.db") as writer:
        writer.record([Mention(id="new", keyword="acme", tags=(), source="blog", source_type="feed",
                               url=None, title="Only in the WAL", author=None, published=now, found_at=now,
                               terms=("Acme",), count=1, snippet="s", lang=None)])
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            (folder / name).chmod(0o444)  # as another user sees the cron user's files
        folder.chmod(0o555)
        before = listing(folder)
        got = run(bound_by_modes, folder, "history", "--state", "state.db", "--format", "csv")
        assert listing(folder) == before
        folder.chmod(0o755)
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            (folder / name).chmod(0o644)
    assert (got.returncode, got.stderr) == (0, "")
    assert "Only in the WAL" in got.stdout and "Acme one" in got.stdout


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_an_empty_state_file_reads_as_none_and_stays_empty(tmp_path: Path, command: tuple[str, ...]) -> None:
    config = write_config(tmp_path, {"blog": "http://127.0.0.1:9/feed"})
    path = tmp_path / "state.db"
    missing = invoke(*command, "-c", str(config), "--state", str(path))
    path.write_bytes(b"")
    empty = invoke(*command, "-c", str(config), "--state", str(path))
    assert (empty.code, empty.stdout, empty.stderr) == (missing.code, missing.stdout, missing.stderr)
    assert path.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("state.db")) == ["state.db"]


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_a_reader_leaves_an_older_schema_to_the_next_scan(tmp_path: Path, command: tuple[str, ...]) -> None:
    config = write_config(tmp_path, {"blog": "http://127.0.0.1:9/feed"})
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    for migration in MIGRATIONS[: SCHEMA_VERSION - 1]:
        db.executescript(migration.format(**DIALECTS["sqlite"]))
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    db.close()
    content = path.read_bytes()
    refused = invoke(*command, "-c", str(config), "--state", str(path))
    assert refused.code == 2
    assert refused.stderr == (f"mentions: the state file {path} has an older schema ({SCHEMA_VERSION - 1}, "
                              f"this mentions reads {SCHEMA_VERSION}): a `mentions scan` must upgrade it first\n")
    assert path.read_bytes() == content


def leave_journal(path: Path) -> None:
    """Leave the -wal and -shm of `path` behind, as a reader does that may create them."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.execute("SELECT count(*) FROM mentions").fetchone()
    db.close()


@pytest.mark.parametrize("part", ["-wal", "-shm"])
def test_a_scan_names_the_file_beside_the_state_it_cannot_write(
    shared: tuple[Path, Path], bound_by_modes: list[str], site: LocalSite, part: str,
) -> None:
    config, folder = shared
    leave_journal(folder / "state.db")
    (folder / f"state.db{part}").chmod(0o444)  # another user's, say
    content = (folder / "state.db").read_bytes()
    fetched = site.requests["/f"]
    done = run(bound_by_modes, folder, "scan", "-c", str(config), "--state", "state.db", "--format", "jsonl")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"mentions: cannot write the state file state.db: state.db{part} beside it is not "
                           "writable by this user; give it the state file's owner and mode\n")
    assert site.requests["/f"] == fetched  # refused before fetching, printing and failing to record
    assert (folder / "state.db").read_bytes() == content


def test_a_scan_that_must_migrate_names_the_file_it_cannot_write(
    shared: tuple[Path, Path], bound_by_modes: list[str],
) -> None:
    """A dry run takes no lock and is not checked first: SQLite's error names the file."""
    config, folder = shared
    db = sqlite3.connect(folder / "state.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    db.close()
    leave_journal(folder / "state.db")
    (folder / "state.db-shm").chmod(0o444)
    done = run(bound_by_modes, folder, "scan", "-c", str(config), "--state", "state.db", "--dry-run")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "mentions: cannot use the state file state.db: attempt to write a readonly database: state.db-shm "
        "beside it is not writable by this user; give it the state file's owner and mode"]


@pytest.mark.parametrize("command", [("history",), ("report",), ("prune", "--older-than", "1d", "--dry-run")])
def test_a_state_in_a_folder_the_reader_may_not_enter_is_one_sentence(
    shared: tuple[Path, Path], bound_by_modes: list[str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Path.exists() raises PermissionError there: an internal error, for the very teammate
    that read-only access is for."""
    _, folder = shared
    folder.chmod(0o000)
    try:
        got = run(bound_by_modes, tmp_path, *command, "--state", str(folder / "state.db"))
    finally:
        folder.chmod(0o755)
    assert got.returncode == 2
    assert got.stderr == f"mentions: cannot read the state file {folder / 'state.db'}: Permission denied\n"


def test_a_reader_without_a_lock_says_when_the_file_changed_under_it(
    shared: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`immutable=1` (a teammate who may write nothing) takes no lock: a prune or a scan's
    checkpoint rewrote pages under the read, which returned rows silently missing or
    "database disk image is malformed" for a sound file. The reader compares the file with
    what it was and says to run again; one left alone closes quietly."""
    from mentions.errors import StateError
    from mentions.state import access
    from mentions.state.database import SqliteDatabase

    _, folder = shared
    path = folder / "state.db"
    monkeypatch.setattr(access, "reader_uri", lambda p: f"file:{p}?mode=ro&immutable=1")
    quiet = SqliteDatabase(path, is_read_only=True)
    assert quiet.execute("SELECT count(*) FROM mentions").fetchone()[0] == 2
    quiet.close()
    reader = SqliteDatabase(path, is_read_only=True)
    assert reader.execute("SELECT count(*) FROM mentions").fetchone()[0] == 2
    writer = sqlite3.connect(path)
    writer.execute("DELETE FROM mentions")
    writer.commit()
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    writer.close()
    with pytest.raises(StateError, match=r"it changed while it was read .*run the command again"):
        reader.close()
