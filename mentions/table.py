"""The table a person reads: newest first (history: oldest first), matched words highlighted,
web text kept inert.

Layout (designed for an 80-column terminal or pipe, and still fine when wider):

    10 h ago     acme · laufforum · Re: Erfahrungen mit Acme Runner X?
                 …Habe heute meinen Halbmarathon in *Acme* Runner X gelaufen, keine…

Two lines per mention, each cut to the width with an ellipsis, so a pipe never wraps a
cell into a tall column. The snippet is windowed so that the first hit is visible.

Every string from the web goes through `clean_text` and into `rich.text.Text` (never into
markup), so titles such as `[bold]` or escape sequences show as the characters they are.
Without colour (a pipe, NO_COLOR) hits are marked `*like this*` so they stay visible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.console import Console, Group
from rich.style import Style
from rich.text import Text

from mentions.console import clean_text
from mentions.dates import is_date_only, moment_of
from mentions.models import Mention

KEYWORD_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")
HIT_STYLE = "bold reverse"
PLAIN_MARK = "*"
# How many characters of context stay before the first hit when a snippet is cut.
LEAD_CONTEXT = 24


def when(moment: datetime | None, now: datetime | None = None, *, is_date: bool = False) -> str:
    """A short local time: "12 min ago" within the last day, a local date otherwise; a date
    without a time (`is_date`) is shown as the day it names, without a time."""
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    if is_date:
        return moment.strftime("%d %b") if moment.year == now.astimezone().year else moment.date().isoformat()
    seconds = (now - moment).total_seconds()
    if 0 <= seconds < 60:
        return "just now"
    if 0 <= seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if 0 <= seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    local = moment.astimezone()
    if local.year == now.astimezone().year:
        return local.strftime("%d %b %H:%M")
    return local.date().isoformat()  # strftime writes the year 0042 as "42"


def valid_highlights(snippet: str, highlights: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Highlights that lie inside `snippet`, sorted and without overlaps (the matcher may err)."""
    spans: list[tuple[int, int]] = []
    for pair in sorted(h for h in highlights if isinstance(h, tuple) and len(h) == 2):
        start, end = pair
        if not (isinstance(start, int) and isinstance(end, int)) or not 0 <= start < end <= len(snippet):
            continue
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def term_highlights(snippet: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the matched terms occur in the snippet: a fallback when the matcher gave no offsets."""
    wanted = [re.escape(term) for term in terms if term.strip()]
    if not wanted:
        return []
    pattern = re.compile("|".join(sorted(wanted, key=len, reverse=True)), re.IGNORECASE)
    return [(hit.start(), hit.end()) for hit in pattern.finditer(snippet)]


_SPACES = re.compile(r"\s+")


def _clean_piece(text: str) -> str:
    return clean_text(text, single_line=True)


def highlighted_snippet(mention: Mention, *, is_plain: bool = False, width: int | None = None,
                        lead: int = LEAD_CONTEXT) -> Text:
    """The snippet on one line, hits styled (or `*marked*` when plain), cut to show the first hit.

    When the first hit would end beyond `width`, the start is cut (at a word boundary where
    possible) just enough to show it with up to `lead` characters after it; with no `width`
    the cut leaves `lead` characters before the hit.

    Offsets refer to the raw snippet, so it is cut into hit and non-hit pieces first and each
    piece is cleaned on its own: cleaning the whole string first would shift the offsets.
    """
    raw = mention.snippet
    spans = valid_highlights(raw, mention.highlights) or term_highlights(raw, mention.terms)
    pieces: list[tuple[str, bool]] = []
    cursor = 0
    for start, end in spans:
        pieces += [(raw[cursor:start], False), (raw[start:end], True)]
        cursor = end
    pieces.append((raw[cursor:], False))
    text = Text()
    first_hit: int | None = None
    first_hit_end: int | None = None
    for piece, is_hit in pieces:
        piece = _SPACES.sub(" ", clean_text(piece))
        if not text.plain or text.plain.endswith(" "):
            piece = piece.lstrip()
        if not piece:
            continue
        if is_hit:
            if first_hit is None:
                first_hit = len(text.plain)
            if is_plain:
                text.append(f"{PLAIN_MARK}{piece}{PLAIN_MARK}")
            else:
                text.append(piece, style=HIT_STYLE)
            if first_hit_end is None:
                first_hit_end = len(text.plain)
        else:
            text.append(piece)
    text.rstrip()
    if first_hit is None or first_hit_end is None:
        return text
    if width is None:
        needed = first_hit - lead
    else:
        # the least cut that shows the first hit and a little after it, "…" included
        after = min(lead, len(text.plain) - first_hit_end)
        needed = first_hit_end + after + 1 - width if text.cell_len > width else 0
    if needed > 0:
        cut = text.plain.find(" ", needed, first_hit)
        cut = min(needed, first_hit) if cut < 0 else cut + 1
        text = Text("…") + text[cut:]
    return text


def _title(mention: Mention, is_plain: bool) -> Text:
    title = Text(_clean_piece(mention.title) or "(untitled)", style="" if is_plain else "bold")
    url = _clean_piece(mention.url or "")
    if url.lower().startswith(("http://", "https://")):
        # Style(link=...) rather than a style string: a URL with spaces or brackets
        # cannot break (or inject into) the style parser.
        title.stylize(Style(link=url))
    return title


def _meta(mention: Mention, colour: str, is_plain: bool) -> Text:
    separator = Text(" · ", style="dim")
    line = Text(_clean_piece(mention.keyword), style="" if is_plain else f"bold {colour}")
    line.append_text(separator)
    line.append(_clean_piece(mention.source), style="" if is_plain else "dim")
    line.append_text(separator)
    line.append_text(_title(mention, is_plain))
    return line


def newest_first(mentions: Sequence[Mention]) -> list[Mention]:
    """Mentions sorted by publication (or discovery) time, newest first."""
    return sorted(mentions, key=_moment, reverse=True)


def _moment(mention: Mention) -> float:
    # a date without a time sorts at the start of its local day, the day it is shown on
    return moment_of(mention.published, mention.found_at).timestamp()


def render_table(mentions: Sequence[Mention], *, width: int = 80, is_plain: bool = False,
                 now: datetime | None = None, is_oldest_first: bool = False) -> Group:
    """Two lines per mention cut to `width`: time, keyword · source · title; then the snippet.

    Newest first, or oldest first (by the time shown: published, else found)."""
    colours: dict[str, str] = {}
    for mention in mentions:
        colours.setdefault(mention.keyword, KEYWORD_COLOURS[len(colours) % len(KEYWORD_COLOURS)])
    ordered = newest_first(mentions)
    if is_oldest_first:
        ordered = sorted(mentions, key=_moment)
    times = [when(m.published or m.found_at, now, is_date=is_date_only(m.published)) for m in ordered]
    time_width = max(map(len, times), default=8)
    body_width = max(20, width - time_width - 2)
    lines: list[Text] = []
    for mention, moment in zip(ordered, times, strict=True):
        if lines:
            lines.append(Text())
        meta = _meta(mention, colours[mention.keyword], is_plain)
        snippet = highlighted_snippet(mention, is_plain=is_plain, width=body_width)
        for line in (meta, snippet):
            line.truncate(body_width, overflow="ellipsis")
        head = Text(moment.ljust(time_width) + "  ", style="" if is_plain else "dim")
        lines.append(head + meta)
        lines.append(Text(" " * (time_width + 2)) + snippet)
    for line in lines:
        line.no_wrap = True
        line.overflow = "ellipsis"
    return Group(*lines)


def is_plain_console(console: Console) -> bool:
    """True when the console shows no styles at all (a pipe, a file), so hits need markers.

    NO_COLOR on a terminal drops colours but keeps bold and reverse, so hits stay visible.
    """
    return not console.is_terminal or console.color_system is None


class TableWriter:
    """Collects mentions and prints them, newest first (or oldest first), when the scan ends.

    The columns fit the widest cells of all rows, so no row is out before the last one is
    known: `is_buffered`, and the scan records the mentions only once `close` returned."""

    is_buffered = True

    def __init__(self, console: Console, *, is_oldest_first: bool = False) -> None:
        self._console = console
        self._is_oldest_first = is_oldest_first
        self._mentions: list[Mention] = []

    def write(self, mention: Mention) -> None:
        self._mentions.append(mention)

    def close(self) -> None:
        if not self._mentions:
            return
        table = render_table(self._mentions, width=self._console.width,
                             is_plain=is_plain_console(self._console), is_oldest_first=self._is_oldest_first)
        self._console.print(table, soft_wrap=False)

    @property
    def count(self) -> int:
        """How many mentions the table holds."""
        return len(self._mentions)
