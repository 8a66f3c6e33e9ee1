"""From query terms to automaton patterns, and the whole-word rules at their edges.

A term made of words (letters, digits, spaces) becomes space-padded patterns over the
*word* view, so whole-word matching costs nothing per hit: `Acme` is `" acme "`,
`" acmes "`, `" acmees "` and `" acme s "` (possessives and inflections do not break a
word), `Schuh*` is `" schuh"`. A term with punctuation (`acme.de`, `#acme`) is searched
literally in the *literal* view and its edges are checked in Python.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from mentions.match.normalize import HANGUL_SYLLABLES, NO_SPACE_SCRIPT, Folder

# Endings after a whole word that keep it whole: English plural/possessive, German genitive.
SUFFIXES = ("s", "es", " s")
_LITERAL_SUFFIXES = ("'s", "'", "s", "es")
# Korean writes its particles onto the noun (`삼성은`, `삼성의`, `삼성에서`): after a term
# ending in Hangul, these keep it whole, as `s` does in English. (Not any Hangul: `삼성동`,
# a district, is no mention of `삼성`.)
KOREAN_PARTICLES = (
    "이", "가", "은", "는", "을", "를", "의", "에", "에서", "에게", "께", "한테", "와", "과", "랑",
    "이랑", "도", "만", "로", "으로", "까지", "부터", "처럼", "보다", "이나", "나", "이다", "입니다",
    "이며", "에는", "에서는", "으로는", "로는", "와의", "과의", "에도", "에서도", "이라는", "라는",
    "이고", "이고요", "같은", "측", "측은", "측이", "에서의", "으로서", "로서",
)
_HANGUL_END = re.compile(f"[{HANGUL_SYLLABLES}]$")
# Mueller ~ Müller: an umlaut written as a digraph, but not the `ue` of `Queen` or `Blue`.
_DIGRAPH = re.compile(r"(?<![qQ])([aouAOU])[eE](?=[a-zäöüß])")
MAX_SPELLINGS = 16  # per term: 4 words with an umlaut each
_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


@dataclass(frozen=True, slots=True)
class Pattern:
    """A literal-view pattern, and which of its edges must be word boundaries."""

    text: str
    check_left: bool = False  # literal patterns: the edge must be a word boundary
    check_right: bool = False


def spellings(term: str, fold_accents: bool) -> list[str]:
    """`term` and its umlaut spellings (`Müller` -> `Mueller`; `Mueller` -> `Muller`).

    Each word of a phrase is spelt either way on its own (`"Müller Mueller"` is also
    written `Mueller Müller`), up to MAX_SPELLINGS combinations; a phrase with more umlaut
    words than that gets its uniform spellings only.
    """
    if not fold_accents:
        return [term]
    words = [_word_spellings(word) for word in term.split(" ")]
    combinations = math.prod(len(options) for options in words)
    if combinations == 1:
        return [term]
    if combinations > MAX_SPELLINGS:
        return _word_spellings(term)
    return list(dict.fromkeys(" ".join(choice) for choice in itertools.product(*words)))


def _word_spellings(word: str) -> list[str]:
    found = [word]
    if not word.isascii():
        found.append(word.translate(_UMLAUT))
    if _DIGRAPH.search(word):
        found.append(_DIGRAPH.sub(_first_group, word))
    return found if len(found) == 1 else list(dict.fromkeys(found))


def _first_group(found: re.Match[str]) -> str:
    return found.group(1)


def is_word_char(char: str) -> bool:
    """A letter, digit or `_` of a script written with spaces between words."""
    return (char.isalnum() or char == "_") and not NO_SPACE_SCRIPT.match(char)


def patterns_for(
    term: str, is_prefix: bool, folder: Folder
) -> tuple[list[tuple[str, int, int]], list[Pattern]]:
    """The word-view patterns (text, lead, trail) and the literal-view patterns of a term."""
    words: list[tuple[str, int, int]] = []
    literals: list[Pattern] = []
    for spelling in spellings(term, folder.fold_accents):
        if spelling.isascii() and spelling.replace(" ", "").isalnum() and _is_one_spaced(spelling):
            literal = word = spelling.lower() if folder.fold_case else spelling  # most terms
        else:
            views = folder.normalize(spelling)
            literal, word = views.literal.strip(), views.word.strip()
        if not literal:
            continue
        if literal == word:
            words.extend(_word_patterns(word, is_prefix))
        else:
            literals.append(
                Pattern(
                    literal,
                    check_left=is_word_char(literal[0]),
                    check_right=is_word_char(literal[-1]) and not is_prefix,
                )
            )
    return words, literals


def _is_one_spaced(text: str) -> bool:
    return not text.startswith(" ") and not text.endswith(" ") and "  " not in text


def _word_patterns(word: str, is_prefix: bool) -> list[tuple[str, int, int]]:
    left = "" if NO_SPACE_SCRIPT.match(word[0]) else " "
    if is_prefix or NO_SPACE_SCRIPT.match(word[-1]):
        endings = [""]
    elif _HANGUL_END.search(word):
        endings = [" "] + [particle + " " for particle in KOREAN_PARTICLES]
    elif word[-1].isalpha():
        endings = [" "] + [suffix + " " for suffix in SUFFIXES]
    else:
        endings = [" "]
    return [(left + word + ending, len(left), 1 if ending else 0) for ending in endings]


def is_whole(text: str, start: int, end: int, pattern: Pattern) -> tuple[bool, int]:
    """Whether a literal hit stands as a whole word, and its end with any suffix."""
    if pattern.check_left and start > 0 and is_word_char(text[start - 1]):
        return False, end
    if not pattern.check_right or end >= len(text) or not is_word_char(text[end]):
        return True, end
    for suffix in _LITERAL_SUFFIXES:
        stop = end + len(suffix)
        if text.startswith(suffix, end) and (stop >= len(text) or not is_word_char(text[stop])):
            return True, stop
    return False, end
