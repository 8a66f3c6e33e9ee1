"""A real HTTP server on 127.0.0.1 for tests: routes of bytes, conditional requests, delays.

Each route is a `Page` (body, content type, status, extra headers, delay). The server counts
requests per path, how many were answered 304 and the connections it accepted, so tests can
check cheap reruns, and notes when each request arrived, so they can check pauses.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import ssl
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded server that keeps a handler's exception instead of printing it.

    The default prints a traceback to sys.stderr from the handler's thread, whenever that
    thread gets to it: a client that hung up on a lingering keep-alive connection of one test
    then showed up in the stderr that a later test captured from the CLI."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.errors: list[BaseException] = []

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            self.errors.append(error)


def _basic(login: str) -> str:
    return "Basic " + base64.b64encode(login.encode()).decode("ascii")


@dataclass
class Page:
    """What one path answers."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    is_conditional: bool = True
    closes_after: bool = False  # hang up after answering, without saying so (Connection: close)
    login: str | None = None  # "user:password": answer 401 unless asked with this Basic auth


class LocalSite:
    """A threaded HTTP server with a mutable route table."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # serve HTTPS with this server context
        self.routes: dict[str, Page] = {}
        self.requests: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.request_headers: dict[str, dict[str, str]] = {}
        self.header_names: dict[str, list[str]] = {}  # as the client wrote them
        self.connections = 0  # TCP connections accepted: keep-alive reuse shows here
        self.events: list[str] = []  # "> /path" when a request arrives, "< /path" once answered
        self.arrivals: list[tuple[float, str]] = []  # (time.monotonic(), path) of each request
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                site.connections += 1
                super().setup()

            def do_GET(self) -> None:
                path = self.path
                site.arrivals.append((time.monotonic(), path))
                site.events.append(f"> {path}")
                try:
                    self._route(path)
                finally:
                    site.events.append(f"< {path}")

            def _route(self, path: str) -> None:
                site.requests[path] += 1
                site.request_headers[path] = {k.lower(): v for k, v in self.headers.items()}
                site.header_names[path] = list(self.headers.keys())
                page = site.routes.get(path) or site.routes.get(path.split("?", 1)[0])
                if page is None:
                    self._answer(404, b"not found", "text/plain", {})
                    return
                if page.login is not None and self.headers.get("Authorization") != _basic(page.login):
                    self._answer(401, b"login required", "text/plain", {"WWW-Authenticate": 'Basic realm="t"'})
                    return
                if page.delay:
                    time.sleep(page.delay)
                if page.closes_after:
                    self.close_connection = True
                etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
                is_unchanged = self.headers.get("If-None-Match") == etag
                if page.is_conditional and page.status == 200 and is_unchanged:
                    site.not_modified[path] += 1
                    self._answer(304, b"", page.content_type, {"ETag": etag})
                    return
                headers = dict(page.headers)
                if page.is_conditional and page.status == 200:
                    headers.setdefault("ETag", etag)
                self._answer(page.status, page.body, page.content_type, headers)

            def _answer(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True

    @property
    def base(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str, **options: object) -> str:
        """Serve `body` at `path`; returns the full URL."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Page(data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def start(self) -> LocalSite:
        if self.tls is not None:
            # The handshake runs in each connection's thread, on its first read: one that a
            # client refuses must not stop the accepting loop.
            self.server.socket = self.tls.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
