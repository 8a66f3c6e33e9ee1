"""The matcher's shortcuts agree with the slow, general way they replace.

Each fast path (a regex without IGNORECASE on case-folded text, the inverted offset map
of the title's end, ...) is compared with the general code on text full of the
characters that make normalisation hard: non-ASCII letters next to ASCII ones, ligatures,
invisible characters, typographic punctuation, runs of white space.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentions.match.nodes import CASE_RISKS, RegexLeaf, is_case_free
from mentions.match.normalize import _non_word_chars, folder

# Characters that fold to something else, or to several, or to nothing, or stay: all of
# them next to the ASCII letters they look like.
_TRICKY = (
    "aAeEiIkKsSzZ"
    "äÄöÖüÜßẞéÉèçñøØæÆœŒıİſKÅﬁﬀﬃ…‥ǅǄ"
    "\u00ad\u200b\u200d\ufeff\u00a0\u2009\u3000"
    "’‘“”—–-‐\t\n\r  "
    "ＡＢａｂ１²½™©東京タワーไทยМосква😀\U0001d400e\u0301a\u0308"
    ".,;:!?'\"#@/()[]"
)
_TEXTS = st.text(alphabet=st.sampled_from(_TRICKY), max_size=60)


def _every_character() -> str:
    return "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)


def test_ignorecase_adds_only_the_case_risks_on_case_folded_text() -> None:
    """IGNORECASE lets an ASCII pattern character match a few others (`K` for `k`, `ı` for
    `i`); of those only CASE_RISKS survive case folding, in every folding variant."""
    every = _every_character()
    loose: set[str] = set()
    for char in map(chr, range(128)):
        if not char.isupper():  # what `is_case_free` allows
            loose |= set(re.findall(re.escape(char), every, re.IGNORECASE)) - {char}
    for pattern in ("[\x00-\x7f]", "[a-z]", "[\x00-@\\[-\x7f]"):
        loose |= set(re.findall(pattern, every, re.IGNORECASE)) - set(re.findall(pattern, every))
    assert set(string.ascii_uppercase) | {"ı", "K"} <= loose
    for fold_accents in (True, False):
        fold = folder(True, fold_accents)
        # What a case-folded text can hold: what any character folds to.
        outputs = set(fold.normalize("".join(map(chr, range(128)))).literal)
        outputs |= set("".join(fold._odd.values()))
        kept = {char for char in loose if fold.normalize(char).literal == char}
        assert (loose & outputs) | kept <= set(CASE_RISKS), fold_accents


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("zen[a-z]+tri", True),
        (r"ac+me\d*", True),
        (r"\bacme\b\s\S\w\W\D\A\Z", True),
        (r"acme\.de|#acme", True),
        ("(?-i:acme)", True),
        ("Acme", False),
        ("[A-Z]+", False),
        (r"\x41cme", False),
        (r"\u0041", False),
        (r"\N{LATIN CAPITAL LETTER A}", False),
        (r"(a)\1", False),
        ("(?P<w>a)(?P=w)", False),
        ("müller", False),
        (r"\101", False),
    ],
)
def test_is_case_free(pattern: str, expected: bool) -> None:
    assert is_case_free(pattern) is expected


_PATTERNS = st.sampled_from(
    [
        "zen[a-z]+tri",
        "i",
        "[a-z]+",
        "[^a-z]+",
        "[+-z]",
        r"\w+",
        r"\bk\w*",
        "s+",
        "(?x) i  k",
        "ac+me|mü",
        r"[i-k]\W",
        ".",
    ]
)


@settings(max_examples=300, deadline=None)
@given(_PATTERNS, _TEXTS, st.booleans())
def test_regex_without_ignorecase_finds_the_same(pattern: str, text: str, fold_accents: bool) -> None:
    leaf = RegexLeaf(pattern, (True, fold_accents), False)
    literal = folder(True, fold_accents).normalize(text).literal
    if CASE_RISKS not in literal:
        found = [hit.span() for hit in leaf.fast.finditer(literal)]
        assert found == [hit.span() for hit in leaf.regex.finditer(literal)]


@settings(max_examples=300, deadline=None)
@given(_TEXTS, _TEXTS, st.booleans(), st.booleans())
def test_title_end_inverts_the_offset_map(title: str, text: str, fold_case: bool, fold_accents: bool) -> None:
    original = f"{title}\n{text}"
    norm = folder(fold_case, fold_accents).normalize(original)
    for offset in range(len(original) + 1):
        assert norm.to_normalized(offset) == norm._search_normalized(offset), offset


def _reference_views(text: str, fold_case: bool, fold_accents: bool) -> tuple[str, str, list[int | None]]:
    """Both views the slow way, character by character, and for each normalised offset the
    original offset it starts (None inside an expansion such as `ß` -> `ss`)."""
    fold = folder(fold_case, fold_accents)
    kept: list[tuple[str, int | None]] = []
    for index, char in enumerate(text):
        out = chr(fold._ascii[ord(char)]) if char.isascii() else fold._odd.get(char, char)
        for position, piece in enumerate(out):
            if piece == " " and kept and kept[-1][0] == " ":
                continue  # a run of spaces is one space, the first of the run
            kept.append((piece, index if position == 0 else None))
    literal = "".join(piece for piece, _ in kept)
    non_word = _non_word_chars()
    word = "".join(
        " " if (char.isascii() and not (char.isalnum() or char == "_")) or char in non_word else char
        for char in literal
    )
    return literal, word, [origin for _, origin in kept]


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.booleans(), st.booleans())
def test_normalisation_agrees_with_folding_character_by_character(
    text: str, fold_case: bool, fold_accents: bool
) -> None:
    # Repeated: long texts too (thousands of non-ASCII characters, as a Chinese page has).
    for times in (1, 60):
        norm = folder(fold_case, fold_accents).normalize(text * times)
        literal, word, origins = _reference_views(text * times, fold_case, fold_accents)
        assert (norm.literal, norm.word) == (literal, word)
        for position, origin in enumerate(origins):
            if origin is not None:
                assert norm.to_original(position) == origin, position


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii, two  spaces\nand a line",
        "Müller’s “Straße” — ﬁne…\u00ad ok",
        "东京タワー Acme™ 😀 ＡＣＭＥ",
        "ıi İI ſs Kk",
        "东京タワー “Acme” — ß… ﬁ\u00ad " * 100,
    ],
)
def test_normalisation_examples(text: str) -> None:
    for fold_case in (True, False):
        for fold_accents in (True, False):
            norm = folder(fold_case, fold_accents).normalize(text)
            literal, word, _ = _reference_views(text, fold_case, fold_accents)
            assert (norm.literal, norm.word) == (literal, word)


@pytest.mark.parametrize("text", ["Acme…\nbody", "a…b ﬃ\u00ad  ß\n… x", "…\n…", "  ﬃ  \n\n ß…"])
def test_title_end_inside_expansions(text: str) -> None:
    """`…` -> `...` maps its middle dot to the next character: bisection decides there."""
    for fold_case in (True, False):
        norm = folder(fold_case, True).normalize(text)
        for offset in range(len(text) + 1):
            assert norm.to_normalized(offset) == norm._search_normalized(offset), offset


@pytest.mark.parametrize("kinds", [2, 12])  # few punctuation characters to look for, or many
def test_literal_terms_behind_the_punctuation_gate(kinds: int) -> None:
    """The literal pass is skipped for a text without any punctuation its patterns need."""
    from mentions.match import KeywordRule, Matcher
    from mentions.models import Document

    marks = "#@.+&$%!?:;~"[:kinds]
    rules = [KeywordRule(f"k{n}", terms=(f"acme{mark}de",)) for n, mark in enumerate(marks)]
    matcher = Matcher(rules)
    for n, mark in enumerate(marks):
        text = f"Wir sind bei acme{mark}de und nicht bei acme de."
        found = matcher.match(Document("t", "file", text))
        assert [m.keyword for m in found] == [f"k{n}"], mark
        assert found[0].terms == (f"acme{mark}de",)
    assert matcher.match(Document("t", "file", "acme de, acmede")) == []
