"""Local receivers for alerts: an HTTP server that keeps every POST, an SMTP server (aiosmtpd)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.localsite import QuietServer

DROP = 0  # an Answer's status that closes the connection without a word


@dataclass(frozen=True)
class Answer:
    """What the receiver answers one POST: `status` with `headers`, or nothing at all (DROP)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    """One POST: its path, headers, parsed JSON body, the status answered (DROP: none) and
    when it came (time.monotonic())."""

    path: str
    headers: dict[str, str]
    body: Any
    status: int = 200
    at: float = 0.0


@dataclass
class HookReceiver:
    """A threaded HTTP server on 127.0.0.1 that answers every POST with `status`.

    With `answers`, it answers the first POSTs with these in turn, then with `status`: a
    receiver that is busy for a while. With `delay`, it keeps each POST (at once) but answers
    only after that many seconds, or when it stops: a receiver that hangs. With `trickle`, it
    promises a long body and sends a byte every `trickle` seconds until it stops: each read
    comes in time, the answer never."""

    status: int = 200
    answers: list[Answer] = field(default_factory=list)
    delay: float = 0.0
    trickle: float = 0.0
    posts: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def delivered(self) -> list[Any]:
        """The bodies of the POSTs it answered with 2xx: the alerts it took."""
        return [post.body for post in self.posts if 200 <= post.status < 300]

    def __post_init__(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                answer = receiver.answers.pop(0) if receiver.answers else Answer(receiver.status)
                receiver.posts.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                               json.loads(raw), answer.status, time.monotonic()))
                if answer.status == DROP:  # the request came whole; the connection goes, no answer
                    self.close_connection = True
                    return
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
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
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
