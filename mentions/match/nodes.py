"""Compiled query nodes and the per-document context they are evaluated in.

`evaluate` returns None when the node does not hold, otherwise the hits (normalised
(start, end) offsets) of positive terms that make it hold; `[]` means "holds without a
term hit" (`NOT spam`, `site:acme.de`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from urllib.parse import urlsplit

from mentions.match.normalize import Folder, Normalized, folder
from mentions.models import Document

Hits = list[tuple[int, int]]
_WORD = re.compile(r"\S+")


@dataclass(slots=True)
class View:
    """One document normalised with one folding variant."""

    norm: Normalized
    title_end: int  # normalised offset of the space between title and text (0: no title)
    _word_starts: list[int] | None = None

    def word_index(self, offset: int) -> int:
        """The number of the word at a normalised offset (for NEAR)."""
        if self._word_starts is None:
            self._word_starts = [word.start() for word in _WORD.finditer(self.norm.word)]
        return bisect_right(self._word_starts, offset) - 1


class Context:
    """What one `Matcher.match` call knows about its document.

    `original` is title and text as one string: the coordinates of every original offset.
    """

    def __init__(self, document: Document) -> None:
        self.document = document
        self.original = f"{document.title}\n{document.text}" if document.title else document.text
        self.title_end = len(document.title)
        self.hits: dict[int, Hits] = {}
        self.views: dict[tuple[bool, bool], View] = {}
        self.regex_hits: dict[tuple[str, tuple[bool, bool]], Hits] = {}

    def view(self, variant: tuple[bool, bool]) -> View:
        found = self.views.get(variant)
        if found is None:
            norm = folder(*variant).normalize(self.original)
            title_end = norm.to_normalized(self.title_end) if self.title_end else 0
            found = self.views[variant] = View(norm, title_end)
        return found


class Compiled:
    """A query node ready to evaluate."""

    can_match_without_terms = False

    def evaluate(self, context: Context) -> Hits | None:
        raise NotImplementedError


class TermLeaf(Compiled):
    def __init__(
        self, term_id: int, variant: tuple[bool, bool], in_title: bool, is_prefix: bool
    ) -> None:
        self.term_id, self.variant = term_id, variant
        self.in_title, self.is_prefix = in_title, is_prefix

    def evaluate(self, context: Context) -> Hits | None:
        hits = context.hits.get(self.term_id)
        if not hits:
            return None
        view = context.view(self.variant)
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


class RegexLeaf(Compiled):
    can_match_without_terms = True

    def __init__(self, pattern: str, variant: tuple[bool, bool], in_title: bool) -> None:
        flags = re.IGNORECASE if variant[0] else 0
        self.regex = re.compile(pattern, flags)
        self.key = (pattern, variant)
        self.variant, self.in_title = variant, in_title

    def evaluate(self, context: Context) -> Hits | None:
        hits = context.regex_hits.get(self.key)
        view = context.view(self.variant)
        if hits is None:
            found = self.regex.finditer(view.norm.literal)
            hits = [hit.span() for hit in found if hit.end() > hit.start()]
            context.regex_hits[self.key] = hits
        if self.in_title:
            hits = [hit for hit in hits if hit[1] <= view.title_end]
        return hits or None


class FieldLeaf(Compiled):
    """`author:`, `url:`, `site:`, `lang:`: compared with the document's metadata."""

    can_match_without_terms = True

    def __init__(self, name: str, value: str, fold: Folder) -> None:
        self.name, self.fold = name, fold
        self.value = fold.literal(value) if name == "author" else value.lower().strip()
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
        site = self.value.removeprefix("www.")
        return host == site or host.endswith("." + site)

    def _lang(self, document: Document) -> bool:
        lang = (document.lang or "").lower().replace("_", "-")
        return lang == self.value or lang.startswith(self.value + "-")


def cached_host(url: str) -> str:
    """The host of a URL, lower case, without `www.`; "" when there is none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


class NotNode(Compiled):
    can_match_without_terms = True

    def __init__(self, child: Compiled) -> None:
        self.child = child

    def evaluate(self, context: Context) -> Hits | None:
        return None if self.child.evaluate(context) is not None else []


class AndNode(Compiled):
    def __init__(self, children: tuple[Compiled, ...]) -> None:
        # Cheap, selective children first: term leaves before NOT and metadata.
        self.children = sorted(children, key=lambda child: not isinstance(child, TermLeaf))
        self.can_match_without_terms = all(c.can_match_without_terms for c in children)

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
        self.can_match_without_terms = any(c.can_match_without_terms for c in children)

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

    def evaluate(self, context: Context) -> Hits | None:
        lefts = self.left.evaluate(context)
        rights = self.right.evaluate(context) if lefts else None
        if not lefts or not rights:
            return None
        view = context.view(self.variant)
        index = view.word_index
        rights = sorted(set(rights))
        right_starts = [index(s) for s, _ in rights]
        by_end = sorted((index(e - 1), n) for n, (_, e) in enumerate(rights))
        right_ends = [word for word, _ in by_end]
        used_right: set[int] = set()
        found: Hits = []
        for start, end in set(lefts):
            first, last = index(start), index(end - 1)
            low = bisect_left(right_starts, last + 1)
            high = bisect_right(right_starts, last + 1 + self.distance)
            near = set(range(low, high))
            if not self.is_ordered:
                low = bisect_left(right_ends, first - 1 - self.distance)
                high = bisect_right(right_ends, first - 1)
                near.update(by_end[n][1] for n in range(low, high))
            if near:
                found.append((start, end))
                used_right |= near
        found += [rights[n] for n in sorted(used_right)]
        return found or None


def _variant_of(node: Compiled) -> tuple[bool, bool]:
    if isinstance(node, TermLeaf):
        return node.variant
    if isinstance(node, OrNode | AndNode):
        return _variant_of(node.children[0])
    assert isinstance(node, NearNode)
    return node.variant
