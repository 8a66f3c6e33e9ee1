"""White space collapsed to single spaces, without the work when there is nothing to collapse.

`" ".join(text.split())` splits every text into words and joins them again, though most
lines of a page or feed entry already have single spaces between their words: a scan
collapses some 500,000 such lines.
"""

from __future__ import annotations


def collapse_spaces(text: str) -> str:
    """`text` with each run of white space one space, and none at either end."""
    # Printable means no white space but the ASCII space (the only kind that is printable);
    # then with no double, leading or trailing space there is nothing to collapse.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())
