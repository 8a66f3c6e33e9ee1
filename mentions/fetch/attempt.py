"""One HTTP attempt and what its outcome means: a Response, a retry, or a FetchError.

Nothing here waits for slots, retries or follows redirects (that is `client.Fetcher`);
an attempt sends one request with a total deadline and reads the body raw, decoding it
with the bounded decoders of `decompress`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from mentions.api_errors import error_message_of
from mentions.errors import FetchError
from mentions.fetch.classify import is_bot_challenge, redact_url, retry_after_seconds
from mentions.fetch.decompress import InvalidCompression, decoder_for
from mentions.fetch.netguard import BlockedAddress
from mentions.fetch.response import Response

ERROR_BODY_BYTES = 64 * 1024  # enough of an error page to recognise a bot wall
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Transient(Exception):
    """A failed attempt worth another try; `error` is what to report if none is left."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


async def attempt(
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
                answer_headers = lower_headers(answer.headers)
                if status == 304 or (status in REDIRECT_STATUSES and "location" in answer_headers):
                    await _drain(answer)
                    return Response(url, status, answer_headers)
                if 200 <= status < 300:
                    body = await read_body(answer, answer_headers, max_bytes, shown, is_truncation_ok)
                else:
                    with contextlib.suppress(httpx.HTTPError, FetchError):
                        body = b""
                        body = await read_body(answer, answer_headers, ERROR_BODY_BYTES, shown, True)
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
        raise Transient(
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
        failure = FetchError("connection failed", shown, describe(error))
        if "SSL" in str(error) or "certificate" in str(error):
            raise failure from None  # a TLS problem does not heal in a second
        raise Transient(failure) from None
    except (httpx.ReadError, httpx.WriteError) as error:
        raise Transient(
            FetchError("connection failed", shown, describe(error) or "connection reset")
        ) from None
    except httpx.RemoteProtocolError as error:
        # Also what a keep-alive connection closed under us looks like: worth one more try.
        raise Transient(FetchError("protocol error", shown, describe(error))) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        raise FetchError("unsupported url", shown, describe(error)) from None
    except httpx.HTTPError as error:
        raise FetchError("protocol error", shown, describe(error)) from None


def judge(response: Response, url: str) -> Response:
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
    # An API's refusal names its reason ("API rate limit exceeded for …"): "HTTP 403" does not.
    said = error_message_of(response.body, response.headers.get("content-type"))
    detail = f"HTTP {status}: {said}" if said else f"HTTP {status}"
    if status == 429:
        raise Transient(FetchError("rate-limited", shown, detail, 429), retry_after)
    failure = FetchError("http status", shown, detail, status)
    if status >= 500:
        raise Transient(failure, retry_after)
    raise failure


async def _drain(answer: httpx.Response) -> None:
    """Read the (empty or short) rest of an answer whose body we do not want.

    httpcore reuses a connection only once the answer on it was read to its end: closed
    unread, even a 304 with no body at all costs a new connection (and a connect) for the
    next request. A rerun where every source answers 304 made 1,000 connections for 1,000
    requests. Longer bodies than ERROR_BODY_BYTES are not worth the reading: that
    connection closes.
    """
    read = 0
    with contextlib.suppress(httpx.HTTPError):
        async for chunk in answer.aiter_raw():
            read += len(chunk)
            if read > ERROR_BODY_BYTES:
                return


async def read_body(
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


def check_scheme(url: str) -> None:
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


def redirect_target(current: str, location: str) -> str:
    """The absolute URL a Location points to; only http(s) is followed."""
    try:
        target = urljoin(current, location.strip())
    except ValueError:  # `http://[bad`: an unclosed IPv6 bracket
        raise FetchError("redirect", redact_url(current), "to a Location that is no URL") from None
    try:
        check_scheme(target)
    except FetchError as error:
        raise FetchError("redirect", redact_url(current), f"to {error.detail}") from None
    return target.split("#", 1)[0]


def lower_headers(headers: httpx.Headers) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def describe(error: BaseException) -> str:
    """An exception's message without URLs (they may carry tokens)."""
    text = str(error) or type(error).__name__
    return " ".join(redact_url(w) if "://" in w else w for w in text.split())
