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
   secret are not sent to another origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import ssl
import time
import urllib.request
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from mentions.config import HttpConfig
from mentions.errors import FetchError
from mentions.fetch.classify import (
    is_bot_challenge,
    is_secret_header,
    redact_url,
    retry_after_seconds,
)
from mentions.fetch.decompress import ACCEPT_ENCODING, InvalidCompression, decoder_for
from mentions.fetch.netguard import (
    AddressPolicy,
    BlockedAddress,
    GuardedBackend,
    Resolver,
    check_host,
    resolve,
)
from mentions.fetch.robots import ROBOTS_MAX_BYTES, RobotsAnswer, RobotsCache, origin_of

log = logging.getLogger("mentions.fetch")

MAX_REDIRECTS = 10
MAX_ROBOTS_REDIRECTS = 5  # RFC 9309 §2.3.1.2
MAX_WAIT = 30.0  # longest Retry-After or backoff we sleep; beyond it the source is reported
ERROR_BODY_BYTES = 64 * 1024  # enough of an error page to recognise a bot wall
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, "
    "text/html;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class Response:
    """A complete body (never a partial one) and what we need of its headers."""

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def is_not_modified(self) -> bool:
        """True for a 304 answer to a conditional request: nothing to parse."""
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _Transient(Exception):
    """A failed attempt worth another try; `error` is what to report if none is left."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


@dataclass(slots=True)
class _Budget:
    """The total deadline of one `get`, pushed back by the time spent queueing for a slot."""

    scope: asyncio.Timeout

    def extend(self, seconds: float) -> None:
        when = self.scope.when()
        if when is not None and seconds > 0:
            self.scope.reschedule(when + seconds)


def _is_h2_available() -> bool:
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True


class Fetcher:
    """An async HTTP client with the config's limits; use as `async with Fetcher(http) as f`.

    One connection pool serves the whole run (plus one per proxy and one for guarded
    requests). `address_policy` and `resolver` exist so tests can pretend an address is public.
    """

    def __init__(
        self,
        http: HttpConfig,
        *,
        address_policy: AddressPolicy | None = None,
        resolver: Resolver | None = None,
        http2: bool | None = None,
        pool_per_host: bool = True,
    ) -> None:
        self._http = http
        self._policy = address_policy or AddressPolicy()
        self._resolver: Resolver = resolver or resolve
        self._http2 = _is_h2_available() if http2 is None else http2
        self._all = asyncio.Semaphore(http.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(http.per_host)
        )
        self._next_start: dict[str, float] = {}
        self._pool_per_host = pool_per_host
        self._clients: dict[tuple[str | None, bool, str], httpx.AsyncClient] = {}
        self._env_proxies: dict[str, str] = {}
        self._is_open = False
        self._robots = RobotsCache(http.user_agent, self._fetch_robots)
        _hide_httpx_request_lines()

    async def __aenter__(self) -> Fetcher:
        # httpx ignores HTTP(S)_PROXY once it is given a transport, so we read them: once.
        self._env_proxies = urllib.request.getproxies_environment()
        self._is_open = True
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._is_open = False
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

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
        """
        if not self._is_open:
            raise RuntimeError("use Fetcher as an async context manager")
        _check_scheme(url)
        limit = timeout or self._http.timeout
        bound = self.request_bound(limit)
        request_headers = {**self._http.headers, **(headers or {})}
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
                    proxy=proxy or self._http.proxy,
                    max_bytes=max_bytes or self._http.max_bytes,
                )
        except TimeoutError:
            raise FetchError(
                "timeout", redact_url(url), f"no complete answer within {bound:g} s"
            ) from None
        except FetchError as error:
            log.debug("GET %s failed: %s", redact_url(url), error)
            raise
        except Exception as error:  # a bug here must not become a traceback for the user
            log.debug("GET %s: unexpected %r", redact_url(url), error, exc_info=True)
            raise FetchError("protocol error", redact_url(url), type(error).__name__) from None
        log.debug(
            "GET %s -> %d, %d bytes in %.2f s",
            redact_url(url), response.status, len(response.body), time.monotonic() - started,
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
                await self._robots.check(current)
            hop_headers = headers if origin_of(current) == first_origin else {
                name: value for name, value in headers.items() if not is_secret_header(name)
            }
            response = await self._with_retries(
                current, hop_headers, budget,
                limit=limit, is_guarded=is_guarded, proxy=proxy, max_bytes=max_bytes,
            )
            if response.status not in REDIRECT_STATUSES:
                return response  # _judge let a redirect through only with a Location
            target = _redirect_target(current, response.headers["location"])
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
        client = self._client_for(proxy, is_guarded, url)
        attempts = self._http.retries + 1
        cap = min(limit, MAX_WAIT)
        for attempt in range(attempts):
            try:
                async with self._slot(url, budget):
                    response = await self._attempt(client, url, headers, limit, max_bytes)
                return _judge(response, url)
            except _Transient as transient:
                wait = transient.retry_after
                if wait is not None and wait > cap:
                    error = transient.error
                    if error.status == 429:
                        raise FetchError(
                            "rate-limited", error.url, f"HTTP 429, retry after {wait:.0f} s",
                            429,
                        ) from None
                    raise FetchError(
                        error.reason, error.url, f"{error.detail}, retry after {wait:.0f} s",
                        error.status,
                    ) from None
                if attempt == attempts - 1:
                    raise transient.error from None
                if wait is None:
                    wait = min(cap, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
                wait = max(wait, 0.1)  # never a tight loop, even on Retry-After: 0
                log.debug(
                    "GET %s: %s, retrying in %.1f s", redact_url(url), transient.error, wait
                )
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

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: Mapping[str, str],
        limit: float,
        max_bytes: int,
        *,
        is_truncation_ok: bool = False,
    ) -> Response:
        """One request with a total deadline; the body read raw and decoded within bounds."""
        shown = redact_url(url)
        timeouts = httpx.Timeout(limit, connect=min(limit, 10.0))
        try:
            async with asyncio.timeout(limit):
                request = client.build_request("GET", url, headers=headers, timeout=timeouts)
                answer = await client.send(request, stream=True)
                try:
                    status = answer.status_code
                    answer_headers = _lower_headers(answer.headers)
                    if status in REDIRECT_STATUSES and "location" in answer_headers:
                        return Response(url, status, answer_headers)
                    if status == 304:
                        return Response(url, status, answer_headers)
                    if 200 <= status < 300:
                        body = await _read_body(
                            answer, answer_headers, max_bytes, shown, is_truncation_ok
                        )
                    else:
                        with contextlib.suppress(httpx.HTTPError, FetchError):
                            body = b""
                            body = await _read_body(
                                answer, answer_headers, ERROR_BODY_BYTES, shown, True
                            )
                    if 200 <= status < 300:
                        # the body is decoded now: these would describe bytes we no longer hold
                        answer_headers.pop("content-encoding", None)
                        answer_headers.pop("content-length", None)
                    return Response(url, status, answer_headers, body)
                finally:
                    await answer.aclose()
        except TimeoutError:
            raise FetchError("timeout", shown, f"no complete answer within {limit:g} s") from None
        except BlockedAddress as blocked:
            raise FetchError("blocked address", shown, str(blocked)) from None
        except httpx.ConnectTimeout:
            raise _Transient(
                FetchError("timeout", shown, f"could not connect within {min(limit, 10.0):g} s")
            ) from None
        except httpx.TimeoutException as error:
            what = {httpx.ReadTimeout: "no data", httpx.WriteTimeout: "could not send"}.get(
                type(error), "no connection slot"
            )
            raise FetchError("timeout", shown, f"{what} for {limit:g} s") from None
        except httpx.ProxyError as error:
            raise FetchError("connection failed", shown, f"proxy: {error}") from None
        except httpx.ConnectError as error:
            failure = FetchError("connection failed", shown, _describe(error))
            if "SSL" in str(error) or "certificate" in str(error):
                raise failure from None  # a TLS problem does not heal in a second
            raise _Transient(failure) from None
        except (httpx.ReadError, httpx.WriteError) as error:
            raise _Transient(
                FetchError("connection failed", shown, _describe(error) or "connection reset")
            ) from None
        except httpx.RemoteProtocolError as error:
            # Also what a keep-alive connection closed under us looks like: worth one more try.
            raise _Transient(FetchError("protocol error", shown, _describe(error))) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise FetchError("unsupported url", shown, _describe(error)) from None
        except httpx.HTTPError as error:
            raise FetchError("protocol error", shown, _describe(error)) from None

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
            if proxy is None:  # without a proxy the fetch would fail the same way
                raise FetchError("connection failed", redact_url(url), _describe(error)) from None

    async def _is_public(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        try:
            addresses = await self._resolver(host, 0)
        except (OSError, ValueError):
            return True  # unknown: assume public, the safer side
        return any(self._policy.is_public(address) for address in addresses)

    async def _fetch_robots(self, robots_url: str) -> RobotsAnswer:
        """One attempt at /robots.txt, following up to 5 redirects; any status is an answer."""
        client = self._client_for(self._http.proxy, False, robots_url)
        limit = self._http.timeout
        current = robots_url
        for _hop in range(MAX_ROBOTS_REDIRECTS + 1):
            try:
                async with asyncio.timeout(limit * 2) as scope:
                    async with self._slot(current, _Budget(scope)):
                        response = await self._attempt(
                            client, current, {}, limit, ROBOTS_MAX_BYTES, is_truncation_ok=True
                        )
            except _Transient as transient:
                raise transient.error from None
            except TimeoutError:
                raise FetchError("timeout", current, f"no answer within {limit:g} s") from None
            if response.status not in REDIRECT_STATUSES:
                return RobotsAnswer(response.status, response.body)
            current = _redirect_target(current, response.headers["location"])
        return RobotsAnswer(404, b"")  # a redirect maze counts as no robots.txt

    def _client_for(self, proxy: str | None, guarded: bool, url: str) -> httpx.AsyncClient:
        """The pooled client for this proxy (and host); guarded clients check addresses at
        connect time.

        One pool per host because httpcore's pool scans all its connections for every queued
        request: with one pool of 100 connections that cost 20 ms of CPU per request.
        """
        parts = urlsplit(url)
        if proxy is None:
            proxy = self._env_proxy(parts.scheme, parts.hostname or "")
        host = parts.netloc.lower() if self._pool_per_host else ""
        key = (proxy, guarded, host)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(proxy, guarded, bool(host))
        return client

    def _env_proxy(self, scheme: str, hostname: str) -> str | None:
        """The proxy HTTP_PROXY/HTTPS_PROXY/ALL_PROXY name for this URL, unless NO_PROXY."""
        proxy = self._env_proxies.get(scheme) or self._env_proxies.get("all")
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # untyped
        if not proxy or bypass(hostname, self._env_proxies):
            return None
        return proxy

    def _new_client(self, proxy: str | None, guarded: bool, is_one_host: bool) -> httpx.AsyncClient:
        http = self._http
        size = min(http.per_host, http.concurrency) if is_one_host else http.concurrency
        # Equal limits: with more connections than kept alive, httpcore closes and reopens.
        limits = httpx.Limits(
            max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0
        )
        transport = httpx.AsyncHTTPTransport(
            verify=_ssl_context(),
            http2=self._http2,
            limits=limits,
            proxy=proxy,
        )
        if guarded and proxy is None:
            # httpx has no public hook for the network backend; the pool keeps it here.
            pool = transport._pool
            pool._network_backend = GuardedBackend(
                pool._network_backend, self._policy, self._resolver
            )
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        return httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # proxies from the environment are resolved in _client_for
            verify=_ssl_context(),
            cookies=no_cookies,  # no cookie leaks from one source to the next
            headers={
                "User-Agent": http.user_agent,
                "Accept": DEFAULT_ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One SSL context for every pool of the process: loading the CA bundle takes ~0.2 s.
    SSL_CERT_FILE and SSL_CERT_DIR are honoured."""
    return httpx.create_ssl_context(trust_env=True)


def _judge(response: Response, url: str) -> Response:
    """Turn an answer into a Response to use, a retry, or the FetchError a person reads."""
    status = response.status
    shown = redact_url(url)
    if (status in REDIRECT_STATUSES and "location" in response.headers) or status == 304:
        return response
    if is_bot_challenge(status, response.headers, response.body):
        raise FetchError("bot challenge", shown, f"HTTP {status}, an anti-bot page", status)
    if 200 <= status < 300:
        if not response.body:
            raise FetchError("empty response", shown, f"HTTP {status} with no body", status)
        return response
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    if status == 429:
        raise _Transient(FetchError("rate-limited", shown, "HTTP 429", 429), retry_after)
    failure = FetchError("http status", shown, f"HTTP {status}", status)
    if status >= 500:
        raise _Transient(failure, retry_after)
    raise failure


async def _read_body(
    answer: httpx.Response,
    headers: Mapping[str, str],
    max_bytes: int,
    shown: str,
    is_truncation_ok: bool,
) -> bytes:
    """The decoded body, at most max_bytes of it; FetchError("too large") past that."""
    too_large = FetchError("too large", shown, f"more than {max_bytes:,} bytes")
    encoding = headers.get("content-encoding")
    declared = headers.get("content-length", "")
    if not encoding and declared.isdigit() and int(declared) > max_bytes and not is_truncation_ok:
        raise too_large
    try:
        decoder = decoder_for(encoding)
    except InvalidCompression as error:
        raise FetchError("invalid compression", shown, str(error)) from None
    parts: list[bytes] = []
    size = 0
    try:
        async for raw in answer.aiter_raw():
            for piece in decoder.feed(raw):
                size += len(piece)
                if size > max_bytes:
                    if is_truncation_ok:
                        parts.append(piece[: max_bytes - size + len(piece)])
                        return b"".join(parts)
                    raise too_large
                parts.append(piece)
        for piece in decoder.finish():
            size += len(piece)
            if size > max_bytes:
                if is_truncation_ok:
                    break
                raise too_large
            parts.append(piece)
    except InvalidCompression as error:
        raise FetchError("invalid compression", shown, str(error)) from None
    return b"".join(parts)


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as error:
        raise FetchError("unsupported url", redact_url(url), str(error)) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("unsupported url", redact_url(url), f"{scheme or 'no'} scheme")
    if not host:
        raise FetchError("unsupported url", redact_url(url), "no host")


def _redirect_target(current: str, location: str) -> str:
    """The absolute URL a Location points to; only http(s) is followed."""
    target = urljoin(current, location.strip())
    try:
        _check_scheme(target)
    except FetchError as error:
        raise FetchError("redirect", redact_url(current), f"to {error.detail}") from None
    return target.split("#", 1)[0]


def _lower_headers(headers: httpx.Headers) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _describe(error: BaseException) -> str:
    """An exception's message without URLs (they may carry tokens)."""
    text = str(error) or type(error).__name__
    return " ".join(redact_url(w) if "://" in w else w for w in text.split())


class _DropRequestLines(logging.Filter):
    """httpx logs every request URL at INFO, query string (and tokens) included."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


_FILTER = _DropRequestLines()


def _hide_httpx_request_lines() -> None:
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
