"""Compiled query nodes and the per-document context they are evaluated in.

`evaluate` returns None when the node does not hold, otherwise the hits (normalised
(start, end) offsets) of positive terms that make it hold; `[]` means "holds without a
term hit" (`NOT spam`, `site:acme.de`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from mentions.lang import declared_language
from mentions.match.normalize import GLUED_SCRIPT, Folder, Normalized, folder
from mentions.match.query import compile_regex
from mentions.models import Document

if TYPE_CHECKING:
    from mentions.match.scanner import Found

Hits = list[tuple[int, int]]
# A NEAR side's hits sorted by start, their starts, their indices sorted by end, those ends.
NearSide = tuple[Hits, list[int], list[int], list[int]]
_SHORT_GAP = 400  # characters: a gap this short is split; a longer one counted by bisection
_WORD_RUN = re.compile(r"\S+")  # a word as `str.split` finds it


class Scanner(Protocol):
    """What a context needs of the engine's scanner: the hits of one term."""

    def hits_of(self, term_id: int, view: View) -> Hits: ...


class View:
    """One document normalised with one folding variant, and the automaton hits in it."""

    __slots__ = (
        "_document_title_end",
        "_padded",
        "_unglued",
        "_word_edges",
        "found",
        "norm",
        "title_end_",
    )

    def __init__(self, norm: Normalized, title_end: int) -> None:
        self.norm = norm
        self._document_title_end = title_end
        self.title_end_: int | None = None if title_end else 0
        self.found: Found = ([], [])  # the automaton hits of the scanner's terms
        self._padded: str | None = None
        self._unglued: str | None = None
        self._word_edges: tuple[list[int], list[int]] | None = None  # starts, ends (words_between)

    @property
    def padded(self) -> str:
        """The word view between two spaces: a whole word is `" word "` anywhere in it."""
        if self._padded is None:
            self._padded = " " + self.norm.word + " "
        return self._padded

    @property
    def unglued(self) -> str | None:
        """`padded` with the scripts written without spaces (and Korean) blanked, so that a
        Latin word glued to them (`用Acme的鞋`, `Acme를`) is a whole word; None if it has none.
        Blanked one for one: its offsets are the word view's."""
        if not self.norm.has_glued_script:
            return None
        if self._unglued is None:
            self._unglued = GLUED_SCRIPT.sub(" ", self.padded)
        return self._unglued

    @property
    def title_end(self) -> int:
        """Normalised offset of the space between title and text (0: no title)."""
        if self.title_end_ is None:
            self.title_end_ = self.norm.to_normalized(self._document_title_end)
        return self.title_end_

    def words_between(self, start: int, end: int) -> int:
        """How many words lie in `[start, end)`, in part or whole (for NEAR)."""
        if end - start <= _SHORT_GAP:
            return len(self.norm.word[start:end].split())
        # A long gap (`NEAR/1000`): counted from the offsets of all words, found once, rather
        # than split again for every pair of hits (minutes on a page of thousands of hits).
        if self._word_edges is None:
            spans = [found.span() for found in _WORD_RUN.finditer(self.norm.word)]
            self._word_edges = [a for a, _ in spans], [b for _, b in spans]
        starts, ends = self._word_edges
        return bisect_left(starts, end) - bisect_right(ends, start)


class Context:
    """What one `Matcher.match` call knows about its document.

    `original` is title and text as one string: the coordinates of every original offset.
    """

    __slots__ = (
        "document",
        "leaf_hits",
        "near_sides",
        "original",
        "regex_hits",
        "scanners",
        "title_end",
        "views",
    )

    def __init__(self, document: Document, scanners: Mapping[tuple[bool, bool], Scanner]) -> None:
        self.document = document
        self.scanners = scanners
        self.original = f"{document.title}\n{document.text}" if document.title else document.text
        self.title_end = len(document.title)
        self.leaf_hits: dict[tuple[int, bool], Hits | None] = {}  # TermLeaf results
        self.views: dict[tuple[bool, bool], View] = {}
        self.regex_hits: dict[tuple[str, tuple[bool, bool]], Hits] = {}
        # A NEAR side's hits sorted, and their starts, by leaf: many NEAR keywords share a
        # common word, with hundreds of hits in a long document.
        self.near_sides: dict[tuple[int, bool, bool], NearSide] = {}

    def view(self, variant: tuple[bool, bool]) -> View:
        found = self.views.get(variant)
        if found is None:
            norm = folder(*variant).normalize(self.original)
            found = self.views[variant] = View(norm, self.title_end)
        return found


class Compiled:
    """A query node ready to evaluate."""

    def triggers(self) -> list[TermLeaf] | None:
        """Terms one of which must be found for this node to hold; None: it may hold without.

        A keyword is evaluated only on documents where one of its triggers was found.
        """
        return None

    def evaluate(self, context: Context) -> Hits | None:
        raise NotImplementedError


class TermLeaf(Compiled):
    def __init__(
        self, term_id: int, variant: tuple[bool, bool], in_title: bool, is_prefix: bool, length: int
    ) -> None:
        self.term_id, self.variant = term_id, variant
        self.in_title, self.is_prefix = in_title, is_prefix
        self.length = length  # of the term's text: longer terms are rarer triggers

    def triggers(self) -> list[TermLeaf] | None:
        return [self]

    def evaluate(self, context: Context) -> Hits | None:
        # Keywords share terms (the common words of AND and NEAR queries, with hundreds of
        # hits in a long document): filter their hits once per document.
        key = (self.term_id, self.in_title)
        if key in context.leaf_hits:
            return context.leaf_hits[key]
        found = context.leaf_hits[key] = self._evaluate(context)
        return found

    def _evaluate(self, context: Context) -> Hits | None:
        view = context.view(self.variant)
        hits = context.scanners[self.variant].hits_of(self.term_id, view)
        if not hits:
            return None
        border = view.title_end
        if self.in_title:
            hits = [hit for hit in hits if hit[1] <= border]
        elif border:
            hits = [hit for hit in hits if not hit[0] < border < hit[1]]
        if self.is_prefix:
            word = view.norm.word
            hits = [(start, _word_end(word, end)) for start, end in hits]
        return hits or None


def _word_end(word: str, end: int) -> int:
    space = word.find(" ", end)
    return len(word) if space < 0 else space


# The characters of a case-folded text that IGNORECASE still equates with an ASCII character
# they are not: `ı` (dotless i) is `i`. (The others, `A`-`Z`, `İ`, `ſ`, the Kelvin sign, are
# folded away; tests/test_match_fast.py checks this against every character.)
CASE_RISKS = "ı"
_SAFE_ESCAPES = frozenset("AbBdDsSwWZafnrtv")


def is_case_free(pattern: str) -> bool:
    """Whether IGNORECASE changes nothing for `pattern` on a case-folded text without `ı`.

    True for ASCII patterns without upper-case letters, backreferences or escapes that
    spell a character by its code (`\\x41` is `A`): a lower-case ASCII letter then matches
    only itself, and its upper-case forms are not in a case-folded text. Conservative: any
    doubt keeps IGNORECASE, which is only slower (4-5x on a typical document).
    """
    if not pattern.isascii() or "(?P=" in pattern:
        return False
    escaped = False
    for char in pattern:
        if escaped:
            if char.isalnum() and char not in _SAFE_ESCAPES:
                return False
            escaped = False
        elif char == "\\":
            escaped = True
        elif char.isupper():
            return False
    return True


class RegexLeaf(Compiled):
    def __init__(self, pattern: str, variant: tuple[bool, bool], in_title: bool) -> None:
        flags = re.IGNORECASE if variant[0] else 0
        self.regex = compile_regex(pattern, flags)
        # The text is case-folded already: most patterns need no IGNORECASE, which keeps
        # `re` from its literal-prefix search and costs ~4x on every document.
        self.fast = compile_regex(pattern, 0) if variant[0] and is_case_free(pattern) else self.regex
        self.key = (pattern, variant)
        self.variant, self.in_title = variant, in_title

    def evaluate(self, context: Context) -> Hits | None:
        hits = context.regex_hits.get(self.key)
        view = context.view(self.variant)
        if hits is None:
            text = view.norm.literal
            regex = self.fast if CASE_RISKS not in text else self.regex
            found = regex.finditer(text)
            hits = [hit.span() for hit in found if hit.end() > hit.start()]
            context.regex_hits[self.key] = hits
        if self.in_title:
            hits = [hit for hit in hits if hit[1] <= view.title_end]
        return hits or None


class FieldLeaf(Compiled):
    """`author:`, `url:`, `site:`, `lang:`: compared with the document's metadata."""

    def __init__(self, name: str, value: str, fold: Folder) -> None:
        self.name, self.fold = name, fold
        self.value = fold.literal(value) if name == "author" else value.lower().strip()
        if name == "lang":
            # Documents carry the language only (`de`, from `de-AT` or a guess): a region
            # could never match, so `lang:de-AT` means German.
            self.value = declared_language(self.value) or self.value
        self.is_match = getattr(self, f"_{name}")

    def evaluate(self, context: Context) -> Hits | None:
        return [] if self.is_match(context.document) else None

    def _author(self, document: Document) -> bool:
        author = f" {self.fold.normalize(document.author or '').word} "
        return f" {self.fold.normalize(self.value).word.strip()} " in author

    def _url(self, document: Document) -> bool:
        return self.value in (document.url or "").lower()

    def _site(self, document: Document) -> bool:
        host = cached_host(document.url or "")
        site = self.value.rstrip(".").removeprefix("www.")
        return host == site or host.endswith("." + site)

    def _lang(self, document: Document) -> bool:
        lang = (document.lang or "").lower().replace("_", "-")
        return lang == self.value or lang.startswith(self.value + "-")


def cached_host(url: str) -> str:
    """The host of a URL, lower case, without `www.` and the root's dot; "" when there is none.

    `acme.de.` is the fully qualified spelling of `acme.de`: the same site for `site:`.
    """
    from urllib.parse import urlsplit

    from mentions.match.query import ascii_host

    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return ascii_host(host).rstrip(".").removeprefix("www.")


class NotNode(Compiled):
    def __init__(self, child: Compiled) -> None:
        self.child = child

    def evaluate(self, context: Context) -> Hits | None:
        return None if self.child.evaluate(context) is not None else []


class AndNode(Compiled):
    def __init__(self, children: tuple[Compiled, ...]) -> None:
        # Cheap, selective children first: term leaves before NOT and metadata.
        self.children = sorted(children, key=lambda child: not isinstance(child, TermLeaf))

    def triggers(self) -> list[TermLeaf] | None:
        # Any one child's triggers will do: take the fewest, longest terms (likely rarest).
        options = [found for child in self.children if (found := child.triggers()) is not None]
        return min(options, key=_cost) if options else None

    def evaluate(self, context: Context) -> Hits | None:
        found: Hits = []
        for child in self.children:
            hits = child.evaluate(context)
            if hits is None:
                return None
            found += hits
        return found


class OrNode(Compiled):
    def __init__(self, children: tuple[Compiled, ...]) -> None:
        self.children = children

    def triggers(self) -> list[TermLeaf] | None:
        found: list[TermLeaf] = []
        for child in self.children:
            more = child.triggers()
            if more is None:
                return None
            found += more
        return found

    def evaluate(self, context: Context) -> Hits | None:
        found: Hits | None = None
        for child in self.children:
            hits = child.evaluate(context)
            if hits is not None:
                found = hits if found is None else found + hits
        return found


class NearNode(Compiled):
    """Both sides at most `distance` words apart (words in between, not counting either)."""

    def __init__(self, left: Compiled, right: Compiled, distance: int, is_ordered: bool) -> None:
        self.left, self.right, self.distance, self.is_ordered = left, right, distance, is_ordered
        self.variant = _variant_of(left)
        # A term's hits depend on nothing else: sorted once per document for every NEAR.
        self.right_key = (
            (right.term_id, right.in_title, right.is_prefix) if isinstance(right, TermLeaf) else None
        )

    def triggers(self) -> list[TermLeaf] | None:
        options = [found for side in (self.left, self.right) if (found := side.triggers())]
        return min(options, key=_cost) if options else None

    def evaluate(self, context: Context) -> Hits | None:
        lefts = self.left.evaluate(context)
        rights = self.right.evaluate(context) if lefts else None
        if not lefts or not rights:
            return None
        view = context.view(self.variant)
        key = self.right_key
        cached = context.near_sides.get(key) if key else None
        if cached is None:
            ordered = sorted(set(rights))
            by_end = sorted(range(len(ordered)), key=lambda n: ordered[n][1])
            cached = ordered, [start for start, _ in ordered], by_end, [ordered[n][1] for n in by_end]
            if key:
                context.near_sides[key] = cached
        rights, starts, by_end, ends = cached
        far = self._is_far
        after: list[tuple[int, int]] = []  # ranges of rights (by start) near a left hit before them
        before: list[tuple[int, int]] = []  # ranges of rights (by end) near a left hit after them
        found: Hits = []
        for left in sorted(set(lefts)):
            # The rights after the left hit that are near it are the first ones from `low`
            # on (more words between as they start later); those before it, the last ones
            # ending by its start. A galloping search finds where each run ends: one check
            # when there is none, a few when thousands are near (`NEAR/1000`).
            left_start, left_end = left

            def is_far_after(n: int) -> bool:
                return far(view, left_end, starts[n])  # noqa: B023 - used within this turn

            def is_near_before(k: int) -> bool:
                return not far(view, ends[k], left_start)  # noqa: B023 - used within this turn

            low = bisect_left(starts, left_end)
            high = _first(low, len(rights), is_far_after)
            is_near = high > low
            if is_near:
                after.append((low, high))
            if not self.is_ordered:
                stop = bisect_right(ends, left_start)  # rights ending by the left hit's start
                first = _last_run(stop, is_near_before)
                if first < stop:
                    before.append((first, stop))
                    is_near = True
            if is_near:
                found.append(left)
        used = {n for low, high in _merged(after) for n in range(low, high)}
        used.update(by_end[k] for low, high in _merged(before) for k in range(low, high))
        found += [rights[n] for n in sorted(used)]
        return found or None

    def _is_far(self, view: View, start: int, end: int) -> bool:
        # Words average well under 50 characters: a longer gap is not worth counting.
        return end - start > 50 * (self.distance + 2) or view.words_between(start, end) > self.distance


def _first(low: int, high: int, is_past: Callable[[int], bool]) -> int:
    """The first n in [low, high) where `is_past(n)` holds (it holds from some n on), else
    high: galloping from `low`, then bisecting."""
    step, last_before = 1, low - 1
    while low < high and not is_past(low):
        last_before = low
        low = min(high, low + step)
        step *= 2
    # is_past holds at `low` (or low == high); the first such n lies in (last_before, low].
    lo, hi = last_before + 1, low
    while lo < hi:
        middle = (lo + hi) // 2
        if is_past(middle):
            hi = middle
        else:
            lo = middle + 1
    return lo


def _last_run(stop: int, holds: Callable[[int], bool]) -> int:
    """The first k of the run before `stop` where `holds(k)` is true all the way to `stop`
    (it holds from some k on); `stop` when it holds for none. `_first`, counted backwards."""
    return stop - _first(0, stop, lambda back: not holds(stop - 1 - back))


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping [low, high) ranges joined, so each index is visited once."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _cost(leaves: list[TermLeaf]) -> tuple[int, int]:
    return len(leaves), -min(leaf.length for leaf in leaves)


def _variant_of(node: Compiled) -> tuple[bool, bool]:
    if isinstance(node, TermLeaf):
        return node.variant
    if isinstance(node, OrNode | AndNode):
        return _variant_of(node.children[0])
    assert isinstance(node, NearNode)
    return node.variant
