"""robots.txt, fetched once per origin per run and obeyed as RFC 9309 says.

- 2xx: parse it (protego); 4xx: no rules, everything is allowed;
- 5xx, 429 or no answer in time: the server is "unreachable": fetch nothing from it;
- a failed connection is reported as that, since the page fetch would fail the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from mentions.errors import FetchError

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB


@dataclass(frozen=True, slots=True)
class RobotsAnswer:
    """What fetching /robots.txt gave: a status and (at most ROBOTS_MAX_BYTES of) body."""

    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class _Rules:
    parser: Protego | None  # None: no rules (4xx)
    refusal: str | None  # why nothing may be fetched from this origin, or None


FetchRobots = Callable[[str, str | None], Awaitable[RobotsAnswer]]  # (robots URL, proxy)


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, the scope of one robots.txt."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower().rsplit('@', 1)[-1]}"


class RobotsCache:
    """One robots.txt per origin (and proxy) for the whole run; concurrent asks share one fetch.

    Each is fetched the way the page will be, through the same proxy or none: a source that
    goes direct never contacts the proxy, not even for robots.txt."""

    def __init__(self, user_agent: str, fetch: FetchRobots) -> None:
        self._user_agent = user_agent
        self._fetch = fetch
        self._rules: dict[tuple[str, str | None], asyncio.Future[_Rules]] = {}

    async def check(self, url: str, proxy: str | None = None) -> None:
        """Return if robots.txt lets us fetch `url`; raise FetchError("robots.txt") if not."""
        origin = origin_of(url)
        key = (origin, proxy)
        future = self._rules.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._rules[key] = future
            try:
                future.set_result(await self._load(origin, proxy))
            except BaseException as error:
                # A connection failure is not remembered: the next source may find it up.
                del self._rules[key]
                shared = (
                    error
                    if isinstance(error, Exception)
                    else FetchError("timeout", origin, "robots.txt fetch was interrupted")
                )
                future.set_exception(shared)
                future.exception()  # mark retrieved: the waiters re-raise it themselves
                raise
        rules = await asyncio.shield(future)
        if rules.refusal is not None:
            raise FetchError("robots.txt", url, rules.refusal)
        if rules.parser is not None and not rules.parser.can_fetch(url, self._user_agent):
            raise FetchError("robots.txt", url, "disallowed by robots.txt")

    async def _load(self, origin: str, proxy: str | None) -> _Rules:
        robots_url = origin + "/robots.txt"
        try:
            answer = await self._fetch(robots_url, proxy)
        except FetchError as error:
            if error.reason == "timeout":
                return _Rules(None, "robots.txt did not answer in time; not fetching this site")
            if error.reason in ("http status", "rate-limited", "bot challenge") and (
                error.status is None or error.status >= 500 or error.status == 429
            ):
                return _Rules(None, f"robots.txt answered {error.detail}; not fetching this site")
            if error.reason in ("http status", "bot challenge"):
                return _Rules(None, None)  # 4xx: no robots.txt, everything allowed
            if error.reason in ("redirect", "blocked address", "unsupported url"):
                return _Rules(None, None)  # a robots.txt we cannot follow counts as absent
            if error.reason in ("connection failed", "protocol error"):
                raise FetchError(error.reason, origin, error.detail) from None
            return _Rules(None, f"robots.txt unusable ({error.reason}); not fetching this site")
        if 400 <= answer.status < 500 and answer.status != 429:
            return _Rules(None, None)
        if answer.status >= 300:
            return _Rules(None, f"robots.txt answered HTTP {answer.status}; not fetching this site")
        text = answer.body.decode("utf-8", "replace")
        return _Rules(Protego.parse(text), None)
