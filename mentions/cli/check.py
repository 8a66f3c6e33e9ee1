"""`mentions check`: validate the config and list every problem."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mentions.cli.common import CONFIG_OPTION, load

if TYPE_CHECKING:
    from mentions.config import Config


def check(config: Path | None = CONFIG_OPTION) -> None:
    """Validate the config; print every problem with file:line; exit 2 if any; warn of slow
    regexes and of keyword terms that are secrets too.

    Example: mentions check -c mentions.yaml
    """
    from mentions.units import counted

    loaded = load(config)
    warn_slow_regexes(loaded)
    warn_of(loaded.warnings)
    typer.echo(
        f"{loaded.path}: ok ({counted(len(loaded.keywords), 'keyword')}, "
        f"{counted(len(loaded.sources), 'source')})",
        err=True,
    )


def warn_of(warnings: list[str]) -> None:
    """Print each warning (already redacted) on stderr."""
    from mentions.console import clean_text, stderr_console

    console = stderr_console()
    for warning in warnings:
        console.print(f"mentions: warning: {clean_text(warning)}", markup=False, highlight=False)


def warn_slow_regexes(config: Config) -> None:
    """Name each `/regex/` that can take exponential time; a warning, not an error.

    Here and not in `scan`: a scan from cron would repeat it on every run, unread, while the
    pattern is still valid and often harmless on the texts it meets."""
    from mentions.console import clean_text, stderr_console
    from mentions.match.query import parse_query
    from mentions.match.slow_regex import slow_regexes

    console = stderr_console()
    for keyword in config.keywords:
        if keyword.query is None:
            continue  # `terms` are literal: no regex
        for pattern, reason in slow_regexes(parse_query(keyword.query)):
            written = pattern.replace("/", "\\/")  # as in the query
            message = (f"mentions: warning: keyword {keyword.name!r}: /{written}/ can take very long "
                       f"on some texts ({reason})")
            console.print(clean_text(config.redactor(message)), markup=False, highlight=False)
