"""A reader that leaves a pipe: the lines it left unread are not recorded, and come again.

Real pipes, a real scan in a subprocess, a real HTTP server on 127.0.0.1, a real SQLite state.
The reader takes a known number of bytes from the raw descriptor (a Python file object would
read ahead), so the test knows exactly which lines it read: those whole in the bytes taken.
A line cut across that boundary was not read whole: it is not recorded either.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import sqlite3
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import REPO, run_cli
from tests.localsite import LocalSite
from tests.state_helpers import Item, rss, write_config

if TYPE_CHECKING:  # imported by the tests that use it: the scans need nothing of this process
    from mentions.streams import CountedPipe

MODES = pytest.mark.parametrize("is_unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])


def _environment(is_unbuffered: bool) -> dict[str, str]:
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    environment.pop("PYTHONUNBUFFERED", None)
    if is_unbuffered:
        environment["PYTHONUNBUFFERED"] = "1"
    return environment


def _feed(site: LocalSite, name: str, numbers: range | list[int], **options: object) -> str:
    items = [Item(f"Acme {name} {n}", f"Acme item {n} " + "lorem ipsum " * 40, f"http://x.org/{name}/{n}")
             for n in numbers]
    return site.add(f"/{name}", rss(items), content_type="application/rss+xml", **options)


def _start_scan(config: Path, is_unbuffered: bool, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment(is_unbuffered),
    )


def pipe_holds(descriptor: int) -> int:
    """The bytes waiting in a pipe, asked on its read end."""
    return int.from_bytes(fcntl.ioctl(descriptor, termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)


def wait_for_a_full_pipe(descriptor: int) -> None:
    """Until the scan has filled the pipe (64 KiB, ~96 lines): a reader that leaves then
    leaves many lines behind, as `head -1` does once the scan is ahead of it."""
    deadline = time.monotonic() + 60
    while pipe_holds(descriptor) < 50_000:
        assert time.monotonic() < deadline, "the scan never filled the pipe"
        time.sleep(0.02)


def _read_then_leave(process: subprocess.Popen[bytes], size: int) -> list[dict[str, object]]:
    """Once the pipe is full, take exactly `size` bytes from the scan's stdout, close the
    pipe, wait for the scan to end quietly (exit 0, nothing on stderr); the records of the
    lines read whole."""
    assert process.stdout is not None and process.stderr is not None
    wait_for_a_full_pipe(process.stdout.fileno())
    taken = b""
    while len(taken) < size:
        chunk = os.read(process.stdout.fileno(), size - len(taken))
        assert chunk, "the scan ended before it wrote enough"
        taken += chunk
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    with process.stderr:
        assert process.stderr.read() == b""
    whole, _, cut = taken.rpartition(b"\n")
    assert cut, "the test means to leave a line cut across the bytes read"
    return [json.loads(line) for line in whole.split(b"\n")]


def _recorded(state: Path) -> set[str]:
    with sqlite3.connect(state) as db:
        return {row[0] for row in db.execute("SELECT id FROM mentions")}


@MODES
def test_lines_left_in_the_pipe_are_not_recorded_and_the_next_run_reports_them(
    tmp_path: Path, site: LocalSite, is_unbuffered: bool
) -> None:
    """`mentions scan | head -1`: the lines that sat in the pipe when the reader left were
    recorded as written (7 to 143 a run), never read, and never reported again. Now exactly
    the lines read are recorded; the next run reports all the others."""
    config = write_config(tmp_path, {"big": _feed(site, "big", range(3000))})
    read = _read_then_leave(_start_scan(config, is_unbuffered), 3333)
    read_ids = {str(record["id"]) for record in read}
    assert 3 <= len(read_ids) < 10
    assert _recorded(tmp_path / "state.db") == read_ids
    rerun = run_cli("scan", "-c", str(config), "--format", "jsonl", timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    again = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert len(again) == 3000 - len(read_ids)
    assert {record["title"] for record in read + again} == {f"Acme big {n}" for n in range(3000)}
    assert len(_recorded(tmp_path / "state.db")) == 3000


def _wait_for_rows(state: Path, count: int) -> None:
    """Until the state holds `count` committed mentions (read beside the scan: WAL)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(state) as db:
                if db.execute("SELECT count(*) FROM mentions").fetchone()[0] >= count:
                    return
        except sqlite3.Error:
            pass  # not created yet
        time.sleep(0.05)
    raise AssertionError(f"the state never held {count} mentions")


@MODES
def test_unread_lines_already_committed_are_withdrawn_with_their_sources_validators(
    tmp_path: Path, site: LocalSite, is_unbuffered: bool
) -> None:
    """A source whose lines are all in the pipe is recorded, committed and its ETag saved
    before the reader leaves. Its unread mentions are deleted again, and so is its ETag:
    else the next run got a 304 for it and never saw them."""
    first = _feed(site, "first", range(40))  # ~25 KB of lines: all in the pipe at once
    second = _feed(site, "second", range(2000), delay=1.0)  # meanwhile the state commits
    config = write_config(tmp_path, {"first": first, "second": second})
    state = tmp_path / "state.db"
    process = _start_scan(config, is_unbuffered)
    _wait_for_rows(state, 40)
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM validators WHERE source = 'first'").fetchone()[0] == 1
    read = _read_then_leave(process, 2500)
    read_ids = {str(record["id"]) for record in read}
    assert {record["source"] for record in read} == {"first"}
    assert _recorded(state) == read_ids
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM validators WHERE source = 'first'").fetchone()[0] == 0
    rerun = run_cli("scan", "-c", str(config), "--format", "jsonl", timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    again = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert site.not_modified["/first"] == 0
    titles = {record["title"] for record in read + again}
    assert len(read) + len(again) == 2040
    assert titles == {f"Acme first {n}" for n in range(40)} | {f"Acme second {n}" for n in range(2000)}


@MODES
def test_mentions_shown_again_by_all_stay_recorded_when_left_unread(
    tmp_path: Path, site: LocalSite, is_unbuffered: bool
) -> None:
    """`scan --all` shows mentions reported by earlier runs again: left unread, they stay
    recorded (they were read when they were new). Only the new ones are withdrawn."""
    config = write_config(tmp_path, {"big": _feed(site, "big", range(0, 3000, 2))})
    state = tmp_path / "state.db"
    assert run_cli("scan", "-c", str(config), "--format", "jsonl", timeout=120).returncode == 0
    earlier = _recorded(state)
    assert len(earlier) == 1500
    _feed(site, "big", range(3000))  # the even ones as before, the odd ones new
    read = _read_then_leave(_start_scan(config, is_unbuffered, "--all"), 3333)
    read_new = {str(record["id"]) for record in read} - earlier
    assert read_new  # lines alternate: old, new, old, ...
    assert _recorded(state) == earlier | read_new
    rerun = run_cli("scan", "-c", str(config), "--format", "jsonl", timeout=120)
    again = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert len(again) == 1500 - len(read_new)
    assert {str(record["id"]) for record in again}.isdisjoint(read_new | earlier)


def _pipe_stack(descriptor: int) -> tuple[io.TextIOWrapper, CountedPipe]:
    from mentions.streams import CountedPipe

    pipe = CountedPipe(descriptor, "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(pipe), encoding="utf-8"), pipe


@pytest.mark.parametrize("line_size", [300, 10_000], ids=["short lines", "lines longer than a page"])
def test_recent_lines_name_the_lines_cut_or_left_in_the_pipe(line_size: int) -> None:
    """Lines longer than a page go into a pipe in parts: the part of the line being written
    when the reader left is in the pipe too, and counts for no line."""
    from mentions.unread import RecentLines

    reader, writer = os.pipe()
    stream, pipe = _pipe_stack(writer)
    recent = RecentLines(pipe)
    lines = [f"{n:05d}" + "x" * (line_size - 6) + "\n" for n in range(400)]
    failed: list[BaseException] = []
    written: list[int] = []

    def write_all() -> None:
        try:
            for n, line in enumerate(lines):
                stream.write(line)
                stream.flush()
                recent.add(f"m{n}", is_new=n % 3 != 0)  # every third one was seen before
                written.append(n)
        except BrokenPipeError as error:
            failed.append(error)

    thread = threading.Thread(target=write_all)
    thread.start()
    taken = b""
    while len(taken) < 5 * line_size + 7:
        taken += os.read(reader, 5 * line_size + 7 - len(taken))
    time.sleep(0.2)  # the writer is blocked on a full pipe, a long line part-way in
    os.close(reader)
    thread.join(timeout=30)
    assert failed
    assert recent.unread() == [f"m{n}" for n in range(5, len(written)) if n % 3 != 0]
    assert pipe.taken - (pipe.unread() or 0) == len(taken)
    os.close(writer)


def test_a_pipe_that_cannot_say_what_is_unread_withdraws_nothing() -> None:
    """Where the kernel does not answer FIONREAD, what was written stays recorded, as before."""
    from mentions.streams import CountedPipe
    from mentions.unread import RecentLines

    reader, writer = os.pipe()
    pipe = CountedPipe(writer, "w")
    recent = RecentLines(pipe)
    pipe.write(b"line\n")
    recent.add("m0", is_new=True)
    pipe.close()  # the descriptor is gone: no answer
    assert pipe.unread() is None
    assert recent.unread() == []
    os.close(reader)
