"""Local receivers for alerts: an HTTP server that keeps every POST, an SMTP server (aiosmtpd)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.localsite import QuietServer


@dataclass
class Received:
    """One POST: its path, headers and parsed JSON body."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class HookReceiver:
    """A threaded HTTP server on 127.0.0.1 that answers every POST with `status`.

    With `delay`, it keeps each POST (at once) but answers only after that many seconds, or
    when it stops: a receiver that hangs. With `trickle`, it promises a long body and sends a
    byte every `trickle` seconds until it stops: each read comes in time, the answer never."""

    status: int = 200
    delay: float = 0.0
    trickle: float = 0.0
    posts: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                receiver.posts.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw))
                )
                if receiver.delay:
                    receiver.released.wait(receiver.delay)
                if receiver.trickle:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    while not receiver.released.wait(receiver.trickle):
                        try:
                            self.wfile.write(b".")
                            self.wfile.flush()
                        except OSError:  # the client gave up
                            return
                    return
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
