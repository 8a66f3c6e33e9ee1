"""The automata of one folding variant, and the hits of each term in a document.

Every term of a variant is in one pair of automata (word view, literal view), scanned
once per document. Some terms are *triggers*: a keyword is evaluated only in a document
where one of its triggers was found. The others (the common words of `w AND (the OR and)`
or `w NEAR/5 price`) trigger nothing, but their hits come with the same pass: a second
pass for them alone, in the documents that need them, cost more than their hits do.

A scan keeps the automaton's hits sorted by pattern: the hits of one term are then a
few slices found by bisection, built only for the keywords that get evaluated.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from mentions.match.normalize import GLUED_SCRIPT, folder
from mentions.match.patterns import Pattern, is_whole, patterns_for

if TYPE_CHECKING:
    from mentions.match.nodes import View

Hits = list[tuple[int, int]]
# The automaton hits of one pattern set in a document: (pattern, start, end), sorted.
Found = tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]
WordPatterns = list[tuple[str, int, int]]  # (text, lead, trail), as `patterns_for` gives them
# Sorting by pattern alone is 5x faster than by whole tuples and gives the same order: the
# automaton reports the hits of one pattern (one length) in the order of their starts.
_PATTERN = itemgetter(0)
_MAX_GATES = 8  # more distinct characters to look for than this: always scan


class PatternSet:
    """Some terms' patterns in two automata, and which rules each pattern triggers."""

    def __init__(self) -> None:
        self._word: dict[str, int] = {}
        self._literal: dict[str, int] = {}
        self.word_rules: list[set[int]] = []
        self.literal_rules: list[set[int]] = []
        # term id -> [(first, last pattern index, lead, trail)] / [(pattern index, Pattern)]
        self.word_of_term: dict[int, list[tuple[int, int, int, int]]] = {}
        self.literal_of_term: dict[int, list[tuple[int, Pattern]]] = {}
        self.word_automaton: Any = None
        # The same patterns, split in two with the other half's places held by patterns no
        # text has: those without and those with a character of GLUED_SCRIPT.
        self.spaced_automaton: Any = None
        self.glued_automaton: Any = None
        self.literal_automaton: Any = None
        self.literal_gates: tuple[str, ...] | None = None
        # The patterns that trigger rules come first (`Scanner.build` adds their terms first):
        # hits sorted by pattern, only those below these counts need a look for rules.
        self.word_triggers = self.literal_triggers = 0

    def add(self, term_id: int, words: WordPatterns, literals: list[Pattern], rules: set[int]) -> None:
        # `rules` may be shared between patterns: merged into a new set, never updated in place.
        runs: list[tuple[int, int, int, int]] = []
        for text, lead, trail in words:
            index = self._word.get(text)
            if index is None:
                index = self._word[text] = len(self.word_rules)
                self.word_rules.append(rules)
            else:
                self.word_rules[index] = self.word_rules[index] | rules
            # Hit (s, e) in " " + word + " " -> core (s + lead - 1, e - trail - 1) in the view;
            # consecutive patterns with the same trims are one run: one bisection finds them.
            lead, trail = lead - 1, trail + 1
            if runs and runs[-1][1] == index - 1 and runs[-1][2:] == (lead, trail):
                runs[-1] = (runs[-1][0], index, lead, trail)
            else:
                runs.append((index, index, lead, trail))
        if runs:
            self.word_of_term[term_id] = runs
        for pattern in literals:
            index = self._literal.get(pattern.text)
            if index is None:
                index = self._literal[pattern.text] = len(self.literal_rules)
                self.literal_rules.append(rules)
            else:
                self.literal_rules[index] = self.literal_rules[index] | rules
            self.literal_of_term.setdefault(term_id, []).append((index, pattern))

    def build(self) -> None:
        from ahocorasick_rs import AhoCorasick

        self.word_triggers = _after_last_rules(self.word_rules)
        self.literal_triggers = _after_last_rules(self.literal_rules)
        if self._word:
            words = list(self._word)
            self.word_automaton = self.spaced_automaton = AhoCorasick(words)
            glued = [GLUED_SCRIPT.search(word) is not None for word in words]
            if any(glued):  # NUL is a space in the word view: `\0{index}` is found nowhere
                held = [f"\0{index}" for index in range(len(words))]
                self.spaced_automaton = AhoCorasick(list(map(_pick, glued, held, words)))
                self.glued_automaton = AhoCorasick(list(map(_pick, glued, words, held)))
        if self._literal:
            self.literal_automaton = AhoCorasick(list(self._literal))
            # A character of each pattern, punctuation if it has some (`#acme`, `@acme`,
            # `acme.de`): a text with none of them needs no literal pass. Most don't.
            gates = {_gate(text) for text in self._literal}
            self.literal_gates = tuple(gates) if len(gates) <= _MAX_GATES else None

    def find(self, view: View) -> Found:
        word: list[tuple[int, int, int]] = []
        literal: list[tuple[int, int, int]] = []
        if self.word_automaton is not None:
            unglued = view.unglued
            if unglued is None:
                word = self.word_automaton.find_matches_as_indexes(view.padded, overlapping=True)
            else:
                # Chinese, Japanese, Thai, Korean in the text: the other terms are looked for
                # with those scripts blanked (`用Acme的鞋`), their own in the text as it is.
                # Each pattern's hits come from one pass, in order: the sort keeps them so.
                word = self.spaced_automaton.find_matches_as_indexes(unglued, overlapping=True)
                if self.glued_automaton is not None:
                    word += self.glued_automaton.find_matches_as_indexes(view.padded, overlapping=True)
            word.sort(key=_PATTERN)
        text = view.norm.literal
        if self.literal_automaton is not None and (
            self.literal_gates is None or any(gate in text for gate in self.literal_gates)
        ):
            literal = self.literal_automaton.find_matches_as_indexes(text, overlapping=True)
            literal.sort(key=_PATTERN)
        return word, literal

    def triggered(self, found: Found, candidates: set[int]) -> None:
        """Add the rules that the patterns in `found` trigger to `candidates`."""
        word, literal = found
        if word:  # one C-level update with the rule sets of every distinct trigger found
            word = word[: bisect_left(word, (self.word_triggers,))]
            candidates.update(*map(self.word_rules.__getitem__, set(map(_PATTERN, word))))
        if literal:
            literal = literal[: bisect_left(literal, (self.literal_triggers,))]
            candidates.update(*map(self.literal_rules.__getitem__, set(map(_PATTERN, literal))))

    def hits_of(self, term_id: int, found: Found, view: View) -> Hits:
        """The (start, end) of every whole-word hit of one term in `view`."""
        hits: Hits = []
        word_hits, literal_hits = found
        for first, last, lead, trail in self.word_of_term.get(term_id, ()):
            low = bisect_left(word_hits, (first,))
            high = bisect_left(word_hits, (last + 1,), low)
            hits += [(start + lead, end - trail) for _, start, end in word_hits[low:high]]
        text = view.norm.literal
        for index, pattern in self.literal_of_term.get(term_id, ()):
            low = bisect_left(literal_hits, (index,))
            high = bisect_left(literal_hits, (index + 1,), low)
            for _, start, end in literal_hits[low:high]:
                is_hit, stop = is_whole(text, start, end, pattern)
                if is_hit:
                    hits.append((start, stop))
        return hits


def _pick(condition: bool, if_true: str, if_false: str) -> str:
    return if_true if condition else if_false


def _after_last_rules(rules: list[set[int]]) -> int:
    """The index after the last pattern that triggers rules."""
    return next((index + 1 for index in range(len(rules) - 1, -1, -1) if rules[index]), 0)


def _gate(pattern: str) -> str:
    """A character every hit of a literal pattern contains: punctuation, rarer than letters."""
    return next((char for char in pattern if not char.isalnum() and char != " "), pattern[0])


class Scanner:
    """The terms of one folding variant: one pass finds them all, triggers or not."""

    def __init__(self, fold_case: bool, fold_accents: bool) -> None:
        self.folder = folder(fold_case, fold_accents)
        self._patterns: dict[int, tuple[WordPatterns, list[Pattern]]] = {}
        self._rules_of_term: dict[int, set[int]] = {}
        self.patterns = PatternSet()

    def add(self, term_id: int, text: str, is_prefix: bool) -> None:
        self._patterns[term_id] = patterns_for(text, is_prefix, self.folder)

    def add_rule(self, term_id: int, rule: int) -> None:
        """Evaluate `rule` whenever a pattern of `term_id` is found."""
        self._rules_of_term.setdefault(term_id, set()).add(rule)

    def build(self) -> None:
        no_rules: set[int] = set()
        # Triggers first: their patterns get the lowest indexes (see `PatternSet.triggered`).
        terms = sorted(self._patterns.items(), key=lambda item: item[0] not in self._rules_of_term)
        for term_id, (words, literals) in terms:
            rules = self._rules_of_term.get(term_id, no_rules)
            self.patterns.add(term_id, words, literals, rules)
        self.patterns.build()
        del self._patterns

    def scan(self, view: View, candidates: set[int]) -> None:
        """Find every term in `view`; add the rules its triggers trigger to `candidates`."""
        view.found = self.patterns.find(view)
        self.patterns.triggered(view.found, candidates)

    def hits_of(self, term_id: int, view: View) -> Hits:
        """The (start, end) of every whole-word hit of one term in `view`."""
        return self.patterns.hits_of(term_id, view.found, view)
