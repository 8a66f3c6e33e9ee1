"""The corpus server: N sources on 127.0.0.1, fast enough never to be the bottleneck.

A raw asyncio protocol writes pre-rendered answers (headers and body in one buffer), so a
request costs the server a dictionary lookup and one `write`; the client under test has the
machine's CPU to itself, or nearly. It speaks just enough HTTP/1.1 for keep-alive GETs and
honours conditional requests (If-None-Match, If-Modified-Since -> 304).

Control, for the harness (no body needed):
    GET /_control/change?percent=10   give that share of sources a new version (new entries)
    GET /_control/latency?ms=50       delay every answer by that much from now on

Run: python benchmarks/server.py --sources 1000   (prints the port once it listens)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

import corpus


class Sources:
    """Every source's current answers, rendered ahead of time."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.versions = [0] * count
        self.changes = 0
        self.latency = 0.0
        self.answers: dict[str, tuple[bytes, bytes, str, str]] = {}
        for index in range(count):
            self._render(index)

    def _render(self, index: int) -> None:
        version = self.versions[index]
        body = corpus.render(index, version)
        etag = '"' + hashlib.blake2b(body.data, digest_size=8).hexdigest() + '"'
        modified = formatdate(1_790_000_000 + version * 3600, usegmt=True)
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {body.content_type}\r\nContent-Length: {len(body.data)}\r\n"
            f"ETag: {etag}\r\nLast-Modified: {modified}\r\n\r\n"
        ).encode()
        not_modified = f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n".encode()
        self.answers[corpus.path_of(index)] = (head + body.data, not_modified, etag, modified)

    def change(self, percent: float) -> int:
        """Give a fixed, seeded share of the sources one more version; the number changed."""
        self.changes += 1
        chosen = random.Random(self.changes).sample(range(self.count), round(self.count * percent / 100))
        for index in chosen:
            self.versions[index] += 1
            self._render(index)
        return len(chosen)


def _plain(status: str, text: str) -> bytes:
    data = text.encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )


class HttpProtocol(asyncio.Protocol):
    """One keep-alive connection: read requests, write the pre-rendered answers."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self._answer(head.decode("latin-1"))

    def _answer(self, head: str) -> None:
        lines = head.split("\r\n")
        target = lines[0].split(" ")[1] if lines[0].count(" ") >= 2 else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        answer = self._respond(target, headers)
        assert self.transport is not None
        if self.sources.latency:
            asyncio.get_running_loop().call_later(self.sources.latency, self._write, answer)
        else:
            self.transport.write(answer)

    def _write(self, answer: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(answer)

    def _respond(self, target: str, headers: dict[str, str]) -> bytes:
        path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        found = self.sources.answers.get(path)
        if found is not None:
            full, not_modified, etag, modified = found
            if "if-none-match" in headers:
                return not_modified if etag in headers["if-none-match"] else full
            return not_modified if headers.get("if-modified-since") == modified else full
        if path == "/robots.txt":
            return _plain("200 OK", "User-agent: *\nAllow: /\n")
        if path == "/_control/change":
            changed = self.sources.change(float(query.get("percent", ["10"])[0]))
            return _plain("200 OK", f"changed {changed}\n")
        if path == "/_control/latency":
            self.sources.latency = float(query.get("ms", ["0"])[0]) / 1000
            return _plain("200 OK", f"latency {self.sources.latency}\n")
        return _plain("404 Not Found", "no such source\n")


async def serve(count: int, port: int) -> None:
    """Render every source, listen, print the port, serve until killed."""
    sources = Sources(count)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(sources), "127.0.0.1", port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.sources, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
