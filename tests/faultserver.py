"""A local HTTP server that misbehaves on purpose, one path per misbehaviour.

Raw asyncio sockets (not http.server) so it can hang, drip, reset, lie about lengths and
answer garbage. It runs its own event loop in a thread; several listeners on 127.0.0.1 share
it, one per robots.txt behaviour (robots.txt is per origin), and one on 127.0.0.2 plays the
"private" network for the SSRF tests. Import the fixtures into conftest.py.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import gzip
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest

KEYWORD = "Acme"
RSS_TEMPLATE = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>t</title>'
    "<link>http://example.org/</link><description>d</description>"
    "<item><title>News about Acme shoes</title><link>http://example.org{id}</link>"
    "<guid>http://example.org{id}</guid><description>Acme makes shoes.</description></item>"
    "</channel></rss>\n"
)


def rss(item_id: str = "/1") -> bytes:
    """A one-item RSS feed; a distinct item per path, so a scan does not merge sources."""
    return RSS_TEMPLATE.format(id=item_id).encode()


RSS = rss()
HTML = b"<!doctype html><html><head><title>ok</title></head><body><p>Acme</p></body></html>"
CF_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script>"
    b"<div id='__cf_chl_opt'></div></body></html>"
)
ATTENTION_PAGE = (
    b"<html><head><title>Attention Required! | Cloudflare</title></head>"
    b"<body>Sorry, you have been blocked. cloudflare</body></html>"
)
DDOS_GUARD_PAGE = b"<html><head><title>DDoS-Guard</title></head><body>checking</body></html>"
CAPTCHA_PAGE = (
    b"<html><head><title>Are you a robot?</title></head>"
    b"<body><div class='g-recaptcha' data-sitekey='x'></div></body></html>"
)
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 25 Nov 2026 08:00:00 GMT"
GERMAN = "Grüße aus Köln: Müller, Straße, Äpfel und Öl für 5 €."
FRENCH = "Déjà vu à l'hôtel : où est le garçon ? Ça coûte cher, s'il vous plaît."
RUSSIAN = "Привет! Это новости о компании Акме и её новых кроссовках в Москве сегодня."


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


Handler = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


def head(
    status: int, headers: dict[str, str] | list[tuple[str, str]], version: str = "1.1"
) -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"HTTP/{version} {status} X"] + [f"{k}: {v}" for k, v in items]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(
    w: asyncio.StreamWriter,
    status: int,
    body: bytes = b"",
    ctype: str = "text/html",
    **extra: str,
) -> bool:
    headers = {"Content-Type": ctype, "Content-Length": str(len(body))}
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    w.write(head(status, headers) + body)
    await w.drain()
    return True  # keep the connection


def _gzip_zeros(size: int) -> bytes:
    """gzip of `size` zero bytes, built from one fully flushed 1 MiB block (fast: no 1 GiB
    compression run): after a full flush every block compresses to the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    packed = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = size >> 20
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (count << 20) & 0xFFFFFFFF)
    return header + packed * count + compressor.flush() + trailer


@dataclass
class Bombs:
    """Built once per test session: a 1 GiB gzip bomb and its double-gzip cousin."""

    single: bytes
    double: bytes


_BOMBS: list[Bombs] = []


def bombs() -> Bombs:
    if not _BOMBS:
        inner = _gzip_zeros(1 << 30)
        _BOMBS.append(Bombs(single=inner, double=gzip.compress(inner, 9)))
    return _BOMBS[0]


@dataclass
class FaultServer:
    """Listeners on 127.0.0.1 (one per robots.txt mode) and 127.0.0.2 (the "private" host)."""

    ports: dict[str, int] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    seen_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    ROBOTS_MODES = ("none", "disallow", "error", "hang", "missing", "other", "to-private")

    def url(self, path: str, robots: str = "none") -> str:
        return f"http://127.0.0.1:{self.ports[robots]}{path}"

    def private_url(self, path: str) -> str:
        return f"http://127.0.0.2:{self.ports['private']}{path}"

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            servers = []
            for mode in (*self.ROBOTS_MODES, "private"):
                host = "127.0.0.2" if mode == "private" else "127.0.0.1"
                server = loop.run_until_complete(
                    asyncio.start_server(
                        lambda r, w, m=mode: self._connection(r, w, m), host, 0, limit=1 << 20
                    )
                )
                self.ports[mode] = server.sockets[0].getsockname()[1]
                servers.append(server)
            ready.set()
            loop.run_forever()
            for server in servers:
                server.close()
            for task in list(self._tasks):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    # -- connections ------------------------------------------------------------------------
    async def _connection(
        self, r: asyncio.StreamReader, w: asyncio.StreamWriter, mode: str
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            first = await r.read(1)
            if first in (b"", b"\x16"):  # closed, or a TLS ClientHello: answer like nginx
                w.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" if first else b"")
                return
            while True:
                try:
                    raw = first + await r.readuntil(b"\r\n\r\n")
                    first = b""
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    break
                try:
                    lines = raw.decode("latin-1").split("\r\n")
                    method, target, _ = lines[0].split(" ", 2)
                except ValueError:
                    w.write(b"garbage in, garbage out\r\n")
                    break
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                if target.startswith("http://"):  # absolute form: we are used as a proxy
                    self.hits["proxied:" + target] += 1
                    target = "/" + target.split("/", 3)[3]
                request = Request(method, target, headers)
                key = f"{mode}:{request.target}"
                self.hits[key] += 1
                self.seen_headers[key] = headers
                keep = await self._dispatch(request, r, w, mode)
                if not keep:
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                w.close()

    async def _dispatch(
        self, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter, mode: str
    ) -> bool:
        if req.path == "/robots.txt":
            return await self._robots(w, mode)
        for prefix, handler in HANDLERS.items():
            if req.path == prefix or req.path.startswith(prefix + "/"):
                return await handler(self, req, r, w)
        return await send(w, 404, b"<html><body>not found</body></html>")

    async def _robots(self, w: asyncio.StreamWriter, mode: str) -> bool:
        if mode == "disallow":
            return await send(
                w,
                200,
                b"User-agent: *\nDisallow: /private\n\nUser-agent: mentions\nDisallow: /\n",
                "text/plain",
            )
        if mode == "error":
            return await send(w, 500, b"oops", "text/plain")
        if mode == "hang":
            await asyncio.sleep(60)
            return False
        if mode == "to-private":
            return await _redirect(w, self.private_url("/robots.txt"))
        return await send(w, 404, b"no robots here", "text/plain")

    def count(self, target: str, mode: str = "none") -> int:
        return self.hits[f"{mode}:{target}"]

    def headers_seen(self, target: str, mode: str = "none") -> dict[str, str]:
        return self.seen_headers.get(f"{mode}:{target}", {})


# -- the misbehaviours --------------------------------------------------------------------
S = FaultServer
HANDLERS: dict[
    str, Callable[[S, Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
] = {}


def route(path: str) -> Callable[[Callable[..., Awaitable[bool]]], Callable[..., Awaitable[bool]]]:
    def register(fn: Callable[..., Awaitable[bool]]) -> Callable[..., Awaitable[bool]]:
        HANDLERS[path] = fn
        return fn

    return register


@route("/ok")
async def _ok(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, HTML, "text/html; charset=utf-8")


@route("/feed")
async def _feed(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, rss(req.path), "application/rss+xml")


@route("/echo")
async def _echo(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, repr(sorted(req.headers.items())).encode(), "text/plain")


@route("/huge-header")
async def _huge_header(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    # Real sites send long Content-Security-Policy or Link headers; 40 KB is generous but seen.
    return await send(w, 200, HTML, Content_Security_Policy="default-src 'self' " + "x" * 40_000)


@route("/cookie-storm")
async def _cookie_storm(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    # A shop or forum setting 150 cookies at once: wasteful, legal, and seen.
    headers = [("Set-Cookie", f"c{n}=v; Path=/") for n in range(150)]
    w.write(head(200, [("Content-Type", "text/html"), *headers, ("Content-Length", str(len(HTML)))]) + HTML)
    await w.drain()
    return True


@route("/set-cookie")
async def _set_cookie(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, HTML, Set_Cookie="tracker=t0k3n; Path=/; Max-Age=86400")


@route("/private")
async def _private_path(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    return await send(w, 200, HTML)


@route("/drip")
async def _drip(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(head(200, {"Content-Type": "text/html", "Content-Length": "100000"}))
    for _ in range(600):
        w.write(b"x")
        await w.drain()
        await asyncio.sleep(0.1)  # far under any read timeout, far over any total one
    return False


@route("/drip-headers")
async def _drip_headers(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    w.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(600):
        w.write(b"X-Slow: a\r\n")
        await w.drain()
        await asyncio.sleep(0.1)
    return False


@route("/hang-headers")
async def _hang_headers(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    await asyncio.sleep(60)
    return False


@route("/hang-body")
async def _hang_body(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(head(200, {"Content-Type": "text/html", "Content-Length": "5000"}) + b"<html>" * 10)
    await w.drain()
    await asyncio.sleep(60)
    return False


@route("/reset")
async def _reset(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    sock = w.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    w.transport.abort()
    return False


@route("/reset-mid-body")
async def _reset_mid(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(head(200, {"Content-Type": "text/html", "Content-Length": "100000"}) + b"a" * 1000)
    await w.drain()
    await asyncio.sleep(0.05)
    sock = w.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    w.transport.abort()
    return False


@route("/short")
async def _short(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(head(200, {"Content-Type": "application/rss+xml", "Content-Length": "1000"}) + RSS[:50])
    await w.drain()
    return False


@route("/flaky")
async def _flaky(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    # /flaky/<status>/<times>?k=<unique>: <status> <times> times, then 200
    _, _, code, times = req.path.split("/")[:4]
    if s.count(req.target) <= int(times):
        return await send(w, int(code), b"<html>busy</html>")
    return await send(w, 200, rss(req.path), "application/rss+xml")


@route("/flaky-reset")
async def _flaky_reset(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    if s.count(req.target) <= 1:
        return await _reset(s, req, r, w)
    return await send(w, 200, rss(req.path), "application/rss+xml")


@route("/always")
async def _always(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, int(req.path.split("/")[2]), b"<html>error page</html>")


@route("/429")
async def _429(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    # /429/<retry-after>?k=...: once, then 200
    if s.count(req.target) <= 1:
        return await send(w, 429, b"slow down", Retry_After=req.path.split("/")[2])
    return await send(w, 200, rss(req.path), "application/rss+xml")


@route("/429-date")
async def _429_date(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    offset = {"past": -3600, "soon": 1, "tomorrow": 86400}[req.path.split("/")[2]]
    if s.count(req.target) <= 1:
        when = formatdate(time.time() + offset, usegmt=True)
        return await send(w, 429, b"slow down", Retry_After=when)
    return await send(w, 200, rss(req.path), "application/rss+xml")


@route("/503-retry-after")
async def _503_ra(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    if s.count(req.target) <= 1:
        return await send(w, 503, b"maintenance", Retry_After="1")
    return await send(w, 200, rss(req.path), "application/rss+xml")


def _redirect(w: asyncio.StreamWriter, location: str, status: int = 302) -> Awaitable[bool]:
    return send(w, status, b"", Location=location)


@route("/loop")
async def _loop(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await _redirect(w, "/loop/b" if req.path == "/loop/a" else "/loop/a")


@route("/chain")
async def _chain(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    left = int(req.path.split("/")[2])
    if left == 0:
        return await send(w, 200, rss(req.path), "application/rss+xml")
    return await _redirect(w, f"/chain/{left - 1}", 301 if left % 2 else 307)


@route("/to-bad-url")
async def _to_bad_url(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await _redirect(w, "http://[bad")


@route("/to-ftp")
async def _to_ftp(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await _redirect(w, "ftp://127.0.0.1/feed.xml")


@route("/to-file")
async def _to_file(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await _redirect(w, "file:///etc/passwd")


@route("/to-private")
async def _to_private(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await _redirect(w, s.private_url("/ok"))


@route("/to-metadata")
async def _to_metadata(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    return await _redirect(w, "http://169.254.169.254/latest/meta-data/")


@route("/to-localhost")
async def _to_localhost(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    # the tests' resolver answers 127.0.0.1 and ::1 for this name: one bad address is enough
    return await _redirect(w, f"http://two-faced.test:{s.ports['none']}/ok")


@route("/to-other-origin")
async def _to_other(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await _redirect(w, f"http://127.0.0.1:{s.ports['other']}/echo")


@route("/relative")
async def _relative(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    # /relative/a/b -> ../../feed resolves to /feed
    return await _redirect(w, "../../feed")


@route("/no-location")
async def _no_location(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    return await send(w, 302, b"moved somewhere")


@route("/gzip-bomb")
async def _gzip_bomb(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    body = bombs().single
    return await send(w, 200, body, "text/html", Content_Encoding="gzip")


@route("/double-gzip")
async def _double_gzip(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    body = bombs().double
    return await send(w, 200, body, "text/html", Content_Encoding="gzip, gzip")


@route("/gzip-ok")
async def _gzip_ok(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, gzip.compress(rss(req.path)), "application/rss+xml", Content_Encoding="gzip")


@route("/gzip-twice-ok")
async def _gzip_twice(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    body = gzip.compress(gzip.compress(rss(req.path)))
    return await send(w, 200, body, "application/rss+xml", Content_Encoding="gzip, gzip")


@route("/bad-gzip")
async def _bad_gzip(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, b"this is not gzip at all" * 10, "text/html", Content_Encoding="gzip")


@route("/truncated-gzip")
async def _trunc_gzip(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    body = gzip.compress(rss(req.path) * 50)[:200]
    return await send(w, 200, body, "application/rss+xml", Content_Encoding="gzip")


@route("/deflate-zlib")
async def _deflate_zlib(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    return await send(w, 200, zlib.compress(rss(req.path)), "application/rss+xml", Content_Encoding="deflate")


@route("/deflate-raw")
async def _deflate_raw(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = raw.compress(rss(req.path)) + raw.flush()
    return await send(w, 200, body, "application/rss+xml", Content_Encoding="deflate")


@route("/brotli")
async def _brotli(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, b"\x1b\x03\x00\xf8", "text/html", Content_Encoding="br")


@route("/huge")
async def _huge(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    size = 50_000_000
    w.write(head(200, {"Content-Type": "text/html", "Content-Length": str(size)}))
    block = b"a" * 65536
    try:
        for _ in range(size // len(block)):
            w.write(block)
            await w.drain()
    except ConnectionError:
        pass
    return False


@route("/huge-chunked")
async def _huge_chunked(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    w.write(head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}))
    block = b"b" * 65536
    try:
        for _ in range(800):
            w.write(b"%x\r\n%s\r\n" % (len(block), block))
            await w.drain()
        w.write(b"0\r\n\r\n")
    except ConnectionError:
        pass
    return False


@route("/chunked-garbage")
async def _chunked_garbage(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    w.write(head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}))
    w.write(b"5\r\nhello\r\nZZZ-not-hex\r\nworld\r\n0\r\n\r\n")
    await w.drain()
    return False


@route("/empty")
async def _empty(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, b"", "application/rss+xml")


@route("/no-content")
async def _no_content(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(head(204, {}))
    await w.drain()
    return True


@route("/html-for-feed")
async def _html_for_feed(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    page = (
        b"<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Service down</body></html>"
    )
    return await send(w, 200, page, "text/html")


@route("/wrong-type")
async def _wrong_type(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, rss(req.path), "application/octet-stream")


@route("/cf-403")
async def _cf_403(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 403, CF_PAGE, "text/html", cf_mitigated="challenge", Server="cloudflare")


@route("/cf-503")
async def _cf_503(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 503, ATTENTION_PAGE, "text/html", Server="cloudflare")


@route("/cf-200")
async def _cf_200(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 200, CF_PAGE, "text/html")


@route("/ddos-guard")
async def _ddos_guard(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 403, DDOS_GUARD_PAGE, "text/html", Server="ddos-guard")


@route("/captcha")
async def _captcha(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    return await send(w, 429, CAPTCHA_PAGE, "text/html")


@route("/charset")
async def _charset(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    body, ctype = CHARSET_CASES[req.path.split("/")[2]]
    return await send(w, 200, body, ctype)


@route("/etag")
async def _etag(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    if (
        req.headers.get("if-none-match") == ETAG
        or req.headers.get("if-modified-since") == LAST_MODIFIED
    ):
        w.write(head(304, {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}))
        await w.drain()
        return True
    return await send(w, 200, rss(req.path), "application/rss+xml", ETag=ETAG, Last_Modified=LAST_MODIFIED)


@route("/http10")
async def _http10(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(head(200, {"Content-Type": "application/rss+xml"}, version="1.0") + rss(req.path))
    await w.drain()
    return False


@route("/long-header")
async def _long_header(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    w.write(
        head(200, {"Content-Type": "text/html", "X-Huge": "a" * 200_000, "Content-Length": "2"})
    )
    w.write(b"ok")
    await w.drain()
    return False


@route("/many-headers")
async def _many_headers(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    headers = [("X-H", "v" * 100)] * 5000 + [("Content-Length", "2")]
    w.write(head(200, headers) + b"ok")
    await w.drain()
    return False


@route("/garbage")
async def _garbage(s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02 binary nonsense \xff\xfe\r\n\r\n")
    await w.drain()
    return False


@route("/close-before-headers")
async def _close_early(
    s: S, req: Request, r: asyncio.StreamReader, w: asyncio.StreamWriter
) -> bool:
    return False


def _charset_cases() -> dict[str, tuple[bytes, str]]:
    def page(text: str, meta: str = "") -> str:
        return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"

    return {
        "utf16-bom": (codecs.BOM_UTF16_LE + page(GERMAN).encode("utf-16-le"), "text/html"),
        "utf8-bom": (codecs.BOM_UTF8 + page(FRENCH).encode(), "text/html; charset=iso-8859-1"),
        # declared UTF-8, really Latin-1 (the old CMS that never changed its template)
        "latin1-as-utf8": (page(GERMAN).encode("cp1252"), "text/html; charset=utf-8"),
        # declared Latin-1, really UTF-8
        "utf8-as-latin1": (page(FRENCH).encode(), "text/html; charset=iso-8859-1"),
        # the HTTP header wins over the meta tag
        "header-vs-meta": (
            page(RUSSIAN, '<meta charset="utf-8">').encode("cp1251"),
            "text/html; charset=windows-1251",
        ),
        "meta-only": (
            page(GERMAN, '<meta charset="iso-8859-15">').encode("iso-8859-15"),
            "text/html",
        ),
        "cyrillic-undeclared": (page(RUSSIAN * 3).encode("cp1251"), "text/html"),
        "koi8r-meta": (
            page(
                RUSSIAN, '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            ).encode("koi8-r"),
            "text/html",
        ),
        # UTF-8 with a few broken bytes: the broken ones become U+FFFD, the rest survives
        "damaged-utf8": (
            page(GERMAN).encode().replace(b"aus", b"a\xffs\xc3\x28"),
            "text/html; charset=utf-8",
        ),
        "garbage-bytes": (b"<html><body>ok \xff\xfe\xfd Acme \xc3\x28</body></html>", "text/html"),
    }


CHARSET_CASES = _charset_cases()


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    """The misbehaving server, started once per test session."""
    bombs()  # built before the server runs: building them inside would stall its loop
    server = FaultServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
