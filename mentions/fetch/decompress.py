"""Bounded decompression of response bodies.

httpx decodes each network read in one call, so one 64 KiB read of a gzip bomb becomes a
63 MiB chunk and `Content-Encoding: gzip, gzip` turns 2,640 bytes into 1 GiB before any
size check can run. We read the raw bytes and decode them here, never producing more than
`CHUNK` bytes per step, so the caller can stop at `max_bytes` with bounded memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

CHUNK = 64 * 1024
MAX_LAYERS = 3
ACCEPT_ENCODING = "gzip, deflate"


class InvalidCompression(Exception):
    """The body does not decode with the Content-Encoding the server named."""


class Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of at most CHUNK bytes each."""
        ...

    def finish(self) -> Iterator[bytes]:
        """The rest; raises InvalidCompression if the stream was cut short."""
        ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (several members allowed, as browsers do), zlib-wrapped or raw deflate."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._obj: zlib._Decompress | None = None
        self._head = b""
        self._done = False

    def _start(self, data: bytes) -> zlib._Decompress:
        if self._kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" should be zlib-wrapped (RFC 9110) but some servers send raw deflate.
        is_zlib = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._done:
            return
        if self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._obj = self._start(data)
        while data:
            try:
                out = self._obj.decompress(data, CHUNK)
            except zlib.error as error:
                raise InvalidCompression(f"{self._kind}: {error}") from None
            if out:
                yield out
            if self._obj.eof:
                rest = self._obj.unused_data
                if self._kind == "gzip" and rest[:2] == b"\x1f\x8b":
                    self._obj = self._start(rest)
                    data = rest
                    continue
                self._done = True  # trailing garbage after the end: ignored, like browsers
                return
            data = self._obj.unconsumed_tail

    def finish(self) -> Iterator[bytes]:
        if self._done:
            return
        if self._obj is None:
            if self._head:
                raise InvalidCompression(f"{self._kind}: stream too short")
            return  # an empty body with a Content-Encoding header: nothing to decode
        while True:
            try:
                out = self._obj.decompress(self._obj.unconsumed_tail, CHUNK)
            except zlib.error as error:
                raise InvalidCompression(f"{self._kind}: {error}") from None
            if not out:
                break
            yield out
        if not self._obj.eof:
            raise InvalidCompression(f"{self._kind}: the compressed stream is cut short")


class _Chain:
    """Decoders applied in reverse order of the Content-Encoding list."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def _through(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        if index == len(self._decoders):
            yield from pieces
            return
        decoder = self._decoders[index]
        for piece in pieces:
            yield from self._through(index + 1, decoder.feed(piece))

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, iter((data,)))

    def finish(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self._decoders):
            yield from self._through(index + 1, decoder.finish())


def decoder_for(content_encoding: str | None) -> Decoder:
    """A bounded decoder for a Content-Encoding header value (InvalidCompression if unknown)."""
    names = [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]
    names = [n for n in names if n != "identity"]
    if len(names) > MAX_LAYERS:
        raise InvalidCompression(f"{len(names)} layers of Content-Encoding")
    decoders: list[Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(_Zlib("gzip"))
        elif name == "deflate":
            decoders.append(_Zlib("deflate"))
        else:
            raise InvalidCompression(f"unsupported Content-Encoding {name!r}")
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)
