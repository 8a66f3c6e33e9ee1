"""Small builders for the state tests: RSS bodies, config files, running `scan` in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from typer.testing import CliRunner

from mentions.cli import app


@dataclass(frozen=True)
class Item:
    """One feed entry."""

    title: str
    text: str
    link: str | None = None
    guid: str | None = None
    date: str | None = "Tue, 24 Nov 2026 08:00:00 GMT"  # None: no <pubDate>


def rss(items: list[Item]) -> str:
    """An RSS 2.0 body."""
    entries = []
    for item in items:
        parts = [f"<title>{escape(item.title)}</title>", f"<description>{escape(item.text)}</description>"]
        if item.date is not None:
            parts.append(f"<pubDate>{item.date}</pubDate>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        entries.append("<item>" + "".join(parts) + "</item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<link>http://example.org/</link>{''.join(entries)}</channel></rss>")


def write_config(
    folder: Path, sources: dict[str, str], keywords: dict[str, list[str]] | None = None, extra: str = "",
) -> Path:
    """A config with feed sources (name -> URL) and keywords (name -> terms); state beside it."""
    keywords = keywords or {"acme": ["Acme"]}
    lines = ["version: 1", "state: ./state.db", "http: {delay: 0, robots: false}", "keywords:"]
    for name, terms in keywords.items():
        lines.append(f"  - {{name: {name}, terms: {json.dumps(terms)}}}")
    lines.append("sources:")
    for name, url in sources.items():
        lines.append(f"  - {{name: {name}, feed: {json.dumps(url)}}}")
    path = folder / "mentions.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Result:
    """What one in-process command printed and returned."""

    code: int
    records: list[dict[str, Any]]
    stdout: str
    stderr: str

    @property
    def ids(self) -> list[str]:
        return [record["id"] for record in self.records]

    @property
    def titles(self) -> list[str]:
        return sorted(record["title"] for record in self.records)


def invoke(*args: str) -> Result:
    """Run `mentions ARGS` in this process and parse JSON Lines from stdout."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    stdout = result.stdout
    lines = stdout.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]
    return Result(result.exit_code, records, stdout, result.stderr)


def scan(config: Path, *args: str) -> Result:
    """`mentions scan -c CONFIG --format jsonl ARGS`."""
    return invoke("scan", "-c", str(config), "--format", "jsonl", *args)
