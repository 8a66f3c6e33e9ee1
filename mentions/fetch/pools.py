"""The httpx clients of one run: one connection pool per host (and proxy, and guard).

Small pools because httpcore's pool upkeep is quadratic in its connections: one pool of 100
connections cost 14.9 ms CPU per request, pools per host 4.8 ms (benchmarks/FETCH.md).
All pools share one SSL context.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlsplit

import httpx

from mentions.config import HttpConfig
from mentions.fetch.decompress import ACCEPT_ENCODING
from mentions.fetch.netguard import AddressPolicy, GuardedBackend, Resolver
from mentions.fetch.streams import CheapIdleCheckBackend

# Connections per httpcore pool; see Pools.lease. CPU per request: 16: 4.8 ms, 8: 2.6 ms;
# an unchanged rerun of 1,000 sources on one host: 8: 4.0-4.5 s, 4: 3.4-4.2 s, 2: 3.3-3.6 s.
MAX_POOL = 2

DEFAULT_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, "
    "text/html;q=0.9, application/json;q=0.8, */*;q=0.5"
)


class Pools:
    """Clients created on first use and closed together at the end of the run."""

    def __init__(
        self,
        http: HttpConfig,
        policy: AddressPolicy,
        resolver: Resolver,
        *,
        http2: bool,
        pool_per_host: bool,
    ) -> None:
        self._http = http
        self._policy = policy
        self._resolver = resolver
        self._http2 = http2
        self._pool_per_host = pool_per_host
        self._clients: dict[tuple[str | None, bool, str, int], httpx.AsyncClient] = {}
        self._busy: dict[tuple[str | None, bool, str, int], int] = {}  # attempts under way
        # httpx ignores HTTP(S)_PROXY once it is given a transport, so we read them: once.
        self._env_proxies = urllib.request.getproxies_environment()
        _hide_httpx_request_lines()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    @contextlib.contextmanager
    def lease(self, proxy: str | None, guarded: bool, url: str) -> Iterator[httpx.AsyncClient]:
        """The pooled client for this proxy and host, held for one attempt; guarded clients
        check addresses at connect time.

        httpcore's pool upkeep is quadratic in its connections (for every idle connection it
        counts all of them, on every request and every response), so we keep pools small: one
        per host, and a host allowed more than MAX_POOL connections gets several pools. Each
        attempt takes the least busy one: with as many connections as the host's slots, no
        attempt then waits for a connection while another pool has one idle.
        """
        parts = urlsplit(url)
        if proxy is None:
            proxy = self._env_proxy(parts.scheme, parts.hostname or "")
        http = self._http
        if self._pool_per_host:
            host = parts.netloc.lower()
            size = min(http.per_host, http.concurrency)
            shards = -(-size // MAX_POOL)
        else:  # one pool for everything: only for comparison in benchmarks/bench_fetch.py
            host, size, shards = "", http.concurrency, 1
        keys = [(proxy, guarded, host, shard) for shard in range(shards)]
        key = min(keys, key=lambda k: self._busy.get(k, 0)) if shards > 1 else keys[0]
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(proxy, guarded, -(-size // shards))
        self._busy[key] = self._busy.get(key, 0) + 1
        try:
            yield client
        finally:
            self._busy[key] -= 1

    def _env_proxy(self, scheme: str, hostname: str) -> str | None:
        """The proxy HTTP_PROXY/HTTPS_PROXY/ALL_PROXY name for this URL, unless NO_PROXY."""
        proxy = self._env_proxies.get(scheme) or self._env_proxies.get("all")
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # untyped
        if not proxy or bypass(hostname, self._env_proxies):
            return None
        return proxy

    def _new_client(self, proxy: str | None, guarded: bool, size: int) -> httpx.AsyncClient:
        http = self._http
        # Equal limits: with more connections than kept alive, httpcore closes and reopens.
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0)
        transport = httpx.AsyncHTTPTransport(
            verify=_ssl_context(),
            http2=self._http2,
            limits=limits,
            proxy=proxy,
        )
        # httpx has no public hook for the network backend; the pool keeps it here.
        pool = transport._pool
        backend = pool._network_backend
        if guarded and proxy is None:
            backend = GuardedBackend(backend, self._policy, self._resolver)
        pool._network_backend = CheapIdleCheckBackend(backend)
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        return httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # proxies from the environment are resolved in lease()
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


def is_h2_available() -> bool:
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True


class _DropRequestLines(logging.Filter):
    """httpx logs every request URL at INFO, query string (and tokens) included."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


_FILTER = _DropRequestLines()


def _hide_httpx_request_lines() -> None:
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
