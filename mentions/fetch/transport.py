"""An httpx transport that sends requests with aiohttp: httpx's API, aiohttp's speed.

Why: reading the scale benchmark's 1,000 sources (129 MB over loopback, 32 in flight) cost
2.4-3.4 s of CPU through httpx's own transport (httpcore, pools of 8) and 0.7 s on aiohttp;
the whole Fetcher went from 1.36-1.80 to 1.23-1.34 ms of CPU per request, and an unchanged
rerun from 3.4-3.6 to 2.1-3.0 s (benchmarks/FETCH.md). Everything above the transport
(slots, deadlines, retries, redirects, bounded decoding) stays as it was.

The `httpx-aiohttp` package does the same, but its error mapping would turn a server that
hangs up mid-answer into "could not connect" (any aiohttp connection error becomes
ConnectTimeout); a person reading the scan report needs the real reason, so the mapping
here follows what each aiohttp error means. Bodies stay raw (`auto_decompress=False`):
`decompress` decodes them within bounds. Cookies never persist (`DummyCookieJar`).

The public-address guard works through the resolver: aiohttp connects to exactly the
addresses `GuardedResolver` returned, so checking them is checking the connection.
IP literals never reach a resolver; `Fetcher` checks those before the request.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterator

# aiohttp's C parser leaves a reader waiting until the deadline when a malformed chunk
# arrives after the headers (tests/test_fault_battery.py, "chunked-garbage"); its Python
# parser fails at once. Read before aiohttp's first import, which is this one.
os.environ.setdefault("AIOHTTP_NO_EXTENSIONS", "1")
import aiohttp
import httpx
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from mentions.fetch.netguard import AddressPolicy, BlockedAddress, Resolver

_CHUNK = 64 * 1024
_KEEPALIVE_SECONDS = 30.0  # an idle connection is kept this long for the host's next request
# aiohttp refuses header lines over 8,190 bytes and answers with over 128 headers; real sites
# send longer Content-Security-Policy and Link headers and dozens of cookies, which httpcore
# read. Bounds stay, for a server that never ends a line or a header block.
_MAX_HEADER_LINE = 64 * 1024
_MAX_HEADERS = 1_000
_OS_ERROR_AT_END = re.compile(r"\. \w+Error\(\d+, '([^']*)'\)$")


class GuardedResolver(AbstractResolver):
    """Answers with `resolver`'s addresses; with a policy, only if every one is public."""

    def __init__(self, resolver: Resolver, policy: AddressPolicy | None) -> None:
        self._resolver = resolver
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._resolver(host, port)
        if self._policy is not None:
            for address in addresses:
                if not self._policy.is_public(address):
                    raise BlockedAddress(host, address)
        if not addresses:
            raise OSError(f"{host} has no address")
        return [
            ResolveResult(
                hostname=host, host=str(address), port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0, flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


@contextlib.contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    """aiohttp's errors as the httpx errors that mean the same (`attempt` reads those)."""
    try:
        yield
    except aiohttp.ClientConnectorCertificateError as error:
        problem = error.certificate_error
        detail = getattr(problem, "verify_message", "") or getattr(problem, "reason", "") or str(problem)
        detail = detail.rstrip(".")
        raise httpx.ConnectError(f"SSL certificate not accepted: {detail}", request=request) from error
    except aiohttp.ClientSSLError as error:
        raise httpx.ConnectError(f"SSL: {_reason(error.os_error)}", request=request) from error
    except ssl.SSLError as error:
        raise httpx.ConnectError(f"SSL: {_reason(error)}", request=request) from error
    except aiohttp.ClientProxyConnectionError as error:
        # its str() is aiohttp's "Cannot connect to host … ssl:default [None]"
        reason = _reason(error.os_error)
        where = f"cannot connect to {error.host}:{error.port}"
        raise httpx.ProxyError(f"{where} ({reason})" if reason else where, request=request) from error
    except aiohttp.ClientHttpProxyError as error:
        raise httpx.ProxyError(f"HTTP {error.status} {error.message}", request=request) from error
    except aiohttp.ConnectionTimeoutError as error:
        raise httpx.ConnectTimeout(str(error), request=request) from error
    except aiohttp.SocketTimeoutError as error:
        raise httpx.ReadTimeout(str(error), request=request) from error
    except aiohttp.ClientConnectorError as error:
        reason = _reason(error.os_error) or f"cannot connect to {error.host}:{error.port}"
        raise httpx.ConnectError(reason, request=request) from error
    except aiohttp.ServerDisconnectedError as error:
        raise httpx.RemoteProtocolError("the server closed the connection early", request=request) from error
    except aiohttp.ClientPayloadError as error:
        # aiohttp names a connection error under a cut-short body only in the message
        # ("... . ConnectionResetError(104, 'Connection reset by peer')").
        reset = _OS_ERROR_AT_END.search(str(error))
        if reset is not None:
            raise httpx.ReadError(reset.group(1), request=request) from error
        raise httpx.RemoteProtocolError("the answer ended early or was malformed", request=request) from error
    except aiohttp.ClientOSError as error:
        raise httpx.ReadError(_reason(error) or str(error), request=request) from error
    except aiohttp.ClientResponseError as error:  # a malformed status line or header
        message = error.message or "malformed answer"
        if message.startswith("Got more than"):
            message = f"a header line longer than {_MAX_HEADER_LINE:,} bytes"
        # aiohttp quotes the offending bytes; a person needs what is wrong, not the bytes
        raise httpx.RemoteProtocolError(message.split(": b'", 1)[0], request=request) from error
    except (aiohttp.InvalidURL, ValueError) as error:
        raise httpx.InvalidURL(str(error)) from error
    except aiohttp.ClientError as error:
        raise httpx.TransportError(str(error) or type(error).__name__, request=request) from error


def _reason(error: BaseException | None) -> str:
    """What went wrong, in a few words (asyncio's "Connect call failed ('1.2.3.4', 80)" says
    neither why nor anything the URL does not)."""
    if isinstance(error, ssl.SSLError):
        return error.reason or str(error)
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error or "")


def _as_written(headers: httpx.Headers) -> list[tuple[str, str]]:
    """The request's headers with their names as written (User-Agent, not user-agent, which
    httpx's `multi_items` gives): browsers send them so, and some bot walls look."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw]


class _Body(httpx.AsyncByteStream):
    """The raw body, as it arrives."""

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._answer = answer
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for chunk in self._answer.content.iter_chunked(_CHUNK):
                yield chunk

    async def aclose(self) -> None:
        # An answer read to its end gives its connection back; any other closes it.
        self._answer.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (connection pool) behind one httpx client."""

    def __init__(
        self, *, ssl_context: ssl.SSLContext, resolver: AbstractResolver, proxy: str | None = None
    ) -> None:
        self._ssl = ssl_context
        self._resolver = resolver
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use: a session belongs to the event loop that runs it.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=0,  # the Fetcher's slots limit connections, per host and in all
                ssl=self._ssl,
                resolver=self._resolver,
                keepalive_timeout=_KEEPALIVE_SECONDS,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
                max_line_size=_MAX_HEADER_LINE,
                max_field_size=_MAX_HEADER_LINE,
                max_headers=_MAX_HEADERS,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        session = self._open()
        with _httpx_errors(request):
            answer = await session.request(
                request.method,
                # httpx has encoded the URL already; yarl would normalise it again (~0.15 ms)
                yarl.URL(str(request.url), encoded=True),
                headers=_as_written(request.headers),
                data=request.content or None,
                allow_redirects=False,
                proxy=self._proxy,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=timeout.get("connect"), sock_read=timeout.get("read"),
                ),
            )
        return httpx.Response(
            status_code=answer.status,
            headers=answer.raw_headers,
            stream=_Body(answer, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (answer.reason or "").encode()},
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
