"""The small frozen values that flow between the stages of a scan.

config -> sources -> fetch -> extract -> match -> state -> output
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Pickle as (class, field values). Documents and mentions cross to and from worker
    processes by the ten thousand; the default for slotted dataclasses calls `fields()` and
    builds a dict for every object, a third of the cost of that traffic."""
    values = operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: T) -> tuple[type[T], tuple[object, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Document:
    """One piece of text people wrote: a feed entry, a page, a forum post, a line of a file."""

    source: str
    source_type: str
    text: str
    title: str = ""
    url: str | None = None
    author: str | None = None
    published: datetime | None = None  # timezone-aware UTC, or None
    guid: str | None = None
    lang: str | None = None
    # False when `url` is the page an item sits on rather than the item's own link.
    is_permalink: bool = True


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Match:
    """Why one keyword matched one document.

    `terms` are the surface forms as written in the text, in order of first appearance;
    `highlights` are (start, end) offsets of the hits inside `snippet`.
    """

    keyword: str
    terms: tuple[str, ...]
    count: int
    snippet: str
    highlights: tuple[tuple[int, int], ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Mention:
    """A keyword found in a document: the record written as one JSON line."""

    id: str
    keyword: str
    tags: tuple[str, ...]
    source: str
    source_type: str
    url: str | None
    title: str
    author: str | None
    published: datetime | None
    found_at: datetime
    terms: tuple[str, ...]
    count: int
    snippet: str
    lang: str | None
    highlights: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, match: Match, document: Document, *, id: str, tags: tuple[str, ...],
           found_at: datetime) -> Mention:
        """The mention `match` makes of `document`: where it is from, and why it matched."""
        return cls(
            id=id, keyword=match.keyword, tags=tags, source=document.source,
            source_type=document.source_type, url=document.url, title=document.title,
            author=document.author, published=document.published, found_at=found_at,
            terms=match.terms, count=match.count, snippet=match.snippet, lang=document.lang,
            highlights=match.highlights,
        )
