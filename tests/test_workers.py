"""Worker processes: the same results as a thread, and one dying worker fails one source only."""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mentions.config import Keyword, Source
from mentions.errors import FetchError
from mentions.models import Document
from mentions.sources.feed import parse_feed
from mentions.workers import (
    MIN_SOURCES_FOR_PROCESSES,
    MentionFinder,
    WorkerCrashed,
    WorkerPool,
    WorkerTookTooLong,
)
from tests.conftest import REPO, run_cli
from tests.localsite import LocalSite

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need fork")


def _finder() -> MentionFinder:
    keyword = Keyword(name="Acme", terms=["Acme"])
    return MentionFinder([keyword.rule()], {"Acme": ()}, datetime(2026, 1, 1, tzinfo=UTC))


def square_or_die(value: int) -> int:
    """Dies like a crashing C parser (SIGSEGV) on 13; takes its time so calls overlap."""
    if value == 13:
        faulthandler.disable()  # pytest's handler would print the crash; it is expected here
        os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(0.05)
    return value * value


async def _run_all(pool: WorkerPool, values: list[int]) -> list[int | BaseException]:
    return await asyncio.gather(*(pool.run(square_or_die, v) for v in values), return_exceptions=True)


def test_a_dying_worker_fails_its_own_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTIONS_WORKERS", "2")
    pool = WorkerPool(_finder(), sources=100)
    try:
        assert pool.is_parallel
        values = list(range(20))
        results = asyncio.run(_run_all(pool, values))
        assert isinstance(results[13], WorkerCrashed)
        assert [r for i, r in enumerate(results) if i != 13] == [v * v for v in values if v != 13]
        # the pool still works afterwards
        assert asyncio.run(_run_all(pool, [2, 3])) == [4, 9]
    finally:
        pool.close()


def square_or_hang(value: int) -> int:
    """Runs on and on for 13, like lexbor on a page built to be slow; takes its time otherwise."""
    while value == 13:
        pass
    time.sleep(0.05)
    return value * value


def test_a_call_past_the_deadline_is_stopped_and_the_others_still_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    """C code cannot be interrupted: a call past the deadline has its process killed; the calls
    that shared the pool run again, and the pool works afterwards."""
    monkeypatch.setenv("MENTIONS_WORKERS", "2")
    monkeypatch.setenv("MENTIONS_PARSE_DEADLINE", "1")
    pool = WorkerPool(_finder(), sources=100)
    try:
        values = list(range(20))

        async def run_all() -> list[int | BaseException]:
            return await asyncio.gather(*(pool.run(square_or_hang, v) for v in values), return_exceptions=True)

        results = asyncio.run(run_all())
        assert isinstance(results[13], WorkerTookTooLong)
        assert [r for i, r in enumerate(results) if i != 13] == [v * v for v in values if v != 13]
        assert asyncio.run(_run_all(pool, [2, 3])) == [4, 9]
    finally:
        pool.close()


def test_a_page_built_to_be_slow_fails_alone_and_the_scan_ends(tmp_path: Path) -> None:
    """One element with 200,000 attributes (lexbor compares each with all before it: hours):
    the scan ran forever. Past the deadline, that source fails; the others are delivered."""
    pages = tmp_path / "pages"
    pages.mkdir()
    bomb = "<html><body><p " + " ".join(f"a{n}=x" for n in range(200_000)) + ">Acme</p></body></html>"
    (pages / "bomb.html").write_text(bomb, encoding="utf-8")
    count = MIN_SOURCES_FOR_PROCESSES + 2
    for n in range(count):
        (pages / f"note{n}.txt").write_text(f"Acme note number {n}", encoding="utf-8")
    sources = "".join(f"  - {{name: note{n}, file: pages/note{n}.txt}}\n" for n in range(count))
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords: [{name: acme, terms: [Acme]}]\nsources:\n"
                      f"  - {{name: bomb, file: pages/bomb.html}}\n{sources}", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--no-state", "--format", "jsonl"],
        capture_output=True, timeout=120, check=False,
        env=dict(os.environ, PYTHONPATH=str(REPO), MENTIONS_WORKERS="2", MENTIONS_PARSE_DEADLINE="2"),
    )
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == count
    assert b"source 'bomb' failed: parse error: reading this source's answer took too long" in result.stderr


def test_a_slow_page_from_the_web_cannot_hold_a_small_scan(tmp_path: Path, site: LocalSite) -> None:
    """Two sources from the web: a scan that small parsed on its main thread, where lexbor could
    not be stopped, and a page of one element with 200,000 attributes held a cron scan for
    minutes (hours at a few MB). Worker processes parse it now, under the deadline."""
    bomb = "<html><body><p " + " ".join(f"a{n}=x" for n in range(200_000)) + ">Acme</p></body></html>"
    site.add("/bomb.html", bomb)
    site.add("/news.html", "<html><body><article><p>Acme opened a shop in Berlin today, "
             "and the whole street came to see it.</p></article></body></html>")
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords: [{name: acme, terms: [Acme]}]\nsources:\n"
                      f"  - {{name: bomb, page: '{site.url('/bomb.html')}'}}\n"
                      f"  - {{name: news, page: '{site.url('/news.html')}'}}\n", encoding="utf-8")
    environment = {key: value for key, value in os.environ.items() if key != "MENTIONS_WORKERS"}
    result = subprocess.run(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--no-state", "--format", "jsonl"],
        capture_output=True, timeout=60, check=False,
        env=dict(environment, PYTHONPATH=str(REPO), MENTIONS_PARSE_DEADLINE="2"),
    )
    assert result.returncode == 1
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == ["news"]
    assert b"source 'bomb' failed: parse error: reading this source's answer took too long" in result.stderr


def test_only_a_few_local_files_are_parsed_on_the_main_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTIONS_WORKERS", "2")
    for sources, from_the_web, parallel in ((3, False, False), (3, True, True), (1, True, True), (40, False, True)):
        pool = WorkerPool(_finder(), sources, from_the_web=from_the_web)
        try:
            assert pool.is_parallel == parallel, (sources, from_the_web)
        finally:
            pool.close()
    monkeypatch.setenv("MENTIONS_WORKERS", "0")
    pool = WorkerPool(_finder(), 3, from_the_web=True)
    assert not pool.is_parallel


def test_a_parser_error_crosses_the_process_boundary_intact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTIONS_WORKERS", "2")
    pool = WorkerPool(_finder(), sources=100)
    html = b"<!doctype html><html><body><p>Acme</p></body></html>"
    try:
        with pytest.raises(FetchError) as raised:
            asyncio.run(pool.run(parse_feed, html, "http://example.com/feed", "blog"))
        assert (raised.value.reason, raised.value.url) == ("not a feed", "http://example.com/feed")
    finally:
        pool.close()


def test_processes_and_thread_find_the_same_mentions(monkeypatch: pytest.MonkeyPatch) -> None:
    source = Source(name="blog", feed="http://example.com/feed")
    documents = [
        Document("blog", "feed", f"Post {i} about Acme and more", title=f"Post {i}", url=f"http://example.com/{i}")
        for i in range(5)
    ] + [Document("blog", "feed", "Nothing to see here", url="http://example.com/none")]

    def found(workers: str) -> list[tuple[str, str | None, str]]:
        monkeypatch.setenv("MENTIONS_WORKERS", workers)
        pool = WorkerPool(_finder(), sources=100)
        try:
            assert pool.is_parallel == (workers != "0")
            result = asyncio.run(pool.find(source, documents, None))
        finally:
            pool.close()
        return [(f.mention.id, f.mention.url, f.mention.snippet) for f in result]

    in_processes = found("2")
    assert len(in_processes) == 5
    assert in_processes == found("0")


def test_values_survive_the_trip_to_a_worker_and_back() -> None:
    import pickle

    from mentions.models import Match, Mention

    document = Document("blog", "feed", "Acme text", title="T", url="http://x/1",
                        published=datetime(2026, 1, 2, tzinfo=UTC), lang="de", is_permalink=False)
    match = Match("acme", ("Acme",), 1, "Acme text", ((0, 4),))
    mention = Mention("id", "acme", ("t",), "blog", "feed", "http://x/1", "T", None, None,
                      datetime(2026, 1, 2, tzinfo=UTC), ("Acme",), 1, "Acme text", "de", ((0, 4),))
    for value in (document, match, mention):
        copy = pickle.loads(pickle.dumps(value))
        assert copy == value and type(copy) is type(value)
    assert pickle.loads(pickle.dumps(mention)).highlights == ((0, 4),)  # not compared by ==


def _notes_config(tmp_path: Path, texts: list[str]) -> Path:
    """A config with one file source per text and the keyword `acme`."""
    sources = []
    for n, text in enumerate(texts):
        (tmp_path / f"note{n}.txt").write_text(text, encoding="utf-8")
        sources.append(f"  - name: note{n}\n    file: {tmp_path / f'note{n}.txt'}\n")
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n" + "".join(sources))
    return config


def test_a_finished_scan_with_worker_processes_exits_without_a_traceback(tmp_path: Path) -> None:
    """The pool's manager thread, left to end on its own, could close its wake-up pipe just as
    the interpreter's exit hook wrote to it: "OSError: Bad file descriptor" with a traceback
    after one scan in five. Repeated, because it was a race."""
    sources = [f"Acme note number {n}" for n in range(MIN_SOURCES_FOR_PROCESSES + 4)]
    config = _notes_config(tmp_path, sources)
    for _ in range(12):
        result = run_cli("scan", "-c", str(config), "--no-state", "--format", "jsonl",
                         env={"MENTIONS_WORKERS": "2"})
        assert result.returncode == 0, result.stderr
        assert result.stdout.count(b"\n") == len(sources)
        assert result.stderr == b""


def _busy_scan_config(tmp_path: Path) -> Path:
    """40 file sources of ~1.5 MB distinct text: each keeps a worker busy for a while."""
    return _notes_config(tmp_path, [
        "".join(f"Acme makes anvil {n}-{i}, and people write about Acme at length. " for i in range(20_000))
        for n in range(40)
    ])


def _stop_midway(config: Path, arguments: list[str], stop: Callable[[int], None]) -> tuple[int, bytes]:
    """Start a scan in a process group of its own, `stop` it once its first line is out, and
    return its exit code and stderr (the test fails if it does not end within 30 s)."""
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", MENTIONS_WORKERS="2")
    scan = subprocess.Popen(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl", *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, start_new_session=True,
    )
    assert scan.stdout is not None
    assert scan.stdout.readline()  # the first source is done; the others are queued or running
    stop(scan.pid)
    try:
        _, error = scan.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(scan.pid, signal.SIGKILL)
        scan.communicate()
        pytest.fail("the scan did not end within 30 s of being stopped")
    return scan.returncode, error


def test_a_scan_stopped_with_its_workers_by_timeout_exits_at_once(tmp_path: Path) -> None:
    """`timeout 60 mentions scan` signals the scan, then its whole group, workers included.
    The second SIGTERM cut the scan's clean-up short, and a worker killed while the scan had
    cancelled its queued calls broke Python 3.11's pool (InvalidStateError in its manager
    thread): the scan hung at exit in 6 of 8 tries under `timeout`. Repeated: it was a race."""
    config = _busy_scan_config(tmp_path)

    def like_timeout(pid: int) -> None:
        os.kill(pid, signal.SIGTERM)  # the scan first, then its group
        time.sleep(0.02)
        os.killpg(pid, signal.SIGTERM)

    for _ in range(4):
        code, error = _stop_midway(config, ["--no-state"], like_timeout)
        assert code == 143
        assert b"Traceback" not in error, error.decode()


def test_ctrl_c_twice_ends_a_scan_quietly_and_its_state_stays_sound(tmp_path: Path) -> None:
    """Impatient people press Ctrl-C twice. The second one raised KeyboardInterrupt wherever the
    clean-up was (joining the pool's threads): a traceback, or a scan that hung (this test
    failed 3 runs of 3 that way). Now it ends the process at once; a shell reports 130 either
    way (exit 130, or killed by SIGINT once Python is finalising)."""
    config = _busy_scan_config(tmp_path)
    state = tmp_path / "s.db"

    def twice(pid: int) -> None:
        os.killpg(pid, signal.SIGINT)
        time.sleep(0.05)
        os.killpg(pid, signal.SIGINT)

    for _ in range(4):
        code, error = _stop_midway(config, ["--state", str(state)], twice)
        assert code in (130, -signal.SIGINT)
        assert error == b"", error.decode()
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
