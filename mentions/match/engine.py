"""The matcher: one Aho-Corasick pass per document, then each triggered query is evaluated.

Per document: normalise title+text once per folding variant in use, run the word-view
automaton (and the literal-view one, only if some term has punctuation), collect the
hits of every term, and evaluate only the keywords that had a hit, plus the few queries
that can match without any term (`NOT spam`, `site:acme.de`, a regex): those run on
every document. Costs grow with the hits, not with the number of keywords.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections.abc import Sequence
from operator import itemgetter, lt
from typing import TYPE_CHECKING

from mentions.errors import QueryError
from mentions.match import nodes
from mentions.match.normalize import folder, has_content
from mentions.match.query import And, Near, Node, Not, Or, Regex, Term, parse_query
from mentions.match.scanner import Scanner
from mentions.match.snippet import make_snippet
from mentions.models import Document, Match

if TYPE_CHECKING:
    from mentions.match import KeywordRule

SURFACE_HITS = 50  # hits that give terms and highlights; `count` counts them all
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def rule_query(rule: KeywordRule) -> Node:
    """The query of a keyword; `terms` are literal phrases OR'ed, `exclude` is AND NOT."""
    if rule.query is not None:
        return parse_query(rule.query)
    if not rule.terms:
        raise QueryError(f"keyword {rule.name!r} has no terms", 1)
    for term in (*rule.terms, *rule.exclude):
        if not has_content(term):
            raise QueryError(f"term {term!r} has nothing to look for", 1)
    wanted: Node = Or(tuple(Term(term) for term in rule.terms))
    if rule.exclude:
        wanted = And((wanted, Not(Or(tuple(Term(term) for term in rule.exclude)))))
    return wanted


class Matcher:
    """Match many keyword rules against one document at a time."""

    def __init__(self, rules: Sequence[KeywordRule]) -> None:
        # Building allocates some 100,000 objects that all survive: the cyclic collector
        # would rescan them again and again (a quarter of the build time) and find nothing.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._build(rules)
        finally:
            if was_enabled:
                gc.enable()

    def _build(self, rules: Sequence[KeywordRule]) -> None:
        self._rules = list(rules)
        self._scanners: dict[tuple[bool, bool], Scanner] = {}
        self._term_ids: dict[tuple[tuple[bool, bool], str, bool], int] = {}
        self._term_count = 0
        self._compiled: list[nodes.Compiled] = []
        self._variants: list[tuple[bool, bool]] = []
        self._always: list[int] = []
        # Guessing a language costs more than matching: a caller guesses it for every
        # document only when a query asks for `lang:`, else only for the ones that matched.
        self.needs_language = False
        for index, rule in enumerate(self._rules):
            variant = (not rule.case_sensitive, rule.fold_accents)
            compiled = self._compile(rule_query(rule), variant)
            self._compiled.append(compiled)
            self._variants.append(variant)
            triggers = compiled.triggers()
            if triggers is None:
                self._always.append(index)
            else:
                for leaf in triggers:
                    self._scanners[leaf.variant].add_rule(leaf.term_id, index)
        for scanner in self._scanners.values():
            scanner.build()

    def _compile(self, node: Node, variant: tuple[bool, bool]) -> nodes.Compiled:
        if isinstance(node, Term) and node.field in (None, "title"):
            key = (variant, node.text, node.is_prefix)
            term_id = self._term_ids.get(key)
            if term_id is None:
                scanner = self._scanners.get(variant)
                if scanner is None:
                    scanner = self._scanners[variant] = Scanner(*variant)
                term_id = self._term_ids[key] = self._term_count
                self._term_count += 1
                scanner.add(term_id, node.text, node.is_prefix)
            is_title = node.field == "title"
            return nodes.TermLeaf(term_id, variant, is_title, node.is_prefix, len(node.text))
        if isinstance(node, Term):
            self.needs_language = self.needs_language or node.field == "lang"
            return nodes.FieldLeaf(node.field or "", node.text, folder(*variant))
        if isinstance(node, Regex):
            return nodes.RegexLeaf(node.pattern, variant, node.field == "title")
        if isinstance(node, Not):
            return nodes.NotNode(self._compile(node.child, variant))
        if isinstance(node, And | Or) and len(node.children) == 1:  # `terms: [Acme]`
            return self._compile(node.children[0], variant)
        if isinstance(node, And | Or):
            children = tuple(self._compile(child, variant) for child in node.children)
            return nodes.AndNode(children) if isinstance(node, And) else nodes.OrNode(children)
        assert isinstance(node, Near)
        return nodes.NearNode(
            self._compile(node.left, variant),
            self._compile(node.right, variant),
            node.distance,
            node.is_ordered,
        )

    def match(self, document: Document) -> list[Match]:
        """Every keyword that matches `document`, with the evidence, in rule order."""
        context = nodes.Context(document, self._scanners)
        candidates = set(self._always)
        for variant, scanner in self._scanners.items():
            scanner.scan(context.view(variant), candidates)
        found: list[Match] = []
        for index in sorted(candidates):
            result = self._compiled[index].evaluate(context)
            if result is not None:
                variant = self._variants[index]
                found.append(_evidence(self._rules[index].name, context, variant, result))
        return found


def _outermost(hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The hits not inside another one: `acme` in `acme.de` is one mention, not two."""
    if len(hits) == 1:
        return hits
    spans = sorted(set(hits))  # by start, then end: the longest of a start is last
    # Usually no hit is inside another: starts and ends both rise (checked at C speed; a
    # common word can have hundreds of hits in a long document).
    starts, ends = list(map(itemgetter(0), spans)), list(map(itemgetter(1), spans))
    if all(map(lt, starts, starts[1:])) and all(map(lt, ends, ends[1:])):
        return spans
    kept: list[tuple[int, int]] = []
    last_start = last_end = -1
    for start, end in spans:
        if end <= last_end:
            continue
        if start == last_start:
            kept[-1] = (start, end)
        else:
            kept.append((start, end))
        last_start, last_end = start, end
    return kept


def _surface(text: str) -> str:
    """A hit as `terms` shows it: invisible characters dropped, white space collapsed."""
    return " ".join((text if text.isascii() else text.translate(_INVISIBLE)).split())


def _evidence(
    name: str, context: nodes.Context, variant: tuple[bool, bool], hits: list[tuple[int, int]]
) -> Match:
    view = context.view(variant)
    original = context.original
    spans = _outermost(hits)
    count = len(spans)
    if count > SURFACE_HITS:  # a long page can have hundreds; these give terms and snippet
        spans = spans[:SURFACE_HITS]
    if count == 1:  # the common case, without the lists and dicts
        [(start, end)] = spans
        for starts, deltas in view.norm.anchors:
            start += deltas[bisect_right(starts, start) - 1]
            end += deltas[bisect_right(starts, end - 1) - 1]
        spans = [(start, end)]
        terms: tuple[str, ...] = (_surface(original[start:end]),)
    else:
        spans = view.norm.to_original_spans(spans)
        terms = tuple(dict.fromkeys(map(_surface, dict.fromkeys(original[s:e] for s, e in spans))))
    title_end = context.title_end
    body_start = title_end + 1 if title_end else 0
    # The snippet shows the body around its first hit (the title is shown beside it anyway);
    # only a mention in the title alone gets the title as its snippet.
    if not title_end:
        low, high, inside = 0, len(original), spans
    elif not spans or spans[-1][0] >= body_start:
        low, high = body_start, len(original)
        inside = [span for span in spans if body_start <= span[0]]
    else:
        low, high = 0, title_end
        inside = [span for span in spans if span[1] <= title_end]
    snippet, highlights = make_snippet(original, inside, low, high)
    return Match(name, terms, count, snippet, highlights)
