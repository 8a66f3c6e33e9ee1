"""`collapse_spaces` skips the work when a line has nothing to collapse, and must then give
exactly what splitting and joining gives: every kind of Unicode white space counts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mentions.spaces import collapse_spaces

# Every character `str.split()` splits at, and some that look like space but are not.
_WHITE = [chr(code) for code in range(0x110000) if chr(code).isspace()]
_PIECES = st.sampled_from([*_WHITE, "Acme", "ü", "東京", "\u200b", "\u00ad", "\ue000", "😀", "a b", "x"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=4), max_size=30).map("".join))
def test_collapsing_is_splitting_and_joining(text: str) -> None:
    assert collapse_spaces(text) == " ".join(text.split())


def test_a_line_with_single_spaces_is_returned_as_it_is() -> None:
    line = "Acme kündigt neue Schuhe an – „sehr leicht“, sagt der Hersteller."
    assert collapse_spaces(line) is line
    assert collapse_spaces(" Acme\u00a0 Schuhe\n") == "Acme Schuhe"
