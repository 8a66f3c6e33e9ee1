"""Find keywords in documents.

INTERIM: a plain regex over `terms`/`exclude`, enough for the pipeline to run end to end.
The query language and the Aho-Corasick matcher replace this (issue 3); the interface
(`KeywordRule`, `Matcher.match`, `parse_query`) stays.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from mentions.errors import QueryError
from mentions.models import Document, Match

__all__ = ["KeywordRule", "Matcher", "QueryError", "parse_query"]


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """One keyword as the matcher sees it: either `terms` (+ `exclude`) or a `query`."""

    name: str
    terms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    query: str | None = None
    case_sensitive: bool = False
    fold_accents: bool = True


def parse_query(text: str) -> object:
    """Parse a query; raise QueryError with the column of the first problem."""
    depth = 0
    for column, char in enumerate(text, start=1):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QueryError('unbalanced ")"', column)
    if depth:
        raise QueryError('unbalanced "("', len(text) + 1)
    return text


def _pattern(terms: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(unicodedata.normalize("NFKC", t)) for t in terms)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


class Matcher:
    """Match many keyword rules against one document at a time."""

    def __init__(self, rules: Sequence[KeywordRule]) -> None:
        self._rules = [
            (rule, _pattern(rule.terms), _pattern(rule.exclude) if rule.exclude else None)
            for rule in rules
            if rule.terms
        ]

    def match(self, document: Document) -> list[Match]:
        """Every keyword that matches `document`, with the evidence."""
        text = unicodedata.normalize("NFKC", f"{document.title}\n{document.text}")
        found: list[Match] = []
        for rule, pattern, exclude in self._rules:
            hits = list(pattern.finditer(text))
            if not hits or (exclude and exclude.search(text)):
                continue
            first = hits[0]
            start, end = max(0, first.start() - 60), min(len(text), first.end() + 60)
            snippet = " ".join(text[start:end].split())
            terms = tuple(dict.fromkeys(hit.group(0) for hit in hits))
            found.append(Match(rule.name, terms, len(hits), snippet))
        return found
