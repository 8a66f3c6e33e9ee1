"""The only module that talks to the network.

INTERIM: a plain httpx client with the `http:` limits (timeout, concurrency, per-host,
max_bytes, user agent). Issue 5 replaces the internals (retries, robots.txt, total deadlines,
bounded decompression, redirect checks); the interface (`Fetcher.get`, `Response`) stays.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from mentions.config import HttpConfig
from mentions.errors import FetchError


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


class Fetcher:
    """An async HTTP client with the config's limits; use as `async with Fetcher(http) as f`."""

    def __init__(self, http: HttpConfig) -> None:
        self._http = http
        self._all = asyncio.Semaphore(http.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(http.per_host)
        )
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        self._client = httpx.AsyncClient(
            follow_redirects=True,
            headers={"User-Agent": self._http.user_agent, **self._http.headers},
            timeout=self._http.timeout,
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        is_remote_choice: bool = False,
        robots: bool | None = None,
    ) -> Response:
        """GET `url`; a complete Response or FetchError with a reason a person understands.

        `is_remote_choice` marks URLs chosen by remote content (next links, redirects, sitemap
        entries): those may not lead to private addresses.
        """
        assert self._client is not None, "use Fetcher as an async context manager"
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError("unsupported url", url, f"{scheme or 'no'} scheme")
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        host = urlsplit(url).netloc.lower()
        limit = timeout or self._http.timeout
        async with self._all, self._hosts[host]:
            try:
                return await asyncio.wait_for(self._get(url, request_headers), limit)
            except (TimeoutError, httpx.TimeoutException):
                raise FetchError("timeout", url, f"no complete answer within {limit:g} s") from None
            except httpx.HTTPError as error:
                raise FetchError("connection failed", url, type(error).__name__) from None

    async def _get(self, url: str, headers: dict[str, str]) -> Response:
        assert self._client is not None
        async with self._client.stream("GET", url, headers=headers) as answer:
            if answer.status_code == 304:
                return Response(str(answer.url), 304, dict(answer.headers))
            if answer.status_code >= 400:
                raise FetchError("http status", url, f"HTTP {answer.status_code}", answer.status_code)
            chunks: list[bytes] = []
            size = 0
            async for chunk in answer.aiter_bytes():
                size += len(chunk)
                if size > self._http.max_bytes:
                    raise FetchError("too large", url, f"more than {self._http.max_bytes} bytes")
                chunks.append(chunk)
            return Response(str(answer.url), answer.status_code, dict(answer.headers), b"".join(chunks))
