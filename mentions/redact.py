"""Hiding the values that came from `${ENV}` in everything that leaves the process.

The config loader knows which strings it took from the environment; a `Redactor` built from
them replaces each one with `***` wherever text is shown or stored: config errors, a scan's
stderr, source health in the state, mention records (and so `sources` and `history`).

A value expanded in `keywords:` (a term, an exclude, a query, a name) is what the user
searches for, not a secret, and is not given to the Redactor: hidden in every document
before matching, it could never be found. The same value expanded elsewhere too (a header,
a URL) stays a secret, and those keywords cannot find it (`mentions check` warns of that):
the other way round, a token written into a term would come out in every snippet.

A value shorter than MIN_SECRET_LENGTH is not hidden: such values are ports, numbers, flags
and language codes (`${PORT}` = 8080, `${LANG}` = de), and starring them would garble every
date, count and snippet, while a credential that short protects nothing anyway.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from mentions.errors import FetchError
from mentions.models import Document, Mention

MIN_SECRET_LENGTH = 6
MASK = "***"
# Characters that stay as they are in a path or query: HTTP clients percent-encode the rest
# of a secret put into a URL, and the fetched URL is the one that ends up in a document.
_URL_SAFE = "/:@!$&'()*+,;=~"


# What JavaScript's encodeURIComponent leaves as it is (logs written by web apps use it).
_URI_COMPONENT_SAFE = "-_.!~*'()"
_PERCENT = re.compile(r"%([0-9A-F])([0-9A-F])")


def _form_pattern(form: str) -> str:
    """A regex for one written form of a secret; its `%2F` escapes also match as `%2f`, as
    .NET and many logs write them."""
    pattern = re.escape(form)
    return _PERCENT.sub(lambda found: "%" + "".join(
        f"[{c}{c.lower()}]" if c.isalpha() else c for c in found.groups()), pattern)


class Redactor:
    """Replaces secret values, as written or percent-encoded, with `***`."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.secrets = frozenset(value for value in values if len(value) >= MIN_SECRET_LENGTH)
        forms = {form for value in self.secrets
                 for form in (value, quote(value, safe=""), quote(value, safe=_URL_SAFE), quote_plus(value),
                              quote(value, safe=_URI_COMPONENT_SAFE))}
        # Longest first: a secret that contains another is hidden whole.
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = re.compile("|".join(map(_form_pattern, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def optional(self, text: str | None) -> str | None:
        """The same for a value that may be missing."""
        return None if text is None else self(text)

    def error(self, error: FetchError) -> FetchError:
        """`error` with its URL and detail redacted (the same object when there is nothing to hide)."""
        url, detail = self(error.url), self(error.detail)
        if url == error.url and detail == error.detail:
            return error
        return FetchError(error.reason, url, detail, error.status)

    def document(self, document: Document) -> Document:
        """`document` with its URL, guid, title, author and text redacted."""
        if self._pattern is None:
            return document
        changed = dataclasses.replace(
            document, url=self.optional(document.url), guid=self.optional(document.guid),
            title=self(document.title), author=self.optional(document.author), text=self(document.text),
        )
        return document if changed == document else changed

    def mention(self, mention: Mention) -> Mention:
        """`mention` with its URL, title, author, terms and snippet redacted.

        A snippet that held a secret loses its highlights: their offsets no longer fit, and
        they only decorate the table."""
        if self._pattern is None:
            return mention
        snippet = self(mention.snippet)
        terms = tuple(self(term) for term in mention.terms)
        changed = dataclasses.replace(
            mention, url=self.optional(mention.url), title=self(mention.title),
            author=self.optional(mention.author), terms=terms, snippet=snippet,
            highlights=mention.highlights if snippet == mention.snippet else (),
        )
        return mention if changed == mention else changed
