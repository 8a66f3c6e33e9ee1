"""Progress of a scan on stderr, and the one-line summary at its end.

On a terminal a live bar shows sources done/total, new mentions and failures, and vanishes
when the scan ends (the table then starts on a clean screen). With `--progress` and a
stderr that is no terminal (a log file), each finished source gets one plain line instead,
because a redrawn bar would fill the log with control codes; so does a terminal with
NO_COLOR, which asks for no control codes at all. Under cron: nothing. The live bar asks the
stream itself whether it is a terminal: Rich's `is_terminal` says yes under FORCE_COLOR,
which only turns colours on and must not put the redrawn bar into a log file.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from mentions.console import clean_text, is_color_disabled

if TYPE_CHECKING:
    from mentions.pipeline import RunReport, SourceOutcome


class ScanProgress:
    """Shows how far a scan is; use as a context manager around the scan."""

    def __init__(self, total: int, console: Console, *, is_enabled: bool, can_redraw: bool = True) -> None:
        self.console = console
        self.total = total
        self.done = 0
        self.new_mentions = 0
        self.failed = 0
        self._is_enabled = is_enabled and total > 0
        # A live bar redraws itself with cursor controls: a log file (even under FORCE_COLOR,
        # which Rich takes for a terminal), NO_COLOR and `can_redraw=False` (records streamed
        # to the same terminal) get the plain lines.
        self._is_live = (can_redraw and self._is_enabled and is_terminal(console.file)
                         and not is_color_disabled())
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ScanProgress:
        if self._is_live:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("scanning"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("sources · {task.fields[new]} new · {task.fields[failed]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("scan", total=self.total, new=0, failed="0 failed")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def advance(self, outcome: SourceOutcome) -> None:
        """Count one finished source."""
        self.done += 1
        self.new_mentions += outcome.new_mentions
        self.failed += 0 if outcome.is_ok else 1
        if self._progress is not None and self._task is not None:
            failed = f"[red]{self.failed} failed[/]" if self.failed else "0 failed"
            self._progress.update(self._task, advance=1, new=self.new_mentions, failed=failed)
        elif self._is_enabled:
            state = "backing off" if outcome.is_skipped else ("ok" if outcome.is_ok else "failed")
            line = f"mentions: [{self.done}/{self.total}] {outcome.name}: {state}, {outcome.new_mentions} new"
            self.console.print(clean_text(line, single_line=True), markup=False, highlight=False)


def is_terminal(stream: IO[str]) -> bool:
    """True when `stream` really is a terminal, whatever FORCE_COLOR or TTY_COMPATIBLE say."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def summary_line(report: RunReport, *, is_seed: bool = False, notes: Sequence[str] = ()) -> str:
    """`5 sources ok, 1 failed (forum), 7 new mentions in 0.4 s`, plus notes such as alerts sent."""
    failures = report.failures
    skipped = report.skipped
    ok = report.sources - len(failures) - skipped
    failed = f"{len(failures)} failed"
    if failures:
        names = ", ".join(outcome.name for outcome in failures[:3])
        failed += f" ({names}{', …' if len(failures) > 3 else ''})"
    what = "recorded as seen" if is_seed else ("new mention" if report.new_mentions == 1 else "new mentions")
    backing_off = [f"{skipped} backing off"] if skipped else []
    parts = [f"{ok} source{'' if ok == 1 else 's'} ok", failed, *backing_off,
             f"{report.new_mentions} {what} in {report.seconds:.1f} s", *notes]
    return clean_text(", ".join(parts), single_line=True)
