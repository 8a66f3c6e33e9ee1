"""`mentions report`: volume, share of voice, top sources and authors, spikes; terminal or HTML."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from mentions.cli.common import (
    CONFIG_OPTION,
    STATE_HELP,
    STATE_METAVAR,
    fail,
    fail_state,
    load,
    open_reader,
    state_path,
)
from mentions.console import stderr_console, stdout_console


def report(
    config: Path | None = CONFIG_OPTION,
    state: str | None = typer.Option(
        None, "--state", metavar=STATE_METAVAR, help=STATE_HELP + " (default: from the config)."
    ),
    since: str = typer.Option("30d", "--since", metavar="WHEN", help="How far back: 30d, 12w, 2026-11-01."),
    keyword: list[str] = typer.Option(
        [], "--keyword", "-k", metavar="NAME", help="Only this keyword (repeatable)."
    ),
    html: Path | None = typer.Option(
        None, "--html", metavar="FILE", readable=False, help="Also write a self-contained HTML file."
    ),
    top: int = typer.Option(
        10, "--top", min=1, max=100, metavar="N", help="How many sources and authors to rank."
    ),
) -> None:
    """Charts of what was recorded: volume per day, share of voice, top sources, spikes.

    Example: mentions report --since 30d --html report.html
    """
    from mentions.cli.filters import warn_unknown_filters
    from mentions.errors import StateError
    from mentions.report import (
        begun_days,
        build_report,
        first_moments,
        load_records,
        local_today,
        render_terminal,
    )
    from mentions.units import parse_since

    loaded = None if state is not None else load(config, needs_network=False)
    path = state_path(loaded, state)
    if html is not None:
        _refuse_own_files(html, path, loaded.path if loaded is not None else config)
    opened = open_reader(path, loaded)
    try:
        start_time = parse_since(since)
    except ValueError as error:
        fail(f"--since: {error}")
    try:
        with opened:
            warn_unknown_filters(opened, loaded, keywords=keyword)
            records = load_records(opened, start_time, keyword)
            begun = first_moments(opened, keyword)
    except StateError as error:
        fail_state(error, loaded)
    start, end = local_today(start_time), local_today()
    if start > end:
        fail(f"--since {since} lies in the future")
    # No days before the first recorded mention: `--since 100000d` means "all of it", not
    # 270 years of empty days (a state with nothing in it gives today alone).
    first = min(begun_days(begun).values(), default=None)
    start = max(start, min(first or end, end))
    result = build_report(records, start, end, top=top, begun=begun)
    if html is None or sys.stdout.isatty():
        console = stdout_console()
        console.print(render_terminal(result, width=console.width), soft_wrap=False)
    if html is not None:
        from mentions.report_html import render_html

        try:
            html.write_text(render_html(result), encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {html}: {error.strerror}")
        stderr_console().print(f"mentions: wrote {html}", markup=False)


def _refuse_own_files(html: Path, state: Path | str, config: Path | None) -> None:
    """Exit 2 before writing anything if `--html` names the state the report reads, a file
    SQLite or the scan lock keeps beside it, or the config: writing there destroyed it."""
    from mentions.lock import lock_path
    from mentions.state.access import journal_files

    own: list[tuple[Path, str]] = []
    if isinstance(state, Path):
        own.append((state, f"the state file {state}"))
        for base in (state, state.resolve()):  # SQLite keeps them beside the file a link leads to
            own += [(part, f"the {part.name[len(base.name):]} file of the state {state}")
                    for part in journal_files(base)]
        own.append((lock_path(state), f"the lock file of the state {state}"))
    if config is not None:
        own.append((config, f"the config file {config}"))
    for path, what in own:
        if _is_same_file(html, path):
            fail(f"--html {html} is {what}; write the report to another file")


def _is_same_file(one: Path, other: Path) -> bool:
    """The same file under any name (a link, `./`, a hard link) when both exist, else the
    same resolved path."""
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist (yet)
        return one.resolve() == other.resolve()
