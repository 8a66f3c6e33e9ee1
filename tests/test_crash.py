"""`kill -9` at any moment: the state stays sound and the next run repeats, never loses.

A scan against a slow local server writes JSON Lines into a pipe; we SIGKILL it after it
has written some lines, read what it wrote, run the scan again, and check that the union
covers every expected mention, that only the last moments' lines repeat (the state
commits at least once a second), and that SQLite's integrity check passes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.localsite import LocalSite
from tests.state_helpers import Item, rss, write_config

SOURCES = 30
PER_SOURCE = 3
# A commit at least every second (README, "What is recorded"); the rest is slack for a
# loaded machine. Lines read longer than this before the kill must not come again.
RECORDED_WITHIN = 2.5


def serve(site: LocalSite) -> tuple[Path, set[str]]:
    """SOURCES slow feeds of PER_SOURCE mentions each; returns their URLs and the titles."""
    titles: set[str] = set()
    urls = {}
    for n in range(SOURCES):
        items = [Item(f"S{n} post {i}", f"Acme {n} {i}", f"http://x.org/{n}/{i}") for i in range(PER_SOURCE)]
        # spread over ~5 s at per_host 2, so that early lines were written long before the kill
        urls[f"s{n:02}"] = site.add(f"/f{n}", rss(items), content_type="application/rss+xml",
                                    delay=0.2 + 0.05 * (n % 5))
        titles.update(item.title for item in items)
    return urls, titles  # type: ignore[return-value]


def read_until_killed(command: list[str], kill_after_lines: int) -> tuple[list[tuple[bytes, float]], int]:
    """Run `command`, SIGKILL it once it has written `kill_after_lines` lines.

    Every line it wrote, each with how many seconds before the kill it was read.
    """
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment)
    assert process.stdout is not None
    buffer = b""
    read_at: list[float] = []  # when each complete line arrived
    deadline = time.monotonic() + 60
    with process:
        while len(read_at) < kill_after_lines and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
                read_at += [time.monotonic()] * (buffer.count(b"\n") - len(read_at))
        process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        buffer += process.stdout.read()  # what it wrote before dying is still in the pipe
        process.wait()
    lines = buffer.splitlines(keepends=True)
    ages = [killed_at - at for at in read_at] + [0.0] * (len(lines) - len(read_at))
    return list(zip(lines, ages, strict=True)), process.returncode


@pytest.mark.parametrize("kill_after_lines", [1, 60])
def test_a_killed_scan_leaves_a_sound_state_and_loses_nothing(
    site: LocalSite, tmp_path: Path, kill_after_lines: int
) -> None:
    urls, expected = serve(site)
    config = write_config(tmp_path, urls, extra="")
    config.write_text(config.read_text().replace("http: {delay: 0, robots: false}",
                                                 "http: {delay: 0, robots: false, per_host: 2}"))
    command = [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl"]
    lines, code = read_until_killed(command, kill_after_lines)
    assert code == -signal.SIGKILL
    assert all(line.endswith(b"\n") for line, _ in lines)  # never half a line
    killed = [json.loads(line)["title"] for line, _ in lines]
    long_written = {json.loads(line)["title"] for line, age in lines if age > RECORDED_WITHIN}

    db = sqlite3.connect(tmp_path / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    recorded = db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0]
    db.close()

    rerun = run_cli("scan", "-c", str(config), "--format", "jsonl")
    assert rerun.returncode == 0, rerun.stderr
    again = [json.loads(line)["title"] for line in rerun.stdout.splitlines()]
    repeated = set(killed) & set(again)
    print(f"killed after {len(killed)} lines ({recorded} recorded); next run {len(again)} lines; "
          f"{len(repeated)} repeated; {len(expected - set(killed) - set(again))} missing")
    assert set(killed) | set(again) == expected
    assert len(killed) == len(set(killed)) and len(again) == len(set(again))
    # Only lines written but not yet recorded repeat: those of the last moments.
    assert not repeated & long_written
    if kill_after_lines > 1:
        assert long_written, "the scan was too fast for this test to say anything"
    assert recorded + len(again) == len(expected)


@pytest.mark.parametrize("kind", ["file", "postgresql"])
def test_a_killed_scan_releases_its_lock_at_once_though_its_workers_linger(
    site: LocalSite, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """Forked workers notice a dead parent only within half a second; had they inherited the
    lock's descriptor (flock) or the database session (PostgreSQL), the next cron run would
    have found the state locked (exit 3) in that time."""
    from mentions.state import State

    urls, _ = serve(site)  # 30 sources: the scan forks worker processes
    config = write_config(tmp_path, urls)
    location: Path | str = tmp_path / "state.db"
    if kind == "postgresql":
        location = str(request.getfixturevalue("postgres_url"))
        config.write_text(config.read_text().replace("state: ./state.db", f"state: {json.dumps(location)}"))
    command = [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl"]
    lines, code = read_until_killed(command, 1)
    assert code == -signal.SIGKILL and lines
    # A file lock is free once the killed process is gone; the server ends a session a
    # moment after its socket closes (0.3 s: slack for a loaded machine).
    with State(location, lock_wait=0 if kind == "file" else 0.3):
        pass


@pytest.mark.parametrize("arguments", [
    ["check", "-c", "{config}"],
    ["scan", "-c", "{config}", "--no-state"],
    ["history", "--since", "bogus", "-c", "{config}"],
])
def test_a_config_error_exits_2_when_nobody_reads_stderr(tmp_path: Path, arguments: list[str]) -> None:
    """`mentions check 2>&1 | true` (a cron wrapper that closed its end): writing the message
    failed, and Click turned that into exit 1, the code of a failed source, not 2."""
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords: [{name: a, terms: [Acme]}]\n"
                      "sources:\n  - {name: s, feed: 'http://127.0.0.1:9/', bogus: 1}\n", encoding="utf-8")
    command = [sys.executable, "-m", "mentions", *(a.format(config=config) for a in arguments)]
    closed = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert closed.stderr is not None
    closed.stderr.close()  # before Python has even started: every write to stderr fails
    assert closed.wait(timeout=60) == 2
