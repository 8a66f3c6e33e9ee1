"""Links found in documents, resolved against the feed or page they came from."""

from __future__ import annotations

import re
from urllib.parse import urljoin

# An absolute http(s) URL that `urljoin` would give back unchanged: a plain host, no empty
# query or fragment, no `;params`, no white space (urllib strips or drops those).
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[^\s?#;]*)?(?:\?[^\s#]+)?(?:#\S+)?")


def absolute(base: str, link: str) -> str | None:
    """`urljoin(base, link)`, None for a link urllib cannot read (`http://[`).

    Most feed links are absolute already, and parsing them (and the base, again for every
    entry) was a quarter of the fast path's time."""
    if _PLAIN_URL.fullmatch(link):
        return link
    try:
        return urljoin(base, link)
    except ValueError:  # one entry's broken link must not fail the whole feed
        return None
