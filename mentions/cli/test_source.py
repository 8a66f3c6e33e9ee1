"""`mentions test-source NAME`: what one source yields right now, and which keywords match.

The tool for getting `items`, `fields` and search params right: nothing is read from or
written to the state, and every text from the web is cleaned before it is shown.
"""

from __future__ import annotations

import asyncio
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mentions.cli.common import (
    CONFIG_OPTION,
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    TIMEOUT_HELP,
    fail,
    load,
    parse_timeout,
)
from mentions.console import clean_text, stderr_console

if TYPE_CHECKING:
    from mentions.models import Document, Match

TEXT_HEAD = 200


def test_source(
    name: str = typer.Argument(..., metavar="NAME", help="The source's `name` in the config."),
    config: Path | None = CONFIG_OPTION,
    limit: int = typer.Option(
        20, "--limit", "-n", min=0, metavar="N", help="Show at most this many documents (0: all)."
    ),
    output_format: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help="text or jsonl."),
    timeout: str | None = typer.Option(None, "--timeout", metavar="SECONDS", help=TIMEOUT_HELP),
) -> None:
    """Fetch one source (no state) and show the documents it yields and their matches.

    Example: mentions test-source shoe-forum -c mentions.yaml
    """
    from mentions.dates import rfc3339
    from mentions.errors import FetchError
    from mentions.match import Matcher
    from mentions.pipeline import error_text
    from mentions.source_context import ScanOptions, preview_source
    from mentions.units import counted

    if output_format not in ("text", "jsonl"):
        fail(f"--format must be text or jsonl, not {output_format!r}")
    timeout_seconds = parse_timeout(timeout)
    loaded = load(config)
    names = [source.name for source in loaded.sources]
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        fail(f"no source named {name!r} in {loaded.path}{hint}; sources are {', '.join(names)}")
    source = next(source for source in loaded.sources if source.name == name)
    try:
        documents, failure = asyncio.run(preview_source(loaded, source, ScanOptions(timeout=timeout_seconds)))
    except FetchError as error:
        fail(f"{name}: {error_text(error)}", EXIT_SOURCE_FAILED)  # redacted by preview_source
    allowed = set(source.keywords) if source.keywords is not None else None
    matcher = Matcher([k.rule() for k in loaded.keywords if allowed is None or k.name in allowed])
    shown = documents[:limit] if limit else documents
    matched = 0
    for number, document in enumerate(shown, start=1):
        matches = matcher.match(document)
        matched += bool(matches)
        if output_format == "jsonl":
            from mentions.output import to_json

            record = _record(document, matches, rfc3339(document.published))
            sys.stdout.write(to_json(record) + "\n")
        else:
            sys.stdout.write(_block(number, document, matches, rfc3339(document.published)))
        sys.stdout.flush()
    more = f" (showing {len(shown)})" if len(shown) < len(documents) else ""
    stderr_console().print(
        f"{name}: {counted(len(documents), 'document')}{more}, {matched} shown "
        f"{'matches' if matched == 1 else 'match'} a keyword",
        markup=False, highlight=False,
    )
    if failure is not None:  # the documents above came before it, as a scan delivers them
        fail(f"{name}: {error_text(failure)} (after the documents above)", EXIT_SOURCE_FAILED)
    raise typer.Exit(EXIT_OK)


def _line(value: str | None) -> str:
    return clean_text(value or "", single_line=True)


def _head(text: str) -> str:
    cleaned = _line(text)
    return cleaned if len(cleaned) <= TEXT_HEAD else cleaned[:TEXT_HEAD].rstrip() + "…"


def _block(number: int, document: Document, matches: list[Match], published: str | None) -> str:
    # `×N` counts the keyword's hits, all its terms together: it follows the keyword
    found = ", ".join(
        f"{m.keyword}{f' ×{m.count}' if m.count > 1 else ''} ({', '.join(_line(t) for t in m.terms)})"
        for m in matches
    )
    return (
        f"{number}. {_line(document.title) or '(no title)'}\n"
        f"   url:     {_line(document.url) or '-'}\n"
        f"   date:    {published or '-'}   author: {_line(document.author) or '-'}   "
        f"lang: {document.lang or '-'}\n"
        f"   text:    {_head(document.text) or '(empty)'}\n"
        f"   matches: {found or 'none'}\n\n"
    )


def _record(document: Document, matches: list[Match], published: str | None) -> dict[str, Any]:
    return {
        "title": document.title,
        "url": document.url,
        "published": published,
        "author": document.author,
        "lang": document.lang,
        "text": document.text[:TEXT_HEAD],
        "matches": [{"keyword": m.keyword, "terms": list(m.terms), "count": m.count} for m in matches],
    }
