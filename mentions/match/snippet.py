"""The snippet of a mention: original text around the first hit, with the hits marked."""

from __future__ import annotations

import re
from bisect import bisect_right

WIDTH = 200
ELLIPSIS = "…"
_TOKEN = re.compile(r"\S+")


def make_snippet(
    text: str, spans: list[tuple[int, int]], width: int = WIDTH
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """About `width` characters of `text` around `spans[0]`, cut at word boundaries.

    White space is collapsed; an ellipsis marks each cut; the result's highlights are
    the spans that fall inside the snippet, in snippet offsets.
    """
    first_start, first_end = spans[0] if spans else (0, 0)
    start = max(0, first_start - max(0, width - (first_end - first_start)) // 3)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    if start > 0 and not text[start - 1].isspace():
        space = _next_space(text, start, first_start)
        start = space if space is not None else start
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", first_end, end)
        end = space if space > first_end else end
    head = ELLIPSIS + " " if start > 0 else ""
    token_starts: list[int] = []
    out_starts: list[int] = []
    pieces: list[str] = []
    position = len(head)
    for token in _TOKEN.finditer(text, start, end):
        token_starts.append(token.start())
        out_starts.append(position)
        pieces.append(token.group())
        position += len(token.group()) + 1
    body = " ".join(pieces)
    tail = " " + ELLIPSIS if end < len(text) and body else ""

    def place(offset: int) -> int:
        index = max(0, bisect_right(token_starts, offset) - 1)
        return out_starts[index] + offset - token_starts[index]

    highlights = tuple(
        (place(a), place(b - 1) + 1) for a, b in spans if start <= a and b <= end and pieces
    )
    return head + body + tail, highlights


def _next_space(text: str, start: int, limit: int) -> int | None:
    for index in range(start, limit):
        if text[index].isspace():
            return index + 1
    return None
