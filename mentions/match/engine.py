"""The matcher: one Aho-Corasick pass per document, then each triggered query is evaluated.

Per document: normalise title+text once per folding variant in use, run the word-view
automaton (and the literal-view one, only if some term has punctuation), collect the
hits of every term, and evaluate only the keywords that had a hit, plus the few queries
that can match without any term (`NOT spam`, `site:acme.de`, a regex): those run on
every document. Costs grow with the hits, not with the number of keywords.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mentions.errors import QueryError
from mentions.match import nodes
from mentions.match.normalize import folder
from mentions.match.patterns import Pattern, is_whole, patterns_for
from mentions.match.query import And, Near, Node, Not, Or, Regex, Term, parse_query
from mentions.match.snippet import make_snippet
from mentions.models import Document, Match

if TYPE_CHECKING:
    from mentions.match import KeywordRule

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def rule_query(rule: KeywordRule) -> Node:
    """The query of a keyword; `terms` are literal phrases OR'ed, `exclude` is AND NOT."""
    if rule.query is not None:
        return parse_query(rule.query)
    if not rule.terms:
        raise QueryError(f"keyword {rule.name!r} has no terms", 1)
    for term in (*rule.terms, *rule.exclude):
        if not folder().literal(term):
            raise QueryError(f"term {term!r} has nothing to look for", 1)
    wanted: Node = Or(tuple(Term(term) for term in rule.terms))
    if rule.exclude:
        wanted = And((wanted, Not(Or(tuple(Term(term) for term in rule.exclude)))))
    return wanted


class _Scanner:
    """The automata and term tables of one folding variant."""

    def __init__(self, fold_case: bool, fold_accents: bool) -> None:
        self.folder = folder(fold_case, fold_accents)
        self.fold_case = fold_case
        self._word: dict[str, list[tuple[int, int, int]]] = {}
        self._literal: dict[str, list[tuple[int, Pattern]]] = {}
        self.word_automaton: Any = None
        self.literal_automaton: Any = None

    def add(self, term_id: int, term: Term) -> None:
        words, literals = patterns_for(term.text, term.is_prefix, self.folder)
        for pattern in words:
            # Hit (s, e) in " " + word + " " -> core (s + lead - 1, e - trail - 1) in the view.
            entry = (term_id, pattern.lead - 1, pattern.trail + 1)
            self._word.setdefault(pattern.text, []).append(entry)
        for pattern in literals:
            self._literal.setdefault(pattern.text, []).append((term_id, pattern))

    def build(self) -> None:
        from ahocorasick_rs import AhoCorasick

        self.word_patterns = list(self._word)
        self.word_entries = [tuple(self._word[p]) for p in self.word_patterns]
        if self.word_patterns:
            self.word_automaton = AhoCorasick(self.word_patterns)
        self.literal_patterns = list(self._literal)
        self.literal_entries = [tuple(self._literal[p]) for p in self.literal_patterns]
        if self.literal_patterns:
            self.literal_automaton = AhoCorasick(self.literal_patterns)

    def scan(self, view: nodes.View, hits: dict[int, list[tuple[int, int]]]) -> None:
        """Add the hit of every term in `view` to `hits`."""
        if self.word_automaton is not None:
            entries = self.word_entries
            for index, start, end in self.word_automaton.find_matches_as_indexes(
                " " + view.norm.word + " ", overlapping=True
            ):
                for term_id, lead, trail in entries[index]:
                    if term_id in hits:
                        hits[term_id].append((start + lead, end - trail))
                    else:
                        hits[term_id] = [(start + lead, end - trail)]
        if self.literal_automaton is not None:
            text = view.norm.literal
            for index, start, end in self.literal_automaton.find_matches_as_indexes(
                text, overlapping=True
            ):
                for term_id, pattern in self.literal_entries[index]:
                    is_hit, stop = is_whole(text, start, end, pattern)
                    if is_hit:
                        hits.setdefault(term_id, []).append((start, stop))


class Matcher:
    """Match many keyword rules against one document at a time."""

    def __init__(self, rules: Sequence[KeywordRule]) -> None:
        self._rules = list(rules)
        self._scanners: dict[tuple[bool, bool], _Scanner] = {}
        self._term_ids: dict[tuple[tuple[bool, bool], Term], int] = {}
        self._rules_of_term: list[list[int]] = []
        self._compiled: list[nodes.Compiled] = []
        self._variants: list[tuple[bool, bool]] = []
        self._always: list[int] = []
        for index, rule in enumerate(self._rules):
            variant = (not rule.case_sensitive, rule.fold_accents)
            compiled = self._compile(rule_query(rule), variant, index)
            self._compiled.append(compiled)
            self._variants.append(variant)
            if compiled.can_match_without_terms:
                self._always.append(index)
        for scanner in self._scanners.values():
            scanner.build()

    def _compile(self, node: Node, variant: tuple[bool, bool], rule: int) -> nodes.Compiled:
        if isinstance(node, Term) and node.field in (None, "title"):
            key = (variant, Term(node.text, None, node.is_prefix))
            term_id = self._term_ids.get(key)
            if term_id is None:
                term_id = self._term_ids[key] = len(self._rules_of_term)
                self._rules_of_term.append([])
                scanner = self._scanners.get(variant)
                if scanner is None:
                    scanner = self._scanners[variant] = _Scanner(*variant)
                scanner.add(term_id, key[1])
            if not self._rules_of_term[term_id] or self._rules_of_term[term_id][-1] != rule:
                self._rules_of_term[term_id].append(rule)
            return nodes.TermLeaf(term_id, variant, node.field == "title", node.is_prefix)
        if isinstance(node, Term):
            return nodes.FieldLeaf(node.field or "", node.text, folder(*variant))
        if isinstance(node, Regex):
            return nodes.RegexLeaf(node.pattern, variant, node.field == "title")
        if isinstance(node, Not):
            return nodes.NotNode(self._compile(node.child, variant, rule))
        if isinstance(node, And | Or):
            children = tuple(self._compile(child, variant, rule) for child in node.children)
            return nodes.AndNode(children) if isinstance(node, And) else nodes.OrNode(children)
        assert isinstance(node, Near)
        return nodes.NearNode(
            self._compile(node.left, variant, rule),
            self._compile(node.right, variant, rule),
            node.distance,
            node.is_ordered,
        )

    def match(self, document: Document) -> list[Match]:
        """Every keyword that matches `document`, with the evidence, in rule order."""
        context = nodes.Context(document)
        hits = context.hits
        for variant, scanner in self._scanners.items():
            scanner.scan(context.view(variant), hits)
        candidates = set(self._always)
        for term_id in hits:
            candidates.update(self._rules_of_term[term_id])
        found: list[Match] = []
        for index in sorted(candidates):
            result = self._compiled[index].evaluate(context)
            if result is not None:
                variant = self._variants[index]
                found.append(_evidence(self._rules[index].name, context, variant, result))
        return found


def _outermost(hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The hits not inside another one: `acme` in `acme.de` is one mention, not two."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(hits), key=lambda hit: (hit[0], -hit[1])):
        if not kept or end > kept[-1][1]:
            kept.append((start, end))
    return kept


def _evidence(
    name: str, context: nodes.Context, variant: tuple[bool, bool], hits: list[tuple[int, int]]
) -> Match:
    view = context.view(variant)
    original = context.original
    to_original = view.norm.to_original
    if view.norm.anchors:
        spans = [(to_original(s), to_original(e - 1) + 1) for s, e in _outermost(hits)]
    else:
        spans = _outermost(hits)
    surfaces = dict.fromkeys(original[s:e] for s, e in spans)
    terms = tuple(dict.fromkeys(" ".join(t.translate(_INVISIBLE).split()) for t in surfaces))
    title_end = context.title_end
    if spans and spans[0][0] < title_end:  # the first hit is in the title
        low, high = 0, title_end
    else:
        low, high = (title_end + 1 if title_end else 0), len(original)
    inside = [span for span in spans if low <= span[0] and span[1] <= high]
    snippet, highlights = make_snippet(original, inside, low, high)
    return Match(name, terms, len(spans), snippet, highlights)
