"""`mentions history`: mentions already recorded in the state, filtered, in any output format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

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
from mentions.errors import StateError
from mentions.output import Writer
from mentions.streams import discard_unwritten_output


def history(
    config: Path | None = CONFIG_OPTION,
    state: str | None = typer.Option(
        None, "--state", metavar=STATE_METAVAR, help=STATE_HELP + " (then no config is needed)."
    ),
    keyword: list[str] = typer.Option(
        [], "--keyword", "-k", metavar="NAME", help="Only this keyword (repeatable)."
    ),
    source: list[str] = typer.Option(
        [], "--source", "-s", metavar="NAME", help="Only this source (repeatable)."
    ),
    since: str | None = typer.Option(
        None, "--since", metavar="WHEN", help="Only mentions published (else found) after it: 7d, 2026-11-01…"
    ),
    output_format: str | None = typer.Option(
        None, "--format", "-f", metavar="FORMAT",
        help="table, jsonl, csv or json (default: table on a terminal, else jsonl)."
    ),
) -> None:
    """Print mentions recorded by earlier scans, oldest first.

    Example: mentions history --keyword acme --since 7d --format csv > acme.csv
    """
    from mentions.cli.filters import warn_unknown_filters
    from mentions.output import FORMATS
    from mentions.redact import Redactor
    from mentions.units import parse_since

    chosen = output_format or ("table" if sys.stdout.isatty() else "jsonl")
    if chosen not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    try:
        since_time = parse_since(since) if since else None
    except ValueError as error:
        fail(f"--since: {error}")
    loaded = None if state is not None else load(config, needs_network=False)
    # Scans record no secret; a state written before they were redacted may still hold one.
    redactor = loaded.redactor if loaded is not None else Redactor()
    path = state_path(loaded, state)
    opened = open_reader(path, loaded)
    writer = _writer(chosen, sys.stdout)
    try:
        with opened:
            warn_unknown_filters(opened, loaded, keywords=keyword, sources=source)
            for mention in opened.mentions(keywords=keyword, sources=source, since=since_time):
                writer.write(redactor.mention(mention))
        writer.close()
    except StateError as error:
        fail_state(error, loaded)
    except BrokenPipeError:
        discard_unwritten_output()


def _writer(chosen: str, stream: IO[str]) -> Writer:
    from mentions.output import CsvWriter, JsonArrayWriter, JsonLinesWriter

    if chosen == "jsonl":
        return JsonLinesWriter(stream)
    if chosen == "json":
        return JsonArrayWriter(stream)
    if chosen == "csv":
        return CsvWriter(stream)
    from mentions.console import stdout_console
    from mentions.table import TableWriter

    # oldest first as in every other format: the newest ends up last, next to the prompt
    return TableWriter(stdout_console(), is_oldest_first=True)
