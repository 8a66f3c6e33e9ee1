"""`mentions scan`: fetch every source, match, print and record the new mentions."""

from __future__ import annotations

import contextlib
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import typer

from mentions.cli import EXIT_TERMINATED, exit_on_second_interrupt, sending_alerts
from mentions.cli.common import (
    CONFIG_OPTION,
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    STATE_HELP,
    STATE_METAVAR,
    TIMEOUT_HELP,
    fail,
    fail_state,
    load,
    open_state,
    parse_timeout,
    parse_wait,
)
from mentions.console import clean_text, stderr_console
from mentions.dates import rfc3339
from mentions.errors import OutputError, StateError
from mentions.streams import discard_unwritten_output, guarded, stdout_pipe

if TYPE_CHECKING:
    from rich.console import Console

    from mentions.config import Config
    from mentions.models import Mention
    from mentions.output import Writer
    from mentions.pipeline import RunReport, SourceOutcome
    from mentions.state import State
    from mentions.unread import RecentLines


def scan(
    config: Path | None = CONFIG_OPTION,
    state: str | None = typer.Option(None, "--state", metavar=STATE_METAVAR, help=STATE_HELP + "."),
    no_state: bool = typer.Option(False, "--no-state", help="Read and write no state at all."),
    output_format: str | None = typer.Option(
        None, "--format", "-f", metavar="FORMAT",
        help="table, jsonl, csv or json (default: table on a terminal, else jsonl)."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", metavar="FILE", readable=False,
        help="Append to this file instead of stdout (-: stdout); a .csv, .json, .jsonl or .ndjson "
             "name sets the format.",
    ),
    keyword: list[str] = typer.Option(
        [], "--keyword", "-k", metavar="NAME", help="Only this keyword (repeatable)."
    ),
    source: list[str] = typer.Option(
        [], "--source", "-s", metavar="NAME", help="Only this source (repeatable)."
    ),
    show_all: bool = typer.Option(False, "--all", help="Also print mentions reported before."),
    since: str | None = typer.Option(
        None, "--since", metavar="WHEN", help="Only documents newer: 7d, 2026-11-01…"
    ),
    seed: bool = typer.Option(False, "--seed", help="Record everything found as seen and print nothing."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print, but record nothing."),
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1, max=1000, metavar="N", help="Requests in flight."
    ),
    timeout: str | None = typer.Option(None, "--timeout", metavar="SECONDS", help=TIMEOUT_HELP),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No summary; only failures."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Name every failure on every run."),
    progress: bool = typer.Option(
        False, "--progress", help="Progress and summary on stderr even if it is no terminal."
    ),
    excel: bool = typer.Option(
        False, "--excel", help="CSV for spreadsheets: UTF-8 with a BOM and CRLF line ends."
    ),
    wait: str | None = typer.Option(
        None, "--wait", metavar="SECONDS",
        help="If another scan holds the state, wait up to this long (30, 5m) instead of exiting 3.",
    ),
    force: bool = typer.Option(False, "--force", help="Also try sources that are backing off."),
    shard: str | None = typer.Option(
        None, "--shard", metavar="I/N",
        help="Only the I-th of N stable shares of the sources (1/3, 2/3, 3/3), by source name.",
    ),
) -> None:
    """Fetch all sources, print the new mentions, record them, send alerts (`notify:`).

    Example: mentions scan -c mentions.yaml --format jsonl | jq .url

    A failing notifier is named on stderr; the mentions are written (and recorded, unless
    --no-state) anyway, and the exit code depends on the sources only. --seed and --dry-run
    send no alerts. Stopped (Ctrl-C, SIGTERM), it alerts what it wrote and recorded first.
    """
    from mentions.output import FORMATS, format_of_file
    from mentions.source_context import ScanOptions
    from mentions.units import parse_since

    loaded = load(config)
    if output is not None and str(output) == "-":  # `-o -`: stdout, as tools take it
        output = None
    # An explicit --format wins, then -o FILE's extension (a.csv), then where the output goes.
    by_name = format_of_file(output) if output is not None else None
    chosen = output_format or by_name or ("table" if output is None and sys.stdout.isatty() else "jsonl")
    if chosen not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    for name in keyword:
        if name not in {k.name for k in loaded.keywords}:
            fail(f"--keyword {name!r}: no such keyword in {loaded.path}")
    for name in source:
        if name not in {s.name for s in loaded.sources}:
            fail(f"--source {name!r}: no such source in {loaded.path}")
    timeout_seconds = parse_timeout(timeout)
    try:
        since_time = parse_since(since) if since else None
    except ValueError as error:
        fail(f"--since: {error}")
    # --seed records without printing: with --all (print) or --dry-run (record nothing) the
    # run would do nothing the user asked for.
    for flag, given in (("--all", show_all), ("--dry-run", dry_run)):
        if seed and given:
            fail(f"--seed and {flag} contradict each other: --seed records everything and prints nothing")
    options = ScanOptions(
        keywords=tuple(keyword), sources=tuple(source), since=since_time, is_seed=seed,
        show_all=show_all, is_dry_run=dry_run, concurrency=concurrency, timeout=timeout_seconds,
        is_forced=force, shard=_parse_shard(shard) if shard is not None else None,
    )
    if source and options.shard is not None:
        from mentions.pipeline import selected_sources

        if not selected_sources(loaded, options.sources, options.shard):
            verb = "belongs" if len(source) == 1 else "belong"
            fail(f"--source names no source of share {shard}: "
                 f"{', '.join(repr(name) for name in source)} {verb} to other shares")
    if excel and chosen != "csv":
        fail("--excel goes with --format csv (or -o FILE.csv)")
    # A dry run writes nothing, so it may read beside a running scan; any other scan waits.
    if no_state and state is not None:
        fail("--state and --no-state contradict each other: give one of them")
    lock_wait = None if dry_run else parse_wait(wait)
    opened = None if no_state else open_state(loaded, state, lock_wait)
    stream: IO[str] = sys.stdout
    continues = None
    if output is not None:
        from mentions.output import check_appendable, reopen_json_array

        try:
            # Appended, a second array would break the file for every JSON reader: the one
            # in the file goes on instead.
            continues = reopen_json_array(output) if chosen == "json" else None
            check_appendable(output, chosen)
            stream = guarded(output.open("a", encoding="utf-8"), str(output))
        except ValueError as error:
            kind = {"json": "a JSON array", "csv": "CSV rows"}.get(chosen, "JSON Lines")
            fail(f"cannot append {kind} to {output}: {error}; use another file or --format")
        except OSError as error:
            fail(f"cannot open {output}: {error.strerror}")
    writer = _writer(chosen, stream, output, is_excel=excel, continues=continues)
    collector = None
    if loaded.notify and not (seed or dry_run):
        from mentions.notify import NewMentions

        state_now = opened
        collector = NewMentions(
            writer, (lambda m: not state_now.seen([m])) if state_now is not None and show_all else _always
        )
        writer = collector
    is_chatty = not quiet and (progress or sys.stderr.isatty())
    console = stderr_console()
    report: RunReport | None = None
    started = datetime.now(UTC)
    if opened is not None and writer.is_buffered:
        opened.hold_commits()  # the table's mentions are recorded once it is printed
    recent = _recent_lines() if output is None and not writer.is_buffered else None
    is_reader_gone = is_closed = is_out = False
    stop: KeyboardInterrupt | SystemExit | None = None  # Ctrl-C, SIGTERM: raised again after the alerts
    output_failure: OutputError | None = None  # raised again after the alerts
    alerted = collector.mentions if collector is not None else []
    try:
        report = _run(loaded, options, opened, writer, verbose or opened is None, console, is_chatty,
                      recent)
        is_closed = True
        writer.close()
        if opened is not None:
            opened.release_commits()
        is_out = True  # a table too is printed, and what it shows recorded
        if opened is not None and not dry_run:
            opened.record_run(
                started, sources=report.sources, failed=len(report.failures),
                skipped=report.skipped, new=report.new_mentions,
            )
    except StateError as error:
        fail_state(error, loaded)
    except BrokenPipeError:
        # The reader went away (`mentions scan | head -1`): end quietly; what was not
        # written was not recorded, and what it left unread in the pipe is withdrawn
        # (asked before the pipe makes way for /dev/null), so the next run reports both.
        unread = set(recent.unread()) if recent is not None else set()
        discard_unwritten_output()
        is_reader_gone = True
        if unread and opened is not None and not dry_run:
            try:
                opened.withdraw(list(unread))
            except StateError as error:
                fail_state(error, loaded)
        # What was withdrawn comes with the next run's alerts; a table that never got out
        # recorded nothing: no alerts.
        alerted = [] if writer.is_buffered else [m for m in alerted if m.id not in unread]
    except OutputError as error:
        # The output failed (a full disk under -o FILE): exit 2 as ever, but what was written
        # before is recorded and will never be new again, so its alerts go first.
        output_failure = error
        alerted = _recorded(alerted, opened) if not writer.is_buffered else []
    except (KeyboardInterrupt, SystemExit) as error:
        if isinstance(error, SystemExit) and error.code != EXIT_TERMINATED:
            raise
        stop = error
        # What was written and recorded will never be new again: its alerts go now or never.
        # (A table stopped before it was out recorded nothing: no alerts.)
        alerted = _recorded(alerted, opened) if is_out or not writer.is_buffered else []
        if writer.is_buffered and not is_out and not quiet:
            # The bar went away, and no table came: without a word that looked like nothing found.
            console.print("mentions: stopped before the table was printed; nothing was recorded, "
                          "so the next scan shows these mentions", markup=False, highlight=False)
    finally:
        if not is_closed and not writer.is_buffered:
            # Interrupted (Ctrl-C, SIGTERM): what was written stays complete, a JSON array
            # closed included. (A table that never got out stays unprinted: nothing of it
            # was recorded.)
            with contextlib.suppress(OSError, ValueError):
                writer.close()
        if opened is not None:
            opened.close()
        if stream is not sys.stdout:
            with contextlib.suppress(OSError):  # a failed write was reported; the rest was flushed
                stream.close()
    # What was written and read before the reader went away or the scan was stopped is
    # recorded and will never be new again: its alerts go now or never.
    notes: list[str] = []
    if alerted:
        with sending_alerts(is_stopping=stop is not None) as stopping:
            notes = _notify(loaded, alerted, console, is_recorded=opened is not None)
        if stop is None and stopping.code is not None:
            raise SystemExit(stopping.code)  # stopped while the alerts went: they went, now it ends
    if stop is not None:
        raise stop  # main() ends with 130 or 143
    if output_failure is not None:
        raise output_failure  # main() names it, exit 2
    if is_reader_gone or report is None:
        raise typer.Exit(EXIT_OK)
    if is_chatty:
        from mentions.progress import summary_line

        console.print(summary_line(report, is_seed=seed, notes=notes), markup=False)
    raise typer.Exit(EXIT_OK if report.is_complete else EXIT_SOURCE_FAILED)


def _parse_shard(value: str) -> tuple[int, int]:
    """`2/3` -> (2, 3); a usage error unless 1 <= I <= N."""
    found = re.fullmatch(r"(\d{1,6})/(\d{1,6})", value.strip(), re.ASCII)
    if found and 1 <= int(found[1]) <= int(found[2]):
        return int(found[1]), int(found[2])
    fail(f"--shard: give I/N with 1 <= I <= N, like 2/3, not {value!r}")


def _always(mention: object) -> bool:
    return True


def _recorded(mentions: list[Mention], state: State | None) -> list[Mention]:
    """Those of the written `mentions` that `state` holds; all of them under --no-state.

    A stop (SIGTERM) may fall between a source's lines and their recording: the next run
    reports those again, and alerts them then."""
    if state is None:
        return mentions
    try:
        held = state.seen(mentions)
    except StateError:
        return mentions  # cannot tell: an alert repeated beats one lost
    return [mention for mention in mentions if mention.id in held]


def _notify(config: Config, mentions: list[Mention], console: Console, *, is_recorded: bool) -> list[str]:
    """Send the alerts; name each failing notifier on stderr (even with -q). Notes for the summary.

    `is_recorded`: the mentions are in a state (not so with --no-state; --seed and --dry-run,
    which record or write nothing, send no alerts at all)."""
    from mentions.notify import notify_all

    notes = []
    for result in notify_all(config.notify, mentions):
        if result.error is None:
            notes.append(f"alert sent to {result.label}")
            continue
        message = config.redactor(result.error)
        kept = "written and recorded" if is_recorded else "written; with --no-state nothing is recorded"
        console.print(clean_text(f"mentions: alert not sent: {message} (the mentions were still {kept})",
                                 single_line=True), markup=False)
        notes.append(f"alert to {result.label} failed")
    return notes


def _recent_lines() -> RecentLines | None:
    """Where each line goes into the pipe of stdout, if it is one (else None)."""
    pipe = stdout_pipe()
    if pipe is None:
        return None
    from mentions.unread import RecentLines

    return RecentLines(pipe)


def _writer(chosen: str, stream: IO[str], output: Path | None, *, is_excel: bool = False,
            continues: bool | None = None) -> Writer:
    from mentions.output import make_writer

    has_header = output is not None and output.exists() and output.stat().st_size > 0
    return make_writer(chosen, stream, has_header=has_header, is_excel=is_excel, continues=continues)


def _run(config: Config, options: object, state: object, writer: Writer, is_verbose: bool,
         console: Console, is_chatty: bool, recent: RecentLines | None = None) -> RunReport:
    import asyncio

    from mentions.pipeline import Scan, selected_sources
    from mentions.progress import ScanProgress, is_terminal

    total = len(selected_sources(config, getattr(options, "sources", ()), getattr(options, "shard", None)))
    # Lines streamed to the same terminal would be written into the redrawn bar (the first
    # record glued to its last frame): plain progress lines then, one per source.
    shown = ScanProgress(total, console, is_enabled=is_chatty,
                         can_redraw=writer.is_buffered or not is_terminal(sys.stdout))

    def on_outcome(outcome: SourceOutcome) -> None:
        report_failure(outcome)
        shown.advance(outcome)

    def report_failure(outcome: SourceOutcome) -> None:
        from mentions.pipeline import error_text, is_same_failure

        current = error_text(outcome.error) if outcome.error else None
        if outcome.is_skipped:  # backing off: its failure was named when it began
            if is_verbose:
                console.print(clean_text(
                    f"mentions: source {outcome.name!r} skipped: it keeps failing "
                    f"({outcome.previous_error}); next try after {rfc3339(outcome.retry_at)} "
                    "or with --force"), markup=False)
        elif current is not None and (is_verbose or not is_same_failure(current, outcome.previous_error)):
            console.print(clean_text(f"mentions: source {outcome.name!r} failed: {current}"), markup=False)
        elif current is None and outcome.previous_error is not None:
            console.print(clean_text(f"mentions: source {outcome.name!r} works again"), markup=False)

    scan_run = Scan(config, options, state, writer, on_outcome, recent)  # type: ignore[arg-type]

    async def interruptible() -> RunReport:
        exit_on_second_interrupt()
        return await scan_run.run()

    with shown:
        return asyncio.run(interruptible())
