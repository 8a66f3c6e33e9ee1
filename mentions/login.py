"""A login written into a URL (`https://user:pass@host/feed.xml`) as HTTP Basic auth.

aiohttp refuses a URL with user info next to the `Authorization` header httpx makes of it,
so the user info never reaches the transport: `Fetcher.get` takes it off the URL and sends
it as an `Authorization` header, which, like every secret header, goes only to the URL's own
origin (a redirect to another origin drops it). A source's later requests to that origin
(`next` pages, comment feeds) carry it too (`login_for`). Every URL shown or stored is the one
without it. An `Authorization` header the source sets itself wins.

Kept out of `mentions.fetch` so that the config can hide a login without loading httpx.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit


def split_login(url: str) -> tuple[str, str | None]:
    """`url` without its user info, and the `Authorization` value it amounts to (None when
    it has none). User and password are percent-decoded, as RFC 3986 writes them."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")  # a password may hold an unencoded `@`
    start = url.find("//") + 2
    if start > 1 and url.startswith(parts.netloc, start):  # the rest kept byte for byte
        bare = url[:start] + host + url[start + len(parts.netloc) :]
    else:
        bare = urlunsplit(parts._replace(netloc=host))
    if not userinfo:
        return bare, None
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return bare, f"Basic {token}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower().rpartition('@')[2]}"


def has_authorization(headers: Mapping[str, str] | None) -> bool:
    return any(name.lower() == "authorization" for name in headers or {})


def login_for(url: str, location: str) -> str | None:
    """The login of a source's `location` for a `url` on the same origin (its `next` pages,
    comment feeds, sitemap entries: one protected site), else None."""
    bare, login = split_login(location)
    if login is None:
        return None
    try:
        return login if _origin(url) == _origin(bare) else None
    except ValueError:
        return None
