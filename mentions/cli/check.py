"""`mentions check`: validate the config and list every problem."""

from __future__ import annotations

from pathlib import Path

import typer

from mentions.cli.common import CONFIG_OPTION, load


def check(config: Path | None = CONFIG_OPTION) -> None:
    """Validate the config; print every problem with file:line; exit 2 if any.

    Example: mentions check -c mentions.yaml
    """
    loaded = load(config)
    typer.echo(
        f"{loaded.path}: ok ({len(loaded.keywords)} keywords, {len(loaded.sources)} sources)",
        err=True,
    )
