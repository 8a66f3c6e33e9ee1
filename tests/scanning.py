"""Run `mentions scan` through the real CLI on a config written for one test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from mentions.cli import app


def write_config(
    folder: Path, sources: str, keywords: str | None = None, name: str = "mentions.yaml"
) -> Path:
    """A config file with the given `sources:` block (YAML text, indented by two)."""
    keywords = keywords or "  - name: acme\n    terms: [Acme, \"Acme GmbH\"]\n"
    path = folder / name
    path.write_text(
        f"version: 1\nhttp: {{delay: 0, retries: 0, timeout: 5, robots: false}}\n"
        f"keywords:\n{keywords}sources:\n{sources}",
        encoding="utf-8",
    )
    return path


def scan(config: Path, *args: str) -> tuple[Result, list[dict[str, Any]]]:
    """`mentions scan -c CONFIG --format jsonl ARGS`: the result and the records on stdout."""
    result = CliRunner().invoke(app, ["scan", "-c", str(config), "--format", "jsonl", *args])
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result, records
