"""The order of the stages of a scan, and nothing else.

    1. config      the validated Config picks sources and keywords
    2. sources     each source kind fetches (through fetch.py) and parses into Documents
    3. match       one Matcher finds keywords in each Document -> Mentions
    4. state       mentions reported before are dropped (unless --all)
    5. output      each new mention is written and flushed ...
    6. state       ... and only then recorded, with the HTTP validators of its source

Into a pipe, each line written is noted (`RecentLines`): if the reader goes away, the
command line withdraws the new mentions whose lines it left unread in the pipe.

Secrets from `${ENV}` are hidden (`config.redactor`) before anything reaches the last three
stages: the finder makes mentions without them, a source's error is redacted when it is
delivered, and validators are kept under the redacted URL. The requests use the real values.

Sources run concurrently; their results are handled one source at a time, as each
finishes, so mentions stream out early. A failing source becomes a `SourceOutcome` with an
error; the others go on.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing, nullcontext, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from mentions.config import Config, HttpConfig, Source
from mentions.errors import FetchError, StateError
from mentions.fetch import Fetcher
from mentions.identity import definition_digest
from mentions.models import Mention
from mentions.output import Writer
from mentions.source_context import ScanOptions, SourceContext
from mentions.sources import collector_for
from mentions.state import BackoffPolicy, State
from mentions.unread import RecentLines
from mentions.workers import MentionFinder, WorkerCrashed, WorkerPool, WorkerTookTooLong

# Waiting this long for the next source's result, the scan commits what it recorded.
IDLE_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """How one source went."""

    name: str
    kind: str
    documents: int = 0
    mentions: int = 0
    new_mentions: int = 0
    error: FetchError | None = None
    previous_error: str | None = None
    is_unchanged: bool = False
    retry_at: datetime | None = None  # set when the source was skipped: it keeps failing

    @property
    def is_ok(self) -> bool:
        return self.error is None

    @property
    def is_skipped(self) -> bool:
        """Not tried on this run (backoff): not among the failures (its failure was named
        when it began), but not fetched either, so the scan is not complete."""
        return self.retry_at is not None


@dataclass(slots=True)
class RunReport:
    """Everything the command line needs to summarise a scan and pick its exit code.

    Counts, and the failed outcomes themselves: nothing needs an outcome per source once it
    is counted, and keeping one for the whole run is memory that grows with the sources.
    """

    sources: int = 0
    skipped: int = 0
    new_mentions: int = 0
    failures: list[SourceOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, outcome: SourceOutcome) -> None:
        self.sources += 1
        self.skipped += outcome.is_skipped
        self.new_mentions += outcome.new_mentions
        if not outcome.is_ok:
            self.failures.append(outcome)

    @property
    def is_complete(self) -> bool:
        """Whether every source was fetched and parsed (exit 0): none failed, and none was
        skipped for backoff, which is a source that keeps failing and was not fetched."""
        return not self.failures and not self.skipped


def selected_sources(
    config: Config, names: Sequence[str], shard: tuple[int, int] | None = None,
) -> list[Source]:
    """Enabled sources, or the ones named on the command line (enabled or not); of those,
    the ones in `shard` when one is given."""
    if names:
        chosen = [source for source in config.sources if source.name in names]
    else:
        chosen = [source for source in config.sources if source.enabled]
    if shard is None:
        return chosen
    return [source for source in chosen if shard_of(source.name, shard[1]) == shard[0]]


def shard_of(name: str, count: int) -> int:
    """The share (1 to `count`) a source belongs to, by its name alone: adding, removing or
    reordering other sources never moves it, and every machine computes the same."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def error_text(error: FetchError) -> str:
    """One line: the reason, its detail and the URL without its query string (tokens)."""
    return f"{error}: {redact_url(error.url)}" if error.url else str(error)


# An HTTP status stays, all its digits: 500 after 503 is news.
_NUMBER = re.compile(r"(?<!HTTP )(?<!\d)\d+")


def is_same_failure(current: str | None, previous: str | None) -> bool:
    """Whether two failure texts (`error_text`) name the same failure.

    The seconds of a Retry-After count down from one run to the next ("HTTP 503, retry
    after 3599 s", then "3598 s"): the same failure, which a cron job's mail should not
    repeat on every run."""
    if current is None or previous is None:
        return current == previous
    # Numbers count down or up between runs: a Retry-After, an API's "more requests available
    # in 80621 seconds", a remaining quota. (Not an HTTP status.)
    return _NUMBER.sub("#", current) == _NUMBER.sub("#", previous)


def redact_url(url: str) -> str:
    """`url` with its query string and user info replaced, for logs and messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0]
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}" if parts.scheme else url.split("?", 1)[0]


@dataclass(slots=True)
class _Collected:
    """What one source gave: its mentions and their text fingerprints, or the error."""

    context: SourceContext
    mentions: list[Mention] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    documents: int = 0
    error: FetchError | None = None


class Scan:
    """One run of `mentions scan` over a config."""

    def __init__(
        self, config: Config, options: ScanOptions, state: State | None, writer: Writer,
        on_outcome: Callable[[SourceOutcome], None] = lambda outcome: None,
        recent: RecentLines | None = None,
    ) -> None:
        self.config = config
        self.options = options
        self.state = state
        self.writer = writer
        self.on_outcome = on_outcome
        self.recent = recent  # the lines written into a pipe, noted as they go out
        keywords = [k for k in config.keywords if not options.keywords or k.name in options.keywords]
        self.found_at = datetime.now(UTC).replace(microsecond=0)
        self.finder = MentionFinder(
            [keyword.rule() for keyword in keywords],
            {keyword.name: tuple(keyword.tags) for keyword in keywords},
            self.found_at,
            config.redactor,
        )
        # What this run delivered, to report each mention once: the hashes of mention ids and
        # of (keyword, text fingerprint) pairs (a syndicated copy at another URL is the same
        # document). A state records every delivered mention at once and `State.seen` finds
        # them, so these sets, which grow with the mentions of the whole scan, are kept only
        # when nothing is recorded (--no-state, --dry-run) or seen mentions are shown (--all).
        self.remembers_deliveries = state is None or options.is_dry_run or options.show_all
        self.emitted: set[int] = set()
        self.emitted_texts: set[int] = set()
        self.backoff = BackoffPolicy(config.backoff.after, config.backoff.delay, config.backoff.longest)

    def http_config(self) -> HttpConfig:
        update: dict[str, object] = {}
        if self.options.concurrency:
            update["concurrency"] = self.options.concurrency
        if self.options.timeout:
            update["timeout"] = self.options.timeout
        return self.config.http.model_copy(update=update)

    async def run(self) -> RunReport:
        """Scan every selected source; return the report."""
        started = time.perf_counter()
        report = RunReport()
        sources = []
        for source in selected_sources(self.config, self.options.sources, self.options.shard):
            skipped = self._backing_off(source)
            if skipped is None:
                sources.append(source)
            else:
                report.add(skipped)
                self.on_outcome(skipped)
        from_the_web = not all(source.reads_only_local_files for source in sources)
        pool = WorkerPool(self.finder, len(sources), from_the_web=from_the_web)
        grouped = self.state.grouped_commits() if self.state is not None else nullcontext()
        try:
            with grouped:
                await self._deliver_all(sources, pool, report)
        finally:
            pool.close(wait=sys.exc_info()[0] is None)  # interrupted: do not wait for a parse
        report.seconds = time.perf_counter() - started
        return report

    async def _deliver_all(self, sources: list[Source], pool: WorkerPool, report: RunReport) -> None:
        async with Fetcher(self.http_config()) as fetcher, aclosing(
            self._collect_all(sources, fetcher, pool, on_idle=self._commit)
        ) as collecting:
            async for collected in collecting:
                outcome = self._deliver(collected)
                report.add(outcome)
                self.on_outcome(outcome)

    def _backing_off(self, source: Source) -> SourceOutcome | None:
        """The outcome of a source skipped because it keeps failing, or None to try it."""
        if self.state is None or self.options.is_forced:
            return None
        health = self.state.health(source.name)
        # A source edited since it failed (another URL, a new token) may be fixed: tried now.
        digest = self._digest(source) if health and health.definition_digest else None
        if self.backoff.is_due(health, definition_digest=digest):
            return None
        return SourceOutcome(
            name=source.name, kind=source.kind, retry_at=self.backoff.retry_at(health),
            # shown with -v; a state written before secrets were redacted may hold one
            previous_error=self.config.redactor.optional(health.last_error) if health else None,
        )

    def _digest(self, source: Source) -> str:
        """What the state keeps of a failing source's definition (`identity.definition_digest`)."""
        return definition_digest(source, self.config.http, self.config.redactor)

    def _commit(self) -> None:
        if self.state is not None:
            # A timer callback has no one to report to; a commit that fails here fails again
            # at the next delivery or at the end of the group, where the scan reports it.
            with suppress(StateError):
                self.state.commit()

    async def _collect_all(
        self, sources: list[Source], fetcher: Fetcher, pool: WorkerPool, on_idle: Callable[[], None],
    ) -> AsyncGenerator[_Collected, None]:
        """Each source's mentions as soon as they are found, at most 2 x concurrency at a time.

        A fixed number of lanes take the next source from one shared iterator, and hand what
        they collected over a queue just as long: a source's body, documents and mentions are
        held only until delivered, so memory is bounded by the concurrency, not by the
        number of sources (no task per source kept around with its result). `on_idle` runs
        when the next result keeps the scan waiting for IDLE_SECONDS.
        """
        limit = max(1, min(self.http_config().concurrency * 2, len(sources)))
        done: asyncio.Queue[_Collected | Exception] = asyncio.Queue(maxsize=limit)
        todo = iter(sources)

        async def lane() -> None:
            try:
                for source in todo:
                    await done.put(await self._collect_one(source, fetcher, pool))
            except Exception as error:  # a bug below: surface it rather than wait forever
                await done.put(error)

        lanes = [asyncio.create_task(lane()) for _ in range(limit)]
        try:
            loop = asyncio.get_running_loop()
            for _ in sources:
                idle = loop.call_later(IDLE_SECONDS, on_idle)
                item = await done.get()
                idle.cancel()
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            for task in lanes:
                task.cancel()

    async def _collect_one(self, source: Source, fetcher: Fetcher, pool: WorkerPool) -> _Collected:
        context = SourceContext(source, self.config, fetcher, self.state, self.options)
        context.pool = pool
        collect = collector_for(source.kind)
        if collect is None:
            error = FetchError("unsupported url", source.location, f"no `{source.kind}` sources yet")
            return _Collected(context, error=error)
        try:
            documents = await collect(source, context)
            # Usually found while parsing; an unchanged source (304) has nothing to match.
            found = context.found_in(documents)
            if found is None:
                found = await pool.find(source, documents, self.options.since) if documents else []
        except FetchError as error:
            return _Collected(context, error=error)
        except WorkerCrashed:
            detail = "the parser's process died on this source's answer"
            return _Collected(context, error=FetchError("parse error", source.location, detail))
        except WorkerTookTooLong:
            detail = "reading this source's answer took too long; it was stopped"
            return _Collected(context, error=FetchError("parse error", source.location, detail))
        except Exception as error:  # a parser tripping on hostile input must not stop the scan
            return _Collected(context, error=FetchError("parse error", source.location, type(error).__name__))
        fingerprints: dict[str, str] = {}
        for item in found:
            if item.fingerprint is not None:
                fingerprints.setdefault(item.mention.id, item.fingerprint)
        # A source may fail after some complete documents (a `next` page that failed): both
        # are delivered, the mentions and the failure.
        return _Collected(
            context, [item.mention for item in found], fingerprints, len(documents), context.error
        )

    def _deliver(self, collected: _Collected) -> SourceOutcome:
        """Write the new mentions of one source, then record them (never the other way round)."""
        context, mentions, fingerprints = collected.context, collected.mentions, collected.fingerprints
        documents = collected.documents
        # Its URL may hold a secret (in the path, where error_text keeps it): it goes to
        # stderr and into the state from here.
        error = self.config.redactor.error(collected.error) if collected.error else None
        source = context.source
        state = None if self.options.is_dry_run else self.state
        previous = self.state.health(source.name) if self.state is not None else None
        unique = self._first_copies(mentions, fingerprints)
        seen = self.state.seen(unique, fingerprints) if self.state is not None else set()
        new = [m for m in unique if m.id not in seen]
        shown = [] if self.options.is_seed else (unique if self.options.show_all else new)
        if self.options.show_all and seen and self.state is not None:
            # Shown again, but `found_at` stays the time it was first found.
            first = self.state.first_found([m for m in shown if m.id in seen], fingerprints)
            shown = [replace(m, found_at=first[m.id]) if m.id in first else m for m in shown]
        written: list[Mention] = []
        recent = self.recent
        try:
            for mention in shown:
                self.writer.write(mention)
                is_new = mention.id not in seen
                if is_new:
                    written.append(mention)
                if recent is not None:
                    recent.add(mention.id, is_new)
        except BaseException:
            # The reader went away or we were interrupted: keep what is out, and no
            # validators, so the next run fetches this source in full and repeats the rest.
            if state is not None:
                state.record(written, fingerprints)
            raise
        if state is not None:
            # A run limited by --keyword or --since did not look at everything in the
            # answers: their validators would hide the rest from the next full run.
            is_complete = error is None and not self.options.keywords and self.options.since is None
            state.deliver(
                source.name, new if self.options.is_seed else written, fingerprints,
                context.validators if is_complete else [],
                notes=context.new_notes if is_complete else [], is_seed=self.options.is_seed,
                error=error_text(error) if error else None,
                status="unchanged" if context.is_unchanged else ("failed" if error else "ok"),
                http_status=error.status if error else context.http_status,
                items=documents,
                definition_digest=self._digest(source) if error else None,
            )
        return SourceOutcome(
            name=source.name,
            kind=source.kind,
            documents=documents,
            mentions=len(mentions),
            new_mentions=len(new),
            error=error,
            previous_error=previous.last_error if previous else None,
            is_unchanged=context.is_unchanged,
        )

    def _first_copies(self, mentions: list[Mention], fingerprints: dict[str, str]) -> list[Mention]:
        """Mentions not yet delivered in this run, by id or by the same text under the keyword."""
        emitted, emitted_texts = (
            (self.emitted, self.emitted_texts) if self.remembers_deliveries else (set(), set())
        )
        unique: list[Mention] = []
        for mention in mentions:
            fingerprint = fingerprints.get(mention.id)
            key = hash(mention.id)
            text_key = hash((mention.keyword, fingerprint)) if fingerprint else None
            if key in emitted or (text_key is not None and text_key in emitted_texts):
                continue
            emitted.add(key)
            if text_key is not None:
                emitted_texts.add(text_key)
            unique.append(mention)
        return unique
