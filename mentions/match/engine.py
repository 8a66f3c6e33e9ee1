"""The matcher: one Aho-Corasick pass per document, then each triggered query is evaluated.

Per document: normalise title+text once per folding variant in use, run the word-view
automaton (and the literal-view one, only if some term has punctuation), collect the
hits of every term, and evaluate only the keywords that had a hit, plus the few queries
that can match without any term (`NOT spam`, `site:acme.de`, a regex): those run on
every document. Costs grow with the hits, not with the number of keywords.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from mentions.errors import QueryError
from mentions.match import nodes
from mentions.match.normalize import folder, has_content
from mentions.match.patterns import Pattern, is_whole, patterns_for
from mentions.match.query import And, Near, Node, Not, Or, Regex, Term, parse_query
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


class _Scanner:
    """The automata and term tables of one folding variant.

    A scan keeps the automaton's hits sorted by pattern: the hits of one term are then a
    few slices found by bisection, built only for the keywords that get evaluated.
    """

    def __init__(self, fold_case: bool, fold_accents: bool) -> None:
        self.folder = folder(fold_case, fold_accents)
        self._word: dict[str, int] = {}
        self._literal: dict[str, int] = {}
        self._word_rules: dict[int, set[int]] = {}
        self._literal_rules: dict[int, set[int]] = {}
        # term id -> [(first, last pattern index, lead, trail)] / [(pattern index, Pattern)]
        self.word_of_term: dict[int, list[tuple[int, int, int, int]]] = {}
        self.literal_of_term: dict[int, list[tuple[int, Pattern]]] = {}
        self.word_automaton: Any = None
        self.literal_automaton: Any = None

    def add(self, term_id: int, term: Term) -> None:
        words, literals = patterns_for(term.text, term.is_prefix, self.folder)
        for text, lead, trail in words:
            index = self._word.setdefault(text, len(self._word))
            # Hit (s, e) in " " + word + " " -> core (s + lead - 1, e - trail - 1) in the view.
            entry = (index, index, lead - 1, trail + 1)
            self.word_of_term.setdefault(term_id, []).append(entry)
        for pattern in literals:
            index = self._literal.setdefault(pattern.text, len(self._literal))
            self.literal_of_term.setdefault(term_id, []).append((index, pattern))

    def add_rule(self, term_id: int, rule: int) -> None:
        """Evaluate `rule` whenever a pattern of `term_id` is found."""
        for first, last, _, _ in self.word_of_term.get(term_id, ()):
            for index in range(first, last + 1):
                self._word_rules.setdefault(index, set()).add(rule)
        for index, _ in self.literal_of_term.get(term_id, ()):
            self._literal_rules.setdefault(index, set()).add(rule)

    def build(self) -> None:
        from ahocorasick_rs import AhoCorasick

        for term_id, entries in self.word_of_term.items():
            self.word_of_term[term_id] = _runs(entries)
        self.word_rules = [self._word_rules.get(n, set()) for n in range(len(self._word))]
        self.literal_rules = [self._literal_rules.get(n, set()) for n in range(len(self._literal))]
        if self._word:
            self.word_automaton = AhoCorasick(list(self._word))
        if self._literal:
            self.literal_automaton = AhoCorasick(list(self._literal))

    def scan(self, view: nodes.View, candidates: set[int]) -> None:
        """Find every pattern in `view`; add the rules they trigger to `candidates`."""
        if self.word_automaton is not None:
            found = self.word_automaton.find_matches_as_indexes(
                " " + view.norm.word + " ", overlapping=True
            )
            found.sort()
            view.word_hits = found
            rules = self.word_rules
            for index in set(map(itemgetter(0), found)):
                candidates.update(rules[index])
        if self.literal_automaton is not None:
            found = self.literal_automaton.find_matches_as_indexes(
                view.norm.literal, overlapping=True
            )
            found.sort()
            view.literal_hits = found
            rules = self.literal_rules
            for index in set(map(itemgetter(0), found)):
                candidates.update(rules[index])

    def hits_of(self, term_id: int, view: nodes.View) -> list[tuple[int, int]]:
        """The (start, end) of every whole-word hit of one term in `view`."""
        hits: list[tuple[int, int]] = []
        for first, last, lead, trail in self.word_of_term.get(term_id, ()):
            found = view.word_hits
            low = bisect_left(found, (first,))
            high = bisect_left(found, (last + 1,), low)
            hits += [(start + lead, end - trail) for _, start, end in found[low:high]]
        text = view.norm.literal
        for index, pattern in self.literal_of_term.get(term_id, ()):
            found = view.literal_hits
            low = bisect_left(found, (index,))
            high = bisect_left(found, (index + 1,), low)
            for _, start, end in found[low:high]:
                is_hit, stop = is_whole(text, start, end, pattern)
                if is_hit:
                    hits.append((start, stop))
        return hits


def _runs(entries: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Consecutive pattern indexes with the same trims as one range: one bisection each."""
    runs: list[tuple[int, int, int, int]] = []
    for first, last, lead, trail in sorted(entries):
        if runs and runs[-1][1] == first - 1 and runs[-1][2:] == (lead, trail):
            runs[-1] = (runs[-1][0], last, lead, trail)
        else:
            runs.append((first, last, lead, trail))
    return runs


class Matcher:
    """Match many keyword rules against one document at a time."""

    def __init__(self, rules: Sequence[KeywordRule]) -> None:
        self._rules = list(rules)
        self._scanners: dict[tuple[bool, bool], _Scanner] = {}
        self._term_ids: dict[tuple[tuple[bool, bool], Term], int] = {}
        self._term_count = 0
        self._compiled: list[nodes.Compiled] = []
        self._variants: list[tuple[bool, bool]] = []
        self._always: list[int] = []
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
            key = (variant, Term(node.text, None, node.is_prefix))
            scanner = self._scanners.get(variant)
            if scanner is None:
                scanner = self._scanners[variant] = _Scanner(*variant)
            term_id = self._term_ids.get(key)
            if term_id is None:
                term_id = self._term_ids[key] = self._term_count
                self._term_count += 1
                scanner.add(term_id, key[1])
            is_title = node.field == "title"
            return nodes.TermLeaf(term_id, variant, is_title, node.is_prefix, len(node.text))
        if isinstance(node, Term):
            return nodes.FieldLeaf(node.field or "", node.text, folder(*variant))
        if isinstance(node, Regex):
            return nodes.RegexLeaf(node.pattern, variant, node.field == "title")
        if isinstance(node, Not):
            return nodes.NotNode(self._compile(node.child, variant))
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
    spans = _outermost(hits)
    count = len(spans)
    spans = spans[:SURFACE_HITS]  # a long page can have hundreds; these give terms and snippet
    if view.norm.anchors:
        starts = view.norm.to_original_many([start for start, _ in spans])
        ends = view.norm.to_original_many([end - 1 for _, end in spans])
        spans = [(start, end + 1) for start, end in zip(starts, ends, strict=True)]
    surfaces = dict.fromkeys(original[s:e] for s, e in spans)
    terms = tuple(dict.fromkeys(" ".join(t.translate(_INVISIBLE).split()) for t in surfaces))
    title_end = context.title_end
    body_start = title_end + 1 if title_end else 0
    # The snippet shows the body around its first hit (the title is shown beside it anyway);
    # only a mention in the title alone gets the title as its snippet.
    if any(start >= body_start for start, _ in spans) or not spans:
        low, high = body_start, len(original)
    else:
        low, high = 0, title_end
    inside = [span for span in spans if low <= span[0] and span[1] <= high]
    snippet, highlights = make_snippet(original, inside, low, high)
    return Match(name, terms, count, snippet, highlights)
