"""The snippet of a mention: original text around the first hit, with the hits marked."""

from __future__ import annotations

import re
from bisect import bisect_left

from mentions.spaces import collapse_spaces

WIDTH = 200
ELLIPSIS = "…"
_NON_SPACE = re.compile(r"\S")
_SPACE = re.compile(r"\s")


def make_snippet(
    text: str, spans: list[tuple[int, int]], low: int = 0, high: int | None = None
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """About WIDTH characters of `text[low:high]` around `spans[0]`, cut at word boundaries.

    `spans` are sorted (start, end) offsets in `text`. White space is collapsed; an
    ellipsis marks each cut; the highlights are the spans inside the snippet, in snippet
    offsets. (Bounds rather than a slice: a document may be long and have many matches.)
    """
    high = len(text) if high is None else high
    first_start, first_end = spans[0] if spans else (low, low)
    start = max(low, first_start - max(0, WIDTH - (first_end - first_start)) // 3)
    end = min(high, max(start + WIDTH, first_end))
    if end - WIDTH < start:
        start = max(low, end - WIDTH)
    if start > low and not text[start - 1].isspace():
        space = _SPACE.search(text, start, first_start)
        start = space.end() if space else start
    if end < high and not text[end].isspace():
        cut = max(text.rfind(" ", first_end, end), text.rfind("\n", first_end, end))
        end = cut if cut > first_end else end
    head = ELLIPSIS + " " if start > low and _NON_SPACE.search(text, low, start) else ""
    tail = " " + ELLIPSIS if end < high and _NON_SPACE.search(text, end, high) else ""
    window = text[start:end]
    body = collapse_spaces(window)
    is_plain = len(body) == len(window)  # white space replaced one for one: plain shifts
    shift = len(head) - start
    highlights: list[tuple[int, int]] = []
    for a, b in spans[bisect_left(spans, (start, 0)) :]:
        if b > end:
            break
        if is_plain:
            highlights.append((a + shift, b + shift))
        else:
            highlights.append(
                (
                    len(head) + _collapsed_length(text, start, a),
                    len(head) + _collapsed_length(text, start, b),
                )
            )
    return head + body + tail, tuple(highlights)


def _collapsed_length(text: str, start: int, stop: int) -> int:
    """The length of `text[start:stop]` once white space is collapsed (leading removed)."""
    collapsed = len(" ".join(text[start:stop].split()))
    return collapsed + 1 if collapsed and text[stop - 1].isspace() else collapsed
