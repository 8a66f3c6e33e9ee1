"""The httpx clients of one run: one per proxy and guard, each on its own aiohttp pool.

aiohttp's pool costs the same per request however many connections it holds (httpcore's
upkeep grew with the square of its pool, which is why there used to be a pool per host):
the Fetcher's slots already bound connections per host and in all. All clients share one
SSL context.
"""

from __future__ import annotations

import functools
import logging
import ssl
import urllib.request
from urllib.parse import urlsplit

import httpx

from mentions.config import HttpConfig
from mentions.fetch.decompress import ACCEPT_ENCODING
from mentions.fetch.netguard import AddressPolicy, Resolver
from mentions.fetch.transport import AiohttpTransport, GuardedResolver

DIRECT = ""  # a proxy setting that means none at all, not even one from the environment


def route(proxy: str | None) -> str | None:
    """A proxy setting as the pools take it: a URL, DIRECT (`""` or `none`), or None (the
    environment's HTTP_PROXY/HTTPS_PROXY/ALL_PROXY, if any)."""
    if proxy is not None and proxy.strip().lower() in ("", "none"):
        return DIRECT
    return proxy


DEFAULT_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, "
    "text/html;q=0.9, application/json;q=0.8, */*;q=0.5"
)


class Pools:
    """Clients created on first use and closed together at the end of the run."""

    def __init__(self, http: HttpConfig, policy: AddressPolicy, resolver: Resolver) -> None:
        self._http = http
        self._policy = policy
        self._resolver = resolver
        self._clients: dict[tuple[str | None, bool], httpx.AsyncClient] = {}
        # Read once: a client is given its proxy explicitly (trust_env is off).
        self._env_proxies = urllib.request.getproxies_environment()
        _hide_httpx_request_lines()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def client_for(self, proxy: str | None, guarded: bool, url: str) -> httpx.AsyncClient:
        """The client for this URL's proxy and guard; guarded clients connect only to public
        addresses."""
        if proxy is None:
            parts = urlsplit(url)
            proxy = self._env_proxy(parts.scheme, parts.hostname or "")
        proxy = proxy or None  # DIRECT: the same client as no proxy at all
        key = (proxy, guarded)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(proxy, guarded)
        return client

    def _env_proxy(self, scheme: str, hostname: str) -> str | None:
        """The proxy HTTP_PROXY/HTTPS_PROXY/ALL_PROXY name for this URL, unless NO_PROXY."""
        proxy = self._env_proxies.get(scheme) or self._env_proxies.get("all")
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # untyped
        if not proxy or bypass(hostname, self._env_proxies):
            return None
        return proxy

    def _new_client(self, proxy: str | None, guarded: bool) -> httpx.AsyncClient:
        # Through a proxy the proxy resolves the name: Fetcher checks guarded hosts before.
        policy = self._policy if guarded and proxy is None else None
        transport = AiohttpTransport(
            ssl_context=_ssl_context(), resolver=GuardedResolver(self._resolver, policy), proxy=proxy,
        )
        return _CookielessClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # proxies from the environment are resolved in client_for()
            headers={
                "User-Agent": self._http.user_agent,
                "Accept": DEFAULT_ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing a server sets."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.AsyncClient):
    """A client that never stores cookies: none leak from one source to the next (a source's
    `cookies:` are sent as a header by the Fetcher). httpx's own jar parsed every answer
    for them, ~0.15-0.2 ms of CPU a request (`bench_fetch.py`, 32 in flight)."""

    _empty = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._empty

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("this client keeps no cookies")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One SSL context for every pool of the process: loading the CA bundle takes ~0.2 s.
    SSL_CERT_FILE and SSL_CERT_DIR are honoured."""
    return httpx.create_ssl_context(trust_env=True)


class _DropRequestLines(logging.Filter):
    """httpx logs every request URL at INFO, query string (and tokens) included."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


_FILTER = _DropRequestLines()


def _hide_httpx_request_lines() -> None:
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
