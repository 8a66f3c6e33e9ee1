"""The CPU work of a scan — parsing bodies and finding mentions — and where it runs.

Fetching is I/O on one event loop; parsing and matching are CPU work that would stall it
and leave the second core idle. `WorkerPool` runs that work in forked worker processes,
which inherit the already-built matcher (no rebuild per worker). A process is also the only
place where a parse can be stopped: C code (lexbor on a page built to be slow) holds a
thread until it returns. So a scan that reads the web uses processes however few its
sources; only a scan of local files alone, too small to gain from a second core, works on
the main thread. Either way the work is a plain function of picklable values, so both paths
give the same results.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from mentions.config import Source
from mentions.dates import moment_of
from mentions.identity import SharedLinks, document_key, is_excluded, mention_id, text_fingerprint
from mentions.lang import with_languages
from mentions.match import KeywordRule, Matcher
from mentions.models import Document, Match, Mention, pickled_by_fields
from mentions.redact import Redactor

T = TypeVar("T")

# Below this many sources, starting worker processes costs more than a second core saves
# (about 70 ms); a scan that reads the web starts them all the same, for the deadline.
MIN_SOURCES_FOR_PROCESSES = 16


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Found:
    """One mention and the fingerprint of its document's text (None for short texts)."""

    mention: Mention
    fingerprint: str | None


class MentionFinder:
    """Turns the documents of one source into mentions: the match stage as a pure function.

    `exclude_urls` sees the documents as fetched; matching sees them with every secret from
    `${ENV}` (`redactor`: the values expanded outside `keywords:`) replaced, so the mentions
    carry none (not even a piece a snippet cut), and their ids are computed without it too:
    an id cannot be used to guess a short secret, and it stays the same when the secret is
    changed.
    """

    def __init__(self, rules: Sequence[KeywordRule], tags: dict[str, tuple[str, ...]],
                 found_at: datetime, redactor: Redactor | None = None) -> None:
        self.matcher = Matcher(rules)
        self.tags = tags
        self.found_at = found_at
        self.redactor = redactor or Redactor()

    def find(self, source: Source, documents: Sequence[Document], since: datetime | None) -> list[Found]:
        """Every mention in `documents` that the source's settings let through."""
        allowed = set(source.keywords) if source.keywords is not None else None
        excluded = [re.compile(pattern) for pattern in source.exclude_urls]
        # A document without a date counts as published when it was found, as in `history`:
        # inside `--since 7d`, outside a `--since` that lies in the future; a date without a
        # time from the start of its local day, as `--since` of that date.
        redact = self.redactor
        # Before matching: a snippet cut out of the raw text could end inside a long secret,
        # and the piece left would no longer be the secret the redactor knows. The links the
        # entries share are compared redacted too, as the ids see them: a private feed's
        # token in every link, replaced on one side only, hid the sharing.
        redacted = [redact.document(document) for document in documents] if redact else documents
        wanted = [
            seen for document, seen in zip(documents, redacted, strict=True)
            if (since is None or moment_of(document.published, self.found_at) >= since)
            and not (document.url and is_excluded(document.url, excluded))
        ]
        if self.matcher.needs_language:
            wanted = with_languages(wanted)
        matched: list[tuple[Document, list[Match]]] = []
        for document in wanted:
            matches = [m for m in self.matcher.match(document) if allowed is None or m.keyword in allowed]
            if matches:
                matched.append((document, matches))
        # The language model's tables are far larger than the CPU caches: its guesses run
        # back to back, not between matches that evict them (130 us a guess warm, up to 4x
        # that cold).
        languages = with_languages(document for document, _ in matched)
        found: list[Found] = []
        shared = SharedLinks(redacted) if matched else None
        for shown, (_, matches) in zip(languages, matched, strict=True):  # (redacted above)
            fingerprint = text_fingerprint(shown)
            key = document_key(shown, shared)  # once per document, not once per keyword
            for match in matches:
                mention = Mention.of(
                    match, shown, id=mention_id(match.keyword, shown, key),
                    tags=self.tags.get(match.keyword, ()), found_at=self.found_at,
                )
                found.append(Found(mention, fingerprint))
        return found


# The finder of the scan that forked this worker: inherited, never pickled.
_finder: MentionFinder | None = None


def _find_in_worker(source: Source, documents: Sequence[Document], since: datetime | None) -> list[Found]:
    assert _finder is not None, "the pool is created after the finder"
    return _finder.find(source, documents, since)


def documents_in(result: object) -> list[Document] | None:
    """The documents a parser returned (a list of them, or a value with `.documents`)."""
    documents = getattr(result, "documents", result)
    if isinstance(documents, list) and all(isinstance(item, Document) for item in documents):
        return documents
    return None


def _parse_and_find(
    finder: MentionFinder | None, function: Callable[..., T], source: Source, since: datetime | None,
    *args: object,
) -> tuple[T, list[Found] | None]:
    """`function(*args)`, and the mentions in the documents it returned (None: it returned none).

    Finding them in the same call saves sending every document back to a worker."""
    finder = finder or _finder
    assert finder is not None, "the pool is created after the finder"
    result = function(*args)
    documents = documents_in(result)
    return result, None if documents is None else finder.find(source, documents, since)


def _warm_up(_: int) -> int:
    return os.getpid()


def _start_worker(parent: int) -> None:
    """Leave stopping to the parent, free its stdout, and die with it.

    Ctrl-C and `timeout` signal the whole process group. A worker killed by
    that signal breaks the pool while the interrupted scan has cancelled its pending calls,
    and Python 3.11's pool then fails in its manager thread (InvalidStateError, gh-107219)
    and hangs at exit on a queue nobody reads. So workers ignore SIGINT and SIGTERM: the
    parent stops them (it cancels what is queued, they finish the call under way and exit).
    A forked worker inherits stdout: if it kept the pipe open, a reader would wait for an
    end-of-file that never comes after the scan itself was killed. And a worker whose
    parent died (`kill -9`) has nothing left to do.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


class WorkerCrashed(Exception):
    """A worker process died on one source's input (a crash in a C parser, say)."""


class WorkerTookTooLong(Exception):
    """One source's parsing and matching ran past the deadline; its process was stopped."""


def _parse_deadline() -> float:
    """Seconds one source's parsing and matching may take in a worker: MENTIONS_PARSE_DEADLINE,
    else 120. The largest real answers take a few seconds; a hostile page (one element with
    200,000 attributes: lexbor compares each with all before it) would run for hours."""
    configured = os.environ.get("MENTIONS_PARSE_DEADLINE", "")
    try:
        return max(0.1, float(configured)) if configured else 120.0
    except ValueError:
        return 120.0


class WorkerPool:
    """Runs parsing and matching in forked processes, or on the main thread for a few files.

    A worker that dies takes its pool with it: every call then pending fails with
    BrokenProcessPool, though only one input killed it. So a new pool replaces the broken
    one, and each failed call runs once more in a process of its own: the input that kills
    that process too is the culprit (WorkerCrashed, one failed source); the rest succeed.
    """

    def __init__(self, finder: MentionFinder, sources: int, *, from_the_web: bool = False) -> None:
        """`sources`: how many the scan reads; `from_the_web`: whether any of them is fetched
        (untrusted bodies need a parse that can be stopped, however few the sources)."""
        self.finder = finder
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._workers = _worker_count()
        if sources < MIN_SOURCES_FOR_PROCESSES:
            self._workers = min(self._workers, sources) if from_the_web else 0
        self._deadline = _parse_deadline()
        if self._workers > 0 and _can_fork():
            global _finder
            _finder = finder
            try:
                self._pool = self._new_pool(self._workers)
                # Fork now, before the event loop starts helper threads (a fork copies no threads).
                list(self._pool.map(_warm_up, range(self._workers)))
            except (OSError, concurrent.futures.process.BrokenProcessPool):
                # No processes to be had (limits, sandboxes): the main thread does the work.
                self.close(wait=False)
                self._pool = None

    @staticmethod
    def _new_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker, initargs=(os.getpid(),),
        )

    @property
    def is_parallel(self) -> bool:
        return self._pool is not None

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """`function(*args)` off the event loop; WorkerCrashed if it kills its process."""
        pool = self._pool
        if pool is None:
            return await _on_the_main_thread(function, *args)
        loop = asyncio.get_running_loop()
        deadline = self._deadline
        try:
            return await asyncio.wait_for(loop.run_in_executor(pool, function, *args), deadline)
        except concurrent.futures.process.BrokenProcessPool:
            self._replace(pool)
        except TimeoutError:
            # C code cannot be interrupted: the pool's processes are stopped. The calls they
            # were running fail with BrokenProcessPool, replace the pool and run again alone
            # (below); this one is not run again. (Replacing it here could cancel them.)
            _stop_processes(pool)
            raise WorkerTookTooLong from None
        alone = self._new_pool(1)
        try:
            return await asyncio.wait_for(loop.run_in_executor(alone, function, *args), deadline)
        except concurrent.futures.process.BrokenProcessPool:
            raise WorkerCrashed from None
        except TimeoutError:
            _stop_processes(alone)
            raise WorkerTookTooLong from None
        finally:
            alone.shutdown(wait=False)

    def _replace(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        """A new pool for the broken one (once: the first failed call replaces it)."""
        if self._pool is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool(self._workers)

    async def parse(
        self, function: Callable[..., T], source: Source, since: datetime | None, *args: object
    ) -> tuple[T, list[Found] | None]:
        """`function(*args)` off the event loop, with the mentions in the documents it returns
        (None if it returns no documents); WorkerCrashed if it kills its process."""
        if self._pool is None:
            return await _on_the_main_thread(_parse_and_find, self.finder, function, source, since, *args)
        return await self.run(_parse_and_find, None, function, source, since, *args)

    async def find(
        self, source: Source, documents: Sequence[Document], since: datetime | None
    ) -> list[Found]:
        """The mentions of one source's documents."""
        if self._pool is None:
            return await _on_the_main_thread(self.finder.find, source, documents, since)
        return await self.run(_find_in_worker, source, documents, since)

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers; `wait` for them (and the pool's manager thread) to end.

        A scan that ends normally waits: its workers are idle and exit at once. Left running,
        the manager thread could be closing its wake-up pipe just as the interpreter's exit
        hook writes to it (Python 3.11), which printed "OSError: Bad file descriptor" with a
        traceback after a finished scan. An interrupted scan does not wait for a parse under
        way."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)


async def _on_the_main_thread(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` on the event loop's own thread, when there are no worker processes.

    Not in a thread: a user's regex can backtrack for minutes inside `re`, which holds the
    GIL all along, so no signal handler could run, and Ctrl-C or `timeout` could not stop
    the scan. On the main thread, `re` checks for signals as it goes. (A small scan loses
    little: its fetches wait while a parse runs, as they waited for the GIL.)
    """
    await asyncio.sleep(0)  # let the fetches run between two parses
    previous = signal.getsignal(signal.SIGINT)

    def interrupt(signum: int, frame: Any) -> None:
        # asyncio's own handler only cancels the scan's task, which waits for this call.
        signal.signal(signal.SIGINT, previous)
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    try:
        return function(*args)
    finally:
        if signal.getsignal(signal.SIGINT) is interrupt:
            signal.signal(signal.SIGINT, previous)


def _stop_processes(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes (the executor has no way to stop one call)."""
    processes = getattr(pool, "_processes", None) or {}  # CPython's executor keeps them here
    for process in list(processes.values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()


def _worker_count() -> int:
    """Worker processes: one per core (at most 4), or MENTIONS_WORKERS=N (0: none, the main thread works)."""
    configured = os.environ.get("MENTIONS_WORKERS", "")
    if configured.isdigit():
        return int(configured)
    return min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
