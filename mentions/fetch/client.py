"""`Fetcher.get`: one URL to one complete `Response`, or a `FetchError` a person understands.

Per call, in this order:
1. the URL must be http(s); a guarded request (chosen by remote content, or a redirect away
   from a public address) may only reach public addresses (`netguard`);
2. robots.txt of the origin is obeyed (`robots`), fetched once per run;
3. the request waits for a slot (total and per-host concurrency, delay between requests to a
   host), then runs with connect/read deadlines and a total deadline per attempt;
4. connect errors, resets, 429 and 5xx are retried with backoff and jitter, honouring
   Retry-After up to a cap; the whole call has a bound that follows from the config
   (`Fetcher.request_bound`), not counting time spent queueing for a slot;
5. the body is streamed raw and decompressed by us with bounded decoders (`decompress`), cut
   at `max_bytes` of decoded data: too large fails, there is never a partial body;
6. redirects are followed by us (at most 10, http(s) only, loops detected); headers that look
   secret are not sent to another origin. A login in the URL (`user:pass@`) is one of them:
   it leaves the URL and becomes an `Authorization` header (`login`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from mentions.config import HttpConfig
from mentions.errors import FetchError
from mentions.fetch.attempt import (
    REDIRECT_STATUSES,
    Transient,
    attempt,
    check_scheme,
    describe,
    judge,
    redirect_target,
)
from mentions.fetch.classify import is_secret_header, redact_url
from mentions.fetch.netguard import AddressPolicy, BlockedAddress, Resolver, check_host, resolve
from mentions.fetch.pools import Pools, route
from mentions.fetch.response import Response
from mentions.fetch.robots import ROBOTS_MAX_BYTES, RobotsAnswer, RobotsCache, origin_of
from mentions.login import has_authorization, split_login

log = logging.getLogger("mentions.fetch")

MAX_REDIRECTS = 10
MAX_ROBOTS_REDIRECTS = 5  # RFC 9309 §2.3.1.2
MAX_WAIT = 30.0  # longest Retry-After or backoff we sleep; beyond it the source is reported


@dataclass(slots=True)
class _Budget:
    """The total deadline of one `get`, pushed back by the time spent queueing for a slot."""

    scope: asyncio.Timeout

    def extend(self, seconds: float) -> None:
        when = self.scope.when()
        if when is not None and seconds > 0:
            self.scope.reschedule(when + seconds)


def _merged(headers: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """`headers` with `overrides` in place of theirs, names compared as HTTP does (any case):
    a source's `authorization` replaces the config's `Authorization`, never joins it."""
    replaced = {name.lower() for name in overrides}
    return {**{k: v for k, v in headers.items() if k.lower() not in replaced}, **overrides}


class Fetcher:
    """An async HTTP client with the config's limits; use as `async with Fetcher(http) as f`.

    Connection pools live for the whole run (`pools.Pools`: one per proxy and guard).
    `address_policy` and `resolver` exist so tests can pretend an address is public.
    """

    def __init__(
        self,
        http: HttpConfig,
        *,
        address_policy: AddressPolicy | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._http = http
        self._policy = address_policy or AddressPolicy()
        self._resolver: Resolver = resolver or resolve
        self._all = asyncio.Semaphore(http.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(http.per_host)
        )
        self._next_start: dict[str, float] = {}
        self._pools: Pools | None = None
        self._robots = RobotsCache(http.user_agent, self._fetch_robots)

    async def __aenter__(self) -> Fetcher:
        self._pools = Pools(self._http, self._policy, self._resolver)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pools, self._pools = self._pools, None
        if pools is not None:
            await pools.aclose()

    def request_bound(self, timeout: float | None = None) -> float:
        """Seconds one `get` may take at most, slot queueing aside: robots.txt, every attempt,
        every wait between attempts."""
        limit = timeout or self._http.timeout
        retries = self._http.retries
        return limit * (retries + 2) + retries * min(limit, MAX_WAIT) + 1.0

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        is_remote_choice: bool = False,
        chosen_by: str | None = None,
        robots: bool | None = None,
        proxy: str | None = None,
        cookies: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """GET `url`; a complete Response (200-299 or 304) or FetchError, never anything else.

        `is_remote_choice` marks URLs chosen by remote content (next links, sitemap entries,
        discovered feeds): those may only reach public addresses. Pass `chosen_by` (the URL of
        the page that chose it) and a choice made by a page on a private address (an intranet
        forum named in the config) may stay inside; from a public page it may not.
        `proxy`: None takes `http.proxy`; `""` or `none` goes direct, past every proxy.
        """
        if self._pools is None:
            raise RuntimeError("use Fetcher as an async context manager")
        check_scheme(url)
        url, login = split_login(url)
        limit = timeout or self._http.timeout
        bound = self.request_bound(limit)
        request_headers = _merged(self._http.headers, headers or {})
        if login is not None and not has_authorization(headers):
            # the URL's login is more specific than `http: headers`, a source's own less
            request_headers = _merged(request_headers, {"Authorization": login})
        if cookies:
            request_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        started = time.monotonic()
        try:
            async with asyncio.timeout(bound) as scope:
                if is_remote_choice and chosen_by is not None:
                    is_remote_choice = await self._is_public(chosen_by)
                response = await self._follow(
                    url,
                    request_headers,
                    _Budget(scope),
                    limit=limit,
                    is_guarded=is_remote_choice,
                    use_robots=self._http.robots if robots is None else robots,
                    proxy=route(self._http.proxy if proxy is None else proxy),
                    max_bytes=max_bytes or self._http.max_bytes,
                )
        except TimeoutError:
            raise FetchError("timeout", redact_url(url), f"no complete answer within {bound:g} s") from None
        except FetchError as error:
            log.debug("GET %s failed: %s", redact_url(url), error)
            raise
        except Exception as error:  # a bug here must not become a traceback for the user
            log.debug("GET %s: unexpected %r", redact_url(url), error, exc_info=True)
            raise FetchError("protocol error", redact_url(url), type(error).__name__) from None
        log.debug(
            "GET %s -> %d, %d bytes in %.2f s",
            redact_url(url),
            response.status,
            len(response.body),
            time.monotonic() - started,
        )
        return response

    async def _follow(
        self,
        url: str,
        headers: dict[str, str],
        budget: _Budget,
        *,
        limit: float,
        is_guarded: bool,
        use_robots: bool,
        proxy: str | None,
        max_bytes: int,
    ) -> Response:
        """Follow redirects ourselves: only http(s), no loops, secrets kept to their origin."""
        first_origin = origin_of(url)
        seen = {url}
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            if is_guarded:
                await self._check_address(current, proxy)
            if use_robots:
                await self._robots.check(current, proxy)
            hop_headers = (
                headers
                if origin_of(current) == first_origin
                else {name: value for name, value in headers.items() if not is_secret_header(name)}
            )
            response = await self._with_retries(
                current,
                hop_headers,
                budget,
                limit=limit,
                is_guarded=is_guarded,
                proxy=proxy,
                max_bytes=max_bytes,
            )
            if response.status not in REDIRECT_STATUSES:
                return response  # _judge let a redirect through only with a Location
            # A login in a Location is not ours to send: it is dropped, as secrets are.
            target = split_login(redirect_target(current, response.headers["location"]))[0]
            if target in seen:
                raise FetchError("redirect", redact_url(url), "redirect loop")
            seen.add(target)
            if not is_guarded and await self._is_public(current):
                is_guarded = True  # from here on, a redirect may not lead inside
            current = target
        raise FetchError("redirect", redact_url(url), f"more than {MAX_REDIRECTS} redirects")

    async def _with_retries(
        self,
        url: str,
        headers: Mapping[str, str],
        budget: _Budget,
        *,
        limit: float,
        is_guarded: bool,
        proxy: str | None,
        max_bytes: int,
    ) -> Response:
        """One hop: attempts with backoff and jitter until an answer or no retries are left."""
        pools = self._open_pools()
        attempts = self._http.retries + 1
        cap = min(limit, MAX_WAIT)
        for number in range(attempts):
            try:
                async with self._slot(url, budget):
                    client = pools.client_for(proxy, is_guarded, url)
                    response = await attempt(client, url, headers, limit, max_bytes)
                return judge(response, url)
            except Transient as transient:
                wait = transient.retry_after
                if wait is not None and wait > cap:
                    error = transient.error
                    if error.status == 429:
                        raise FetchError(
                            "rate-limited",
                            error.url,
                            f"HTTP 429, retry after {wait:.0f} s",
                            429,
                        ) from None
                    raise FetchError(
                        error.reason,
                        error.url,
                        f"{error.detail}, retry after {wait:.0f} s",
                        error.status,
                    ) from None
                if number == attempts - 1:
                    raise transient.error from None
                if wait is None:
                    wait = min(cap, 0.5 * 2**number) * random.uniform(0.5, 1.0)
                wait = max(wait, 0.1)  # never a tight loop, even on Retry-After: 0
                log.debug("GET %s: %s, retrying in %.1f s", redact_url(url), transient.error, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def _slot(self, url: str, budget: _Budget) -> AsyncIterator[None]:
        """Wait for a per-host slot, the host's delay and a global slot; queueing is not
        charged to the request's deadline."""
        host = urlsplit(url).netloc.lower()
        queued = time.monotonic()
        async with self._hosts[host]:
            now = asyncio.get_running_loop().time()
            start = max(now, self._next_start.get(host, 0.0))
            self._next_start[host] = start + self._http.delay
            if start > now:
                await asyncio.sleep(start - now)
            async with self._all:
                budget.extend(time.monotonic() - queued)
                yield

    def _open_pools(self) -> Pools:
        if self._pools is None:
            raise RuntimeError("use Fetcher as an async context manager")
        return self._pools

    async def _check_address(self, url: str, proxy: str | None) -> None:
        """Refuse a guarded URL whose host resolves to any non-public address."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            await check_host(host, port, self._policy, self._resolver)
        except BlockedAddress as blocked:
            raise FetchError("blocked address", redact_url(url), str(blocked)) from None
        except (OSError, ValueError) as error:
            if not proxy:  # without a proxy the fetch would fail the same way
                raise FetchError("connection failed", redact_url(url), describe(error)) from None

    async def _is_public(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        try:
            addresses = await self._resolver(host, 0)
        except (OSError, ValueError):
            return True  # unknown: assume public, the safer side
        return any(self._policy.is_public(address) for address in addresses)

    async def _fetch_robots(self, robots_url: str, proxy: str | None) -> RobotsAnswer:
        """One attempt at /robots.txt, following up to 5 redirects; any status is an answer.

        The robots.txt of a public site may not redirect us inside either (a blind request to a
        metadata endpoint is still a request): such a redirect counts as no robots.txt.
        """
        is_guarded = await self._is_public(robots_url)
        limit = self._http.timeout
        current = robots_url
        for hop in range(MAX_ROBOTS_REDIRECTS + 1):
            if is_guarded and hop > 0:
                try:
                    await self._check_address(current, proxy)
                except FetchError:
                    return RobotsAnswer(404, b"")
            pools = self._open_pools()
            try:
                async with asyncio.timeout(limit * 2) as scope:
                    async with self._slot(current, _Budget(scope)):
                        client = pools.client_for(proxy, is_guarded and hop > 0, current)
                        response = await attempt(
                            client, current, {}, limit, ROBOTS_MAX_BYTES, is_truncation_ok=True
                        )
            except Transient as transient:
                raise transient.error from None
            except TimeoutError:
                raise FetchError("timeout", current, f"no answer within {limit:g} s") from None
            if response.status not in REDIRECT_STATUSES:
                return RobotsAnswer(response.status, response.body)
            if "location" not in response.headers:
                return RobotsAnswer(404, b"")
            current = redirect_target(current, response.headers["location"])
        return RobotsAnswer(404, b"")  # a redirect maze counts as no robots.txt
