"""`mentions sources`: every configured source with its health, failing ones standing out."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from mentions.cli.common import (
    CONFIG_OPTION,
    STATE_HELP,
    STATE_METAVAR,
    fail,
    fail_state,
    load,
    open_reader,
    open_reader_if_any,
    state_path,
)
from mentions.errors import StateError

# A source failing this long is not a hiccup any more: shown in bold red.
LONG_FAILURE = timedelta(days=1)


def sources(
    config: Path | None = CONFIG_OPTION,
    state: str | None = typer.Option(None, "--state", metavar=STATE_METAVAR, help=STATE_HELP + "."),
    output_format: str | None = typer.Option(
        None, "--format", "-f", metavar="FORMAT",
        help="table or jsonl (default: table on a terminal, else jsonl)."
    ),
) -> None:
    """List the configured sources with their health: last fetch, status, items, failures.

    Example: mentions sources --format jsonl | jq 'select(.failures > 0)'
    """
    from mentions.identity import definition_digest
    from mentions.state import BackoffPolicy

    chosen = output_format or ("table" if sys.stdout.isatty() else "jsonl")
    if chosen not in ("table", "jsonl"):
        fail(f"--format must be table or jsonl, not {output_format!r}")
    loaded = load(config, needs_network=False)
    path = state_path(loaded, state)
    # Before the first scan the config's state is not there yet, and every source shows as
    # never fetched; a `--state` that is not there is a typo.
    opened = open_reader(path, loaded) if state is not None else open_reader_if_any(path, loaded)
    known = {}
    if opened is not None:
        try:
            with opened:
                known = opened.all_health()
        except StateError as error:
            fail_state(error, loaded)
    backoff = BackoffPolicy(loaded.backoff.after, loaded.backoff.delay, loaded.backoff.longest)
    rows = []
    now = datetime.now(UTC)
    edited = set()  # backing off, but edited since it failed: tried on the next scan
    for source in loaded.sources:
        health = known.get(source.name)
        retry_at = backoff.retry_at(health, definition_digest(source, loaded.http, loaded.redactor))
        unedited = backoff.retry_at(health)
        if retry_at is None and unedited is not None and unedited > now:
            edited.add(source.name)
        rows.append({
            "name": source.name,
            "kind": source.kind,
            "enabled": source.enabled,
            "status": (health.status if health else None) or ("never fetched" if source.enabled else None),
            "last_attempt": health.last_attempt if health else None,
            "last_success": health.last_success if health else None,
            "http_status": health.http_status if health else None,
            "items": health.items if health else None,
            "failures": health.failures if health else 0,
            "failing_since": health.failing_since if health else None,
            # a state written before secrets were redacted may still hold one
            "last_error": loaded.redactor.optional(health.last_error) if health else None,
            "retry_at": _stamp(retry_at) if retry_at and retry_at > now else None,
        })
    if chosen == "jsonl":
        from mentions.output import to_json

        for row in rows:
            sys.stdout.write(to_json(row) + "\n")
        sys.stdout.flush()
        return
    _print_table(rows, edited)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _print_table(rows: list[dict[str, Any]], edited: set[str]) -> None:
    from rich.table import Table
    from rich.text import Text

    from mentions.console import clean_text, stdout_console
    from mentions.state.health import parse_time
    from mentions.table import when

    # Columns that would be empty everywhere are left out, and errors (long URLs) go below
    # the table, one line each, so that it reads well in 80 columns.
    is_failing = any(row["failures"] for row in rows)
    is_backing_off = bool(edited) or any(row["retry_at"] for row in rows)
    table = Table(expand=False, pad_edge=False)
    # In a narrow terminal the cells wrap, the names too: with the others unwrappable, the
    # names were the column Rich dropped, and a table of failures said not which failed.
    table.add_column("source", overflow="fold", min_width=8, max_width=30)
    table.add_column("status", overflow="fold", min_width=8)
    table.add_column("last ok", overflow="fold", min_width=5)
    if is_failing:
        table.add_column("failing since", overflow="fold", min_width=5)
        table.add_column("fails", no_wrap=True, justify="right")
    if is_backing_off:
        table.add_column("next try", overflow="fold", min_width=5)
    now = datetime.now(UTC)
    errors = Text()
    for row in rows:
        since = parse_time(row["failing_since"])
        style = ""
        if row["failures"]:
            style = "bold red" if since is not None and now - since >= LONG_FAILURE else "red"
            errors.append(clean_text(f"{row['name']}: {row['last_error']}\n", single_line=False), style=style)
        elif not row["enabled"]:
            style = "dim"
        status = row["status"] or "disabled"
        if row["http_status"] and row["http_status"] not in (200, 304):
            status += f" ({row['http_status']})"
        elif row["items"] is not None and not row["failures"]:
            status += f" ({row['items']} item{'' if row['items'] == 1 else 's'})"
        cells: list[str | Text] = [
            Text(clean_text(row["name"])), status,
            when(parse_time(row["last_success"]), now) or ("never" if row["enabled"] else ""),
        ]
        if is_failing:
            cells += [when(since, now), str(row["failures"] or "")]
        if is_backing_off:
            cells.append("next scan" if row["name"] in edited else _until(parse_time(row["retry_at"]), now))
        table.add_row(*cells, style=style)
    console = stdout_console()
    console.print(table)
    if errors:
        console.print(errors, end="", soft_wrap=True)


def _until(moment: datetime | None, now: datetime) -> str:
    """`in 25 min`, `in 3 h`, or a local date further out."""
    if moment is None:
        return ""
    seconds = (moment - now).total_seconds()
    if seconds < 3600:
        return f"in {max(1, int(seconds // 60))} min"
    if seconds < 86400:
        return f"in {int(seconds // 3600)} h"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
