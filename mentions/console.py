"""The two consoles (data on stdout, people on stderr) and the one sanitiser.

Text from the web is untrusted: every string shown to a person passes `clean_text`, which
drops control characters, escape sequences and bidi overrides, so nothing from a feed can
move the cursor, change the title of the terminal or reorder what is displayed.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# C0/C1 controls except tab and newline, DEL, bidi embeddings/overrides/isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def clean_text(text: str, *, single_line: bool = False) -> str:
    """`text` with escape sequences and unsafe control characters removed."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _UNSAFE.sub("", text)
    if single_line:
        text = " ".join(text.split())
    return text


def is_color_disabled() -> bool:
    """NO_COLOR (set and not empty) turns colour off, as https://no-color.org asks."""
    return bool(os.environ.get("NO_COLOR"))


def plain_options() -> dict[str, Any]:
    """Console options for NO_COLOR: no colour and no other control code either.

    `no_color` alone still lets Rich write bold, dim, reverse and links; without a colour
    system it writes no style at all."""
    return {"no_color": True, "color_system": None} if is_color_disabled() else {}


def stderr_console() -> Console:
    """The console for people: progress, summaries, errors."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, **plain_options())


def stdout_console() -> Console:
    """The console for data on stdout (only the table format uses it)."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, **plain_options())
