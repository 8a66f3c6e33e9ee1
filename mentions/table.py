"""The table a person reads: newest first, matched words highlighted, web text kept inert.

Every string from the web goes through `clean_text` and into `rich.text.Text` (never into
markup), so titles such as `[bold]` or escape sequences show as the characters they are.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mentions.console import clean_text
from mentions.models import Mention

_KEYWORD_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """A short local time: "12 min ago" for today, a date otherwise."""
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if 0 <= seconds < 60:
        return "just now"
    if 0 <= seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if 0 <= seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def highlighted_snippet(mention: Mention) -> Text:
    """The snippet with every hit in bold reverse."""
    snippet = Text(clean_text(mention.snippet, single_line=True))
    if snippet.plain == mention.snippet:
        for start, end in mention.highlights:
            snippet.stylize("bold reverse", start, end)
    return snippet


class TableWriter:
    """Collects mentions and prints them as one table when the scan ends."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._mentions: list[Mention] = []

    def write(self, mention: Mention) -> None:
        self._mentions.append(mention)

    def close(self) -> None:
        if not self._mentions:
            return
        self._console.print(render_table(self._mentions))

    @property
    def count(self) -> int:
        """How many mentions the table holds."""
        return len(self._mentions)


def render_table(mentions: list[Mention]) -> Table:
    """A rich Table of `mentions`, newest first."""
    colours: dict[str, str] = {}
    for mention in mentions:
        colours.setdefault(mention.keyword, _KEYWORD_COLOURS[len(colours) % len(_KEYWORD_COLOURS)])
    table = Table(show_lines=False, expand=True, pad_edge=False)
    table.add_column("time", no_wrap=True, max_width=16)
    table.add_column("keyword", no_wrap=True, max_width=18)
    table.add_column("source", no_wrap=True, max_width=18)
    table.add_column("title", ratio=2, overflow="fold")
    table.add_column("snippet", ratio=3)
    newest_first = sorted(
        mentions, key=lambda m: (m.published or m.found_at).timestamp(), reverse=True
    )
    for mention in newest_first:
        title = Text(clean_text(mention.title, single_line=True) or "(untitled)")
        url = clean_text(mention.url or "", single_line=True)
        if url.startswith(("http://", "https://")):
            title.stylize(f"link {url}")
        table.add_row(
            when(mention.published or mention.found_at),
            Text(clean_text(mention.keyword), style=colours[mention.keyword]),
            Text(clean_text(mention.source)),
            title,
            highlighted_snippet(mention),
        )
    return table
