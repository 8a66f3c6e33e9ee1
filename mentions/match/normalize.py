"""Unicode normalisation for matching, done once per document, with a map back to the original.

Two views of a text share one coordinate system (they have the same length):

* the *literal* view: NFKC, case folding (`ß` -> `ss`), accent folding (`é` -> `e`),
  invisible characters dropped, typographic quotes/apostrophes/dashes as ASCII, hyphens
  and runs of white space as one space;
* the *word* view: the literal view with every character that is not a letter, a digit or
  `_` turned into a space, so a whole word is a space-padded pattern (`" acme "`).

Speed: a document is mostly ASCII. ASCII is folded by `bytes.translate` over the UTF-8 bytes;
the distinct other characters are the UTF-8 bytes with the ASCII ones deleted (a few per
document, found at C speed), and each that folds differently is one `str.replace`. Only the
characters whose replacement changes the length, and the runs of spaces, leave anchors in
the offset map.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import cache, lru_cache
from itertools import accumulate, count
from operator import add, sub

# Characters folded by hand: typographic forms count as their ASCII forms; hyphens and
# dashes count as a space (`Coca-Cola` ~ `Coca Cola`); letters NFKD does not decompose.
_TYPOGRAPHIC = {
    **dict.fromkeys("‘’‚‛′`´ʼ", "'"),  # ʼ: the modifier letter some keyboards write for '
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
    (0x80, 0x058F),
    (0x10A0, 0x10FF),
    (0x13A0, 0x13FF),
    (0x1C80, 0x1CBF),
    (0x2C00, 0x2DFF),
    (0xA640, 0xA7FF),
    (0xAB70, 0xABBF),
    (0x1D00, 0x24FF),
    (0x3000, 0x30FF),
    (0x3200, 0x33FF),
    (0xFB00, 0xFB4F),
    (0xFE00, 0xFE6F),
    (0xFEFF, 0xFFFF),
)
# Scripts written without spaces between words: matched as substrings.
_NO_SPACE_RANGES = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
)
NO_SPACE_SCRIPT = re.compile(f"[{_NO_SPACE_RANGES}]")
HANGUL_SYLLABLES = "\uac00-\ud7a3"
# Scripts whose words a Latin name is written against without a space: those above, and
# Korean (its jamo, compatibility jamo and syllables), whose particles attach to the name
# (`Acme를`). A Latin term next to one still stands as a word (`用Acme的鞋`, `Acmeの新製品`).
GLUED_SCRIPT = re.compile(f"[{_NO_SPACE_RANGES}\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_SPACE_RUN = re.compile("   *")  # not "  +": a two-space literal prefix is scanned faster
_SPACE_RUN_SPLIT = re.compile("(   *)")
_ALNUM = re.compile(r"[^\W_]")
_ASCII_BYTES = bytes(range(128))
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
    if category[0] == "S":  # ™ ® ©: NFKC would glue "TM" to the brand before it
        return char
    folded = unicodedata.normalize("NFKC", char)
    if fold_case:
        folded = folded.casefold()
    if fold_accents:
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(_LETTERS.get(c, c) for c in decomposed if not unicodedata.combining(c))
        folded = unicodedata.normalize("NFKC", folded)
    return "".join(_TYPOGRAPHIC.get(c, c) for c in folded)


class Normalized:
    """A normalised text and the way back: `orig = norm + delta` from each anchor on.

    The anchors of collapsed white space are computed on first use: most documents never
    need them, since they match nothing.
    """

    __slots__ = ("_fold_anchors", "_uncollapsed", "anchors_", "has_glued_script", "literal", "word")

    def __init__(
        self,
        literal: str,
        word: str,
        fold_anchors: tuple[list[int], list[int]] | None,
        uncollapsed: str | None,
    ) -> None:
        self.literal, self.word = literal, word
        self._fold_anchors, self._uncollapsed = fold_anchors, uncollapsed
        self.anchors_: tuple[tuple[list[int], list[int]], ...] | None = None
        self.has_glued_script = False  # a character of GLUED_SCRIPT is in the text

    @property
    def anchors(self) -> tuple[tuple[list[int], list[int]], ...]:
        """(starts, deltas) lists, applied in order: collapsed spaces, then folding."""
        if self.anchors_ is None:
            found = []
            if self._uncollapsed is not None:
                found.append(_collapse_anchors(self._uncollapsed))
            if self._fold_anchors is not None:
                found.append(self._fold_anchors)
            self.anchors_ = tuple(found)
        return self.anchors_

    def to_original(self, position: int) -> int:
        """The original offset of a normalised offset."""
        for starts, deltas in self.anchors:
            position += deltas[bisect_right(starts, position) - 1]
        return position

    def to_original_many(self, positions: list[int]) -> list[int]:
        """`to_original` of many offsets (cost grows with them, not with the text)."""
        for starts, deltas in self.anchors:
            positions = [p + deltas[bisect_right(starts, p) - 1] for p in positions]
        return positions

    def to_original_spans(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """(start, end) spans in original offsets; an end maps as the character before it."""
        for starts, deltas in self.anchors:
            spans = [
                (
                    start + deltas[bisect_right(starts, start) - 1],
                    end + deltas[bisect_right(starts, end - 1) - 1],
                )
                for start, end in spans
            ]
        return spans

    def to_normalized(self, original: int) -> int:
        """The first normalised offset at or after an original offset.

        Inverts the two steps of the map (folding, then collapsed white space) instead of
        searching: the title's end is needed in most documents, and a search would need the
        anchors of every run of spaces in the whole text.
        """
        position = self._unfold(original)
        if position is None:
            return self._search_normalized(original)
        if self._uncollapsed is not None:
            # Each run of spaces before `position` kept one space (a run that `position` cuts
            # too: an offset inside a run maps to the character after it).
            runs = _SPACE_RUN.finditer(self._uncollapsed, 0, position)
            position -= sum(run.end() - run.start() - 1 for run in runs)
        return min(position, len(self.literal))

    def _unfold(self, original: int) -> int | None:
        """The first offset of the folded (not yet collapsed) text at or after `original`;
        None when bisection could find another one."""
        if self._fold_anchors is None:
            return original
        starts, deltas = self._fold_anchors
        # An expansion to three or more characters (… -> ...) maps its inner offsets to the
        # characters after it: the map dips, and bisection (which the results must equal)
        # may then differ from the first offset at or after `original`, but only for an
        # `original` inside such an expansion.
        for before, after, start in zip(deltas, deltas[1:], starts[1:], strict=False):
            if after < before - 1 and 0 < original - (start + after) < before - after:
                return None
        for index, (start, delta) in enumerate(zip(starts, deltas, strict=True)):
            candidate = max(start, 0, original - delta)
            if index + 1 == len(starts) or candidate < starts[index + 1]:
                return candidate
        raise AssertionError("unreachable: the last anchor's segment is unbounded")

    def _search_normalized(self, original: int) -> int:
        """`to_normalized` by bisection over `to_original` (any map; slower)."""
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
                folded = fold_char(char, fold_case, fold_accents)
                if folded != char:
                    self._odd[char] = folded
        self._odd_chars = frozenset(self._odd)

    def literal(self, text: str) -> str:
        """The literal view of a short text, such as a query term (no offset map)."""
        return self.normalize(text).literal.strip()

    def normalize(self, text: str) -> Normalized:
        """Both views of `text` and the map back to it."""
        fold_anchors = None
        others: set[str] = set()  # the non-ASCII characters left in the literal view
        if text.isascii():
            folded = text.encode("ascii").translate(self._ascii).decode("ascii")
        else:
            data = text.encode(*_ENCODING).translate(self._ascii)
            folded, fold_anchors, others = self._fold_odd(data.decode(*_ENCODING), data)
        uncollapsed = None
        if "  " in folded:
            uncollapsed, folded = folded, _SPACE_RUN.sub(" ", folded)
        if folded.isascii():
            word = folded.encode("ascii").translate(_WORD_TABLE).decode("ascii")
        else:
            word = folded.encode(*_ENCODING).translate(_WORD_TABLE).decode(*_ENCODING)
            for char in others & _non_word_chars():  # one C-speed replace per character
                word = word.replace(char, " ")
        normalized = Normalized(folded, word, fold_anchors, uncollapsed)
        # From the few distinct non-ASCII characters, not a pass over the text (7 ns a character).
        normalized.has_glued_script = any(map(GLUED_SCRIPT.match, others))
        return normalized

    def _fold_odd(
        self, text: str, data: bytes
    ) -> tuple[str, tuple[list[int], list[int]] | None, set[str]]:
        """Fold the non-ASCII characters of `text` (`data` is its UTF-8) that change.

        The distinct non-ASCII characters come from the UTF-8 bytes with the ASCII ones
        deleted (C speed, a few per document); those that fold to one character are one
        `str.replace` each; those that change the length (…, ß, soft hyphens) need one
        split at their occurrences and anchors from running sums. Returns the folded text,
        its anchors and the non-ASCII characters left in it.
        """
        distinct = set(data.translate(None, _ASCII_BYTES).decode(*_ENCODING))
        odd = self._odd
        folding = distinct & self._odd_chars
        left = distinct - folding
        changing: list[str] = []
        for char in folding:
            replacement = odd[char]
            if len(replacement) == 1:
                text = text.replace(char, replacement)
            else:
                changing.append(char)
            if not replacement.isascii():
                left.update(c for c in replacement if not c.isascii())
        if not changing:
            return text, None, left
        # Split at every occurrence (C speed; a page of Zalgo text has thousands of combining
        # marks): the pieces and the characters alternate, and the anchors are running sums.
        parts = _splitter(frozenset(changing)).split(text)
        replacements = list(map(odd.__getitem__, parts[1::2]))
        parts[1::2] = replacements
        lengths = list(map(len, replacements))
        # An occurrence's offset in the folded text is the length of everything before it;
        # offsets inside an expansion (ß -> ss) map to the expanded character.
        offsets = list(accumulate(map(len, parts)))[0:-1:2]
        starts = [-1, *map(add, offsets, (length - 1 if length else 0 for length in lengths))]
        deltas = [0, *accumulate(1 - length for length in lengths)]
        return "".join(parts), (starts, deltas), left


@lru_cache(maxsize=512)
def _splitter(chars: frozenset[str]) -> re.Pattern[str]:
    """A pattern that splits a text at each of `chars`, keeping them (a Zalgo page has dozens)."""
    return re.compile("([" + "".join(map(re.escape, sorted(chars))) + "])")


def _collapse_anchors(text: str) -> tuple[list[int], list[int]]:
    """Anchors for the spaces `_SPACE_RUN.sub(" ", text)` removed.

    After the n-th run (1-based) the collapsed text is behind by the runs' lengths minus n,
    and resumes at the lengths of the pieces before it plus n: sums over one split, at C
    speed (a document with many paragraphs has hundreds of runs).
    """
    parts = _SPACE_RUN_SPLIT.split(text)
    deltas = list(map(sub, accumulate(map(len, parts[1::2])), count(1)))
    starts = list(map(add, accumulate(map(len, parts[0:-1:2])), count(1)))
    return [-1, *starts], [0, *deltas]  # with a sentinel, as in `_fold_odd`


@cache
def _non_word_chars() -> frozenset[str]:
    """Non-ASCII characters that are not letters, digits or marks, and emoji."""
    chars = (chr(code) for code in range(0x80, 0x10000))
    found = {char for char in chars if unicodedata.category(char)[0] not in "LNMC"}
    return frozenset(found | set(map(chr, range(0x1F000, 0x1FB00))))


def folder(fold_case: bool = True, fold_accents: bool = True) -> Folder:
    """The shared folder of a variant (built once per process, a few tens of ms)."""
    # Not @cache on this function: `folder()` and `folder(True, True)` would be two keys,
    # and the same tables built twice.
    return _folder(fold_case, fold_accents)


@cache
def _folder(fold_case: bool, fold_accents: bool) -> Folder:
    return Folder(fold_case, fold_accents)


def has_content(term: str) -> bool:
    """Whether a term still has something to look for once normalised."""
    if _ALNUM.search(term):
        return True
    return bool("".join(fold_char(c, True, True) for c in term).strip())
