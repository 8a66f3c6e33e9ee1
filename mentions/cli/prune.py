"""`mentions prune`: forget old mentions so the state file stays small."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from mentions.cli.common import (
    CONFIG_OPTION,
    STATE_HELP,
    STATE_METAVAR,
    fail,
    fail_state,
    load,
    open_reader_if_any,
    open_state,
    parse_wait,
    state_exists,
    state_name,
    state_path,
)
from mentions.errors import StateError


def prune(
    older_than: str = typer.Option(
        ..., "--older-than", metavar="AGE", help="Forget mentions found longer ago: 180d, 26w."
    ),
    config: Path | None = CONFIG_OPTION,
    state: str | None = typer.Option(
        None, "--state", metavar=STATE_METAVAR, help=STATE_HELP + " (then no config is needed)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say how many would go."),
    wait: str | None = typer.Option(
        None, "--wait", metavar="SECONDS", help="If a scan holds the state, wait up to this long."
    ),
) -> None:
    """Delete mentions found before a cutoff and compact the file; say how many.

    Their ids are kept, so a pruned mention is never reported again.

    Example: mentions prune --older-than 180d
    """
    from mentions.dates import seconds_before
    from mentions.units import parse_age

    try:
        age = parse_age(older_than)
    except ValueError as error:
        fail(f"--older-than: {error}")
    # Longer than the calendar reaches back: nothing is that old, and nothing is forgotten.
    cutoff = seconds_before(datetime.now(UTC), age)
    loaded = None if state is not None else load(config, needs_network=False)
    path = state_path(loaded, state)
    if dry_run:
        opened = open_reader_if_any(path, loaded)  # as `history` opens it: no lock
    else:
        opened = open_state(loaded, path, parse_wait(wait)) if state_exists(path) else None
    if opened is None:
        typer.echo(f"no state file at {path}: nothing to prune")
        return
    try:
        with opened:
            count = opened.prune(cutoff, is_dry_run=dry_run)
    except StateError as error:
        fail_state(error, loaded)
    verb = "would forget" if dry_run else "forgot"
    typer.echo(f"{verb} {count} mention{'s' if count != 1 else ''} found before {local_minute(cutoff)} "
               f"in {state_name(path)}")


def local_minute(moment: datetime) -> str:
    """`26 Nov 2026 14:51` in the local zone: the cutoff is a time, and a date alone read as
    "before that day" while mentions found earlier on that day went too."""
    local = moment.astimezone()
    return f"{local:%d %b} {local.year:04d} {local:%H:%M}"  # strftime writes the year 42 as "42"
