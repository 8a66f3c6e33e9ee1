"""One scan at a time per state: refusals name the holder, --wait waits, dead holders don't block."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mentions.errors import StateLockedError
from mentions.lock import StateLock
from tests.conftest import REPO, run_cli
from tests.localsite import LocalSite
from tests.state_helpers import Item, rss, write_config

RSS = "application/rss+xml"
HOLD = "import sys, time; from pathlib import Path; from mentions.lock import StateLock; " \
       "StateLock(Path(sys.argv[1])).acquire(); print('ready', flush=True); time.sleep(60)"


@contextmanager
def hold_lock(state: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Another process holding the scan lock of `state` until it is killed with SIGKILL."""
    with subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE,
                          env=dict(os.environ, PYTHONPATH=str(REPO))) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
            yield holder
        finally:
            holder.send_signal(signal.SIGKILL)  # a killed holder leaves its note, but not its lock
            holder.wait()


def test_a_second_lock_waits_then_gives_up(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    with StateLock(state) as first:
        first.acquire()
        started = time.monotonic()
        with pytest.raises(StateLockedError, match=rf"pid {os.getpid()}.*after waiting 0.3 s"):
            StateLock(state).acquire(0.3)
        assert time.monotonic() - started >= 0.3
        threading.Timer(0.2, first.release).start()
        second = StateLock(state)
        second.acquire(5)
        assert json.loads((tmp_path / "s.db.lock").read_text())["pid"] == os.getpid()
        second.release()


def test_a_locked_state_exits_3_naming_the_holder_until_it_dies(site: LocalSite, tmp_path: Path) -> None:
    feed = site.add("/f", rss([Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    with hold_lock(tmp_path / "state.db") as holder:
        refused = run_cli("scan", "-c", str(config), "--format", "jsonl")
        assert refused.returncode == 3
        message = refused.stderr.decode()
        assert f"pid {holder.pid}" in message and "since 20" in message and "--wait" in message
        assert "Traceback" not in message and refused.stdout == b""
        assert site.requests["/f"] == 0
        waited = run_cli("scan", "-c", str(config), "--wait", "0.5")
        assert waited.returncode == 3 and b"after waiting 0.5 s" in waited.stderr
    assert json.loads((tmp_path / "state.db.lock").read_text())["pid"] == holder.pid
    done = run_cli("scan", "-c", str(config), "--format", "jsonl")
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 1


def test_a_state_reached_through_a_symbolic_link_is_locked_as_the_same_state(
    site: LocalSite, tmp_path: Path
) -> None:
    """The lock was named after the path given: a scan on `link.db` ran beside one on `s.db`,
    and both printed every mention."""
    feed = site.add("/f", rss([Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    (tmp_path / "link.db").symlink_to(tmp_path / "state.db")
    with hold_lock(tmp_path / "state.db") as holder:
        refused = run_cli("scan", "-c", str(config), "--state", str(tmp_path / "link.db"), "--format", "jsonl")
        assert refused.returncode == 3 and f"pid {holder.pid}".encode() in refused.stderr
    assert not (tmp_path / "link.db.lock").exists()


def test_a_dry_run_reads_beside_a_running_scan(site: LocalSite, tmp_path: Path) -> None:
    feed = site.add("/f", rss([Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    with hold_lock(tmp_path / "state.db"):
        dry = run_cli("scan", "-c", str(config), "--format", "jsonl", "--dry-run")
        assert dry.returncode == 0 and len(dry.stdout.splitlines()) == 1


@pytest.mark.parametrize("wait", [[], ["--wait", "30"]])
def test_two_scans_at_once_neither_repeat_nor_lose_a_mention(
    site: LocalSite, tmp_path: Path, wait: list[str]
) -> None:
    expected = set()
    sources = {}
    for n in range(6):
        items = [Item(f"S{n} post {i}", f"Acme {n} {i}", f"http://x.org/{n}/{i}") for i in range(3)]
        sources[f"s{n}"] = site.add(f"/f{n}", rss(items), content_type=RSS, delay=0.4)
        expected.update(item.title for item in items)
    config = write_config(tmp_path, sources)
    command = [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl", *wait]
    environment = dict(os.environ, PYTHONPATH=str(REPO))
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    if not wait:
        # The second starts once the first holds the lock: on a loaded machine a scan can
        # start so slowly that the first has already finished, and nothing is refused.
        _wait_until_locked(tmp_path / "state.db.lock", first)
    scans = [first, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)]
    outputs = [scan.communicate(timeout=60) for scan in scans]
    codes = sorted(scan.returncode for scan in scans)
    titles = [json.loads(line)["title"] for out, _ in outputs for line in out.splitlines()]
    assert sorted(titles) == sorted(expected)  # each once, none missing
    assert codes == ([0, 0] if wait else [0, 3])
    if not wait:
        refusal = next(err for (_, err), scan in zip(outputs, scans, strict=True) if scan.returncode == 3)
        assert b"in use by another scan (pid " in refusal


def _wait_until_locked(lock_file: Path, scan: subprocess.Popen[bytes]) -> None:
    """Return once `scan` holds the lock: its note (written after the flock) names its pid.
    Read only, so that the probe itself never takes the lock from the scan."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and scan.poll() is None:
        try:
            if json.loads(lock_file.read_bytes() or b"{}").get("pid") == scan.pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError("the first scan never took the lock")
