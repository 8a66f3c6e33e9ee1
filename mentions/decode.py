"""Bytes to text the way browsers and feed readers do it.

INTERIM: BOM, then the HTTP charset, then <meta charset>, else UTF-8 with replacement.
Issue 5 adds XML declarations and detection with charset-normalizer.
"""

from __future__ import annotations

import codecs
import re

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:\-]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _usable(name: str | bytes | None) -> str | None:
    if not name:
        return None
    label = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The text of an HTML (or plain text) body; invalid bytes become U+FFFD."""
    for bom, bom_encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(bom_encoding, "replace")
    header = _HEADER.search(content_type or "")
    meta = _META.search(body[:4096])
    encoding = _usable(header.group(1) if header else None) or _usable(meta.group(1) if meta else None)
    return body.decode(encoding or "utf-8", "replace")
