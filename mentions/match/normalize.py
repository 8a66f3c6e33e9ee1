"""Unicode normalisation for matching, done once per document, with a map back to the original.

Two views of a text share one coordinate system (they have the same length):

* the *literal* view: NFKC, case folding (`ß` -> `ss`), accent folding (`é` -> `e`),
  invisible characters dropped, typographic quotes/apostrophes/dashes as ASCII, hyphens
  and runs of white space as one space;
* the *word* view: the literal view with every character that is not a letter, a digit or
  `_` turned into a space, so a whole word is a space-padded pattern (`" acme "`).

Speed: a document is mostly ASCII. ASCII is folded by `bytes.translate` over the UTF-8 bytes;
the few other characters that fold differently are found by one precomputed character
class and replaced in a short Python loop. Only the characters whose replacement changes
the length, and the runs of spaces, leave anchors in the offset map.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

# Characters folded by hand: typographic forms count as their ASCII forms; hyphens and
# dashes count as a space (`Coca-Cola` ~ `Coca Cola`); letters NFKD does not decompose.
_TYPOGRAPHIC = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("-‐‑‒–—―−﹘﹣－", " "),
}
_LETTERS = {
    "ø": "o",
    "Ø": "O",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "đ": "d",
    "Đ": "D",
    "ł": "l",
    "Ł": "L",
    "ħ": "h",
    "Ħ": "H",
    "ı": "i",
    "þ": "th",
    "Þ": "TH",
}
# Blocks where a character may fold to something else; CJK ideographs, Hangul and the
# astral planes are left as they are (documented limitation: 𝐀 is not folded to A).
_FOLDING_RANGES = (
    (0x80, 0x052F),
    (0x1D00, 0x24FF),
    (0x3000, 0x30FF),
    (0x3200, 0x33FF),
    (0xFB00, 0xFB4F),
    (0xFE00, 0xFE6F),
    (0xFF00, 0xFFEF),
)
# Scripts written without spaces between words: matched as substrings.
NO_SPACE_SCRIPT = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
)
_NON_WORD_NON_ASCII = re.compile(r"[^\x00-\x7f\w\u0300-\u036f]")
_SPACE_RUN = re.compile("  +")
_WORD_TABLE = bytes(c if chr(c).isalnum() or c == 95 or c > 127 else 32 for c in range(256))
# A UTF-16 surrogate that slipped into a str must not make encoding fail.
_ENCODING = ("utf-8", "surrogatepass")


def fold_char(char: str, fold_case: bool, fold_accents: bool) -> str:
    """The literal-view form of one character (may be empty or longer than one)."""
    if char in _TYPOGRAPHIC:
        return _TYPOGRAPHIC[char]
    category = unicodedata.category(char)
    if (
        category[0] in "LN"
        and (not fold_case or char.casefold() == char)
        and (unicodedata.is_normalized("NFKD", char))
    ):
        return char
    if category == "Cf":  # soft hyphen, zero-width space/joiners, word joiner, BOM
        return ""
    if char.isspace() or category in ("Zs", "Zl", "Zp", "Cc"):
        return " "
    folded = unicodedata.normalize("NFKC", char)
    if fold_case:
        folded = folded.casefold()
    if fold_accents:
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(_LETTERS.get(c, c) for c in decomposed if not unicodedata.combining(c))
        folded = unicodedata.normalize("NFKC", folded)
    return "".join(_TYPOGRAPHIC.get(c, c) for c in folded)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and the way back: `orig = norm + delta` from each anchor on."""

    literal: str
    word: str
    anchors: tuple[tuple[list[int], list[int]], ...]  # applied last to first

    def to_original(self, position: int) -> int:
        """The original offset of a normalised offset."""
        for starts, deltas in self.anchors:
            index = bisect_right(starts, position) - 1
            if index >= 0:
                position += deltas[index]
        return position

    def to_normalized(self, original: int) -> int:
        """The first normalised offset at or after an original offset."""
        low, high = 0, len(self.literal)
        while low < high:
            middle = (low + high) // 2
            if self.to_original(middle) < original:
                low = middle + 1
            else:
                high = middle
        return low


class Folder:
    """The precomputed tables of one normalisation variant (case and accent folding on/off)."""

    def __init__(self, fold_case: bool, fold_accents: bool) -> None:
        self.fold_case = fold_case
        self.fold_accents = fold_accents
        table = bytearray(range(256))
        for code in range(128):
            char = chr(code)
            if char == "-" or char.isspace() or code < 32 or code == 127:
                table[code] = 32
            elif fold_case:
                table[code] = ord(char.lower())
        self._ascii = bytes(table)
        self._odd: dict[str, str] = {}
        for low, high in _FOLDING_RANGES:
            for code in range(low, high + 1):
                char = chr(code)
                key = char.lower() if fold_case else char
                if len(key) == 1 and key not in self._odd:
                    folded = fold_char(key, fold_case, fold_accents)
                    if folded != key:
                        self._odd[key] = folded
        self._odd_class = re.compile(_char_class(self._odd))

    def literal(self, text: str) -> str:
        """The literal view of a short text, such as a query term (no offset map)."""
        return self.normalize(text).literal.strip()

    def normalize(self, text: str) -> Normalized:
        """Both views of `text` and the map back to it."""
        anchors: list[tuple[list[int], list[int]]] = []
        if text.isascii():
            folded = text.encode("ascii").translate(self._ascii).decode("ascii")
        else:
            if self.fold_case:
                text = text.replace("\u0130", "I").lower()  # İ is the one char lower() lengthens
            folded = text.encode(*_ENCODING).translate(self._ascii).decode(*_ENCODING)
            if self._odd_class.search(folded):
                folded, starts, deltas = self._fold_odd(folded)
                if starts:
                    anchors.append((starts, deltas))
        if "  " in folded:
            folded, starts, deltas = _collapse(folded)
            anchors.append((starts, deltas))
        if folded.isascii():
            word = folded.encode("ascii").translate(_WORD_TABLE).decode("ascii")
        else:
            word = folded.encode(*_ENCODING).translate(_WORD_TABLE).decode(*_ENCODING)
            word = _NON_WORD_NON_ASCII.sub(" ", word)
        return Normalized(folded, word, tuple(reversed(anchors)))

    def _fold_odd(self, text: str) -> tuple[str, list[int], list[int]]:
        odd = self._odd
        pieces: list[str] = []
        starts: list[int] = []
        deltas: list[int] = []
        last = delta = 0
        for found in self._odd_class.finditer(text):
            start = found.start()
            replacement = odd[found.group()]
            pieces.append(text[last:start])
            pieces.append(replacement)
            last = start + 1
            if len(replacement) != 1:
                # Offsets inside an expansion (ß -> ss) map to the expanded character.
                norm = start - delta + max(len(replacement) - 1, 0)
                delta += 1 - len(replacement)
                starts.append(norm)
                deltas.append(delta)
        pieces.append(text[last:])
        return "".join(pieces), starts, deltas


def _collapse(text: str) -> tuple[str, list[int], list[int]]:
    """Runs of spaces as one space, with anchors for the removed ones."""
    pieces: list[str] = []
    starts: list[int] = []
    deltas: list[int] = []
    last = delta = 0
    for run in _SPACE_RUN.finditer(text):
        start, end = run.span()
        pieces.append(text[last : start + 1])
        last = end
        delta += end - start - 1
        starts.append(end - delta)
        deltas.append(delta)
    pieces.append(text[last:])
    return "".join(pieces), starts, deltas


def _char_class(chars: dict[str, str]) -> str:
    codes = sorted(ord(char) for char in chars)
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    parts = (
        re.escape(chr(low)) + ("" if low == high else "-" + re.escape(chr(high)))
        for low, high in ranges
    )
    return "[" + "".join(parts) + "]" if ranges else "(?!)"


@cache
def folder(fold_case: bool = True, fold_accents: bool = True) -> Folder:
    """The shared folder of a variant (built once per process, a few tens of ms)."""
    return Folder(fold_case, fold_accents)


def has_content(term: str) -> bool:
    """Whether a term still has something to look for once normalised."""
    return bool("".join(fold_char(c, True, True) for c in term).strip())
