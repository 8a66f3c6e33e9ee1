"""`mentions scan`: fetch every source, match, print and record the new mentions."""

from __future__ import annotations

from pathlib import Path

from mentions.cli.common import CONFIG_OPTION, fail, load


def scan(config: Path | None = CONFIG_OPTION) -> None:
    """Fetch all sources, print new mentions, record them.

    Example: mentions scan -c mentions.yaml --format jsonl
    """
    load(config)
    fail("scan is being built")
