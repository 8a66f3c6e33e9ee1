"""Find keywords in documents: the query language and the matcher.

    query.py      text -> a tree of Term/Regex/Not/And/Or/Near (QueryError with a column)
    normalize.py  a document -> literal and word views + a map back to original offsets
    patterns.py   terms -> Aho-Corasick patterns and whole-word rules
    engine.py     Matcher: one automaton pass per document, then triggered queries only
    nodes.py      compiled query nodes, evaluated against a document's hits
    snippet.py    the original text around the first hit
    slow_regex.py which `/regex/` terms can take exponential time (`mentions check` warns)

Importing this package is cheap: the automaton library loads when a Matcher is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mentions.errors import QueryError
from mentions.match.query import parse_query

if TYPE_CHECKING:
    from mentions.match.engine import Matcher

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


def __getattr__(name: str) -> Any:
    """`Matcher` loads on first use: the config only needs `parse_query` and `KeywordRule`."""
    if name == "Matcher":
        from mentions.match.engine import Matcher

        return Matcher
    raise AttributeError(name)
