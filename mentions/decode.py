"""Bytes to text the way browsers and feed readers do it; never raises on bad bytes.

Order of evidence: a byte-order mark, then the HTTP header's charset, then the document's
own declaration (`<?xml encoding>` or `<meta charset>`), then detection with
charset-normalizer. Declarations on the web lie in common ways, and these are caught:
a header's "UTF-8" on Latin-1 bytes (then the document's own declaration if it reads them,
else we detect); "ISO-8859-1" on UTF-8 bytes (valid UTF-8 with non-ASCII characters is
practically never meant as Latin-1); any other legacy charset on UTF-8 bytes it cannot decode
(a UTF-8 page left with `<meta charset=gb2312>`). Invalid bytes become U+FFFD.

Parsers trust the document's own declaration only: `feed_for_parser` and `json_for_parser`
give lxml, feedparser and json bytes they read as this order says.

`prepare_feed` hands feedparser UTF-8 bytes it can parse safely: no DTD internal subset
(entity-expansion bombs live there), an honest encoding declaration, no control characters.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from mentions.charsets import codec_of_label

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.IGNORECASE)
_META = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)["']""")
_XML_DECL_TEXT = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[A-Za-z0-9_.:\-]*(["'])""")
_DOCTYPE = re.compile(r"<!DOCTYPE\s[^\[>]*", re.IGNORECASE)
_SUBSET_END = re.compile(r"\]\s*>")
_XML_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
_PRESCAN = 8192  # browsers look at 1024 bytes; real pages put <meta> after long <head> junk
_DETECT_SAMPLE = 64 * 1024

_SINGLE_BYTE_LATIN = {"cp1252", "iso8859-15", "latin-1", "iso8859-1"}


def _bom(body: bytes) -> tuple[str, int] | None:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return encoding, len(bom)
    return None


def header_charset(content_type: str | None) -> str | None:
    """The usable charset named by a Content-Type header, if any."""
    found = _HEADER.search(content_type or "")
    return codec_of_label(found.group(1)) if found else None


def _document_charset(body: bytes, *, is_html: bool) -> str | None:
    head = body[:_PRESCAN]
    found = _XML_DECL.match(head)
    if found is None and is_html:
        found = _META.search(head)
    encoding = codec_of_label(found.group(1)) if found else None
    if encoding is not None and encoding.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a document we could read this far is ASCII-compatible (WHATWG)
    return encoding


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _has_valid_multibyte(body: bytes) -> bool:
    """True when most non-ASCII bytes form valid UTF-8 sequences: damaged UTF-8, not another
    charset. One pair that happens to be valid (`ß«` in windows-1252 is `DF AB`, valid UTF-8)
    does not make a legacy text UTF-8."""
    sample = body[:_DETECT_SAMPLE]
    in_sequences = sum(len(found) for found in _MULTIBYTE.findall(sample))
    return in_sequences > 0 and 2 * in_sequences > len(_HIGH_BYTE.findall(sample))


def _decodes(body: bytes, encoding: str) -> bool:
    """True when `body` is text in `encoding`, not a byte of it invalid."""
    try:
        body.decode(encoding)
    except (UnicodeError, LookupError):  # a codec that is no text encoding
        return False
    return True


def detect_encoding(body: bytes) -> str:
    """The encoding charset-normalizer finds most plausible (windows-1252 if it finds none)."""
    if body.isascii() or _is_utf8(body[:_DETECT_SAMPLE]):
        return "utf-8"
    import charset_normalizer  # imported late: only undeclared, non-UTF-8 bodies need it

    matches = list(charset_normalizer.from_bytes(body[:_DETECT_SAMPLE]))
    if not matches:
        return "cp1252"
    best = matches[0]
    # Short texts fit many code pages equally well; on the web windows-1252 is by far the
    # likeliest of the close ones, and Mac code pages almost never the right answer.
    close = [
        m.encoding
        for m in matches
        if m.chaos <= best.chaos + 0.1 and m.coherence >= best.coherence - 0.05
    ]
    if "cp1252" in close or best.encoding.startswith("mac_"):
        return "cp1252"
    try:
        return codecs.lookup(best.encoding).name
    except LookupError:
        return "cp1252"


def _choose(body: bytes, declared: str | None, is_utf8: bool | None = None) -> str:
    """Correct the two lies declarations tell; detect when nothing is declared.

    `is_utf8`: whether the body is valid UTF-8, when the caller has checked already (the
    check is a full decode of the body)."""
    has_high_bytes = not body.isascii()

    def is_valid() -> bool:
        return _is_utf8(body) if is_utf8 is None else is_utf8

    if declared == "utf-8":
        if not has_high_bytes or is_valid() or _has_valid_multibyte(body):
            return "utf-8"
        return detect_encoding(body)
    if declared in _SINGLE_BYTE_LATIN:
        return "utf-8" if has_high_bytes and is_valid() else declared
    if declared is not None:
        # A legacy charset that cannot read the body, which is valid UTF-8: a page converted
        # to UTF-8 whose declaration was left behind. One the body decodes in stays.
        if has_high_bytes and is_valid() and not _decodes(body, declared):
            return "utf-8"
        return declared
    if not has_high_bytes:
        return "utf-8"
    return detect_encoding(body)


def _declared(body: bytes, content_type: str | None, *, is_html: bool) -> str | None:
    """The charset declared for `body`: the HTTP header's, then the document's own. A header's
    UTF-8 that the body is not (nor damaged UTF-8) gives way to the document's declaration
    when that one reads the body: a windows-1252 feed served as `charset=UTF-8`."""
    header = header_charset(content_type)
    if header != "utf-8":
        return header or _document_charset(body, is_html=is_html)
    own = _document_charset(body, is_html=is_html)
    if (
        own not in (None, "utf-8")
        and not body.isascii()
        and not _is_utf8(body)
        and not _has_valid_multibyte(body)
        and _decodes(body, own)
    ):
        return own
    return header


def _encoding(body: bytes, content_type: str | None, *, is_html: bool) -> tuple[str, int]:
    """The encoding to read `body` in and the length of its byte-order mark (0 if none)."""
    bom = _bom(body)
    if bom is not None:
        return bom
    return _choose(body, _declared(body, content_type, is_html=is_html)), 0


def _decode_as(body: bytes, encoding: str, skip: int = 0) -> str:
    try:
        return body[skip:].decode(encoding, "replace")
    except (LookupError, UnicodeError):  # a codec that cannot decode (bytes-to-bytes, `idna`)
        return body[skip:].decode("utf-8", "replace")


def _decode(body: bytes, content_type: str | None, *, is_html: bool) -> str:
    return _decode_as(body, *_encoding(body, content_type, is_html=is_html))


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The text of an HTML (or plain text) body; invalid bytes become U+FFFD."""
    return _decode(body, content_type, is_html=True)


def html_for_parser(body: bytes, content_type: str | None = None) -> bytes | str:
    """What the HTML parser should read: the body itself when it is valid UTF-8 that
    `decode_html` would read as UTF-8 (most pages; the parser takes UTF-8 bytes, so decoding
    to text only to encode it again is skipped), else the text `decode_html` gives."""
    is_ascii = body.isascii()
    if _bom(body) is None and (is_ascii or _is_utf8(body)):
        declared = _declared(body, content_type, is_html=True)
        encoding = _choose(body, declared, is_utf8=True)  # (checked just above)
        # ASCII reads the same in the single-byte Latin code pages
        if encoding == "utf-8" or (is_ascii and encoding in _SINGLE_BYTE_LATIN):
            return body
    return decode_html(body, content_type)


def decode_xml(body: bytes, content_type: str | None = None) -> str:
    """The text of an XML body (RFC 7303: BOM, then HTTP charset, then the XML declaration)."""
    return _decode(body, content_type, is_html=False)


_C1_BYTES = re.compile(rb"[\x80-\x9f]")


def _parser_reads_as(label: bytes, encoding: str, body: bytes) -> bool:
    """Whether a parser taking `label` at its word reads `body` as `encoding` does. Browsers
    and feedparser read ISO-8859-1 and US-ASCII labels as windows-1252, lxml as what they
    say: the same text unless bytes 0x80-0x9F (or, for ASCII, any non-ASCII byte) occur. A
    label that is no web encoding (`idna`) must not reach the parser at all."""
    try:
        literal = codecs.lookup(label.decode("ascii", "ignore")).name
    except LookupError:
        return False
    if literal == encoding:
        return True
    if encoding != "cp1252":
        return False
    if literal == "ascii":
        return body.isascii()
    return literal in ("iso8859-1", "latin-1") and _C1_BYTES.search(body) is None


def feed_for_parser(body: bytes, content_type: str | None = None) -> bytes:
    """What an XML parser (lxml, feedparser) should read: the body itself when its own BOM or
    `<?xml encoding>` names the encoding `decode_xml` reads it in (most feeds), else the text
    `decode_xml` gives, as UTF-8 declared so.

    Parsers go by the document alone: a feed served as `charset=windows-1251` without a
    declaration would be read as UTF-8, one declared ISO-8859-1 that is UTF-8 as Latin-1."""
    encoding, skip = _encoding(body, content_type, is_html=False)  # skip: a BOM named `encoding`
    found = _XML_DECL.match(body[:_PRESCAN])
    own = codec_of_label(found.group(1)) if found else None
    if own is None:
        own = encoding if skip else "utf-8"  # XML's default
    if own == encoding and (found is None or _parser_reads_as(found.group(1), encoding, body)):
        return body
    text = _XML_DECL_TEXT.sub(r"\g<1>utf-8\g<2>", _decode_as(body, encoding, skip), count=1)
    return text.encode("utf-8", "replace")


def json_for_parser(body: bytes, content_type: str | None = None) -> bytes | str:
    """What `load_json` should read: the body itself (JSON is UTF-8, and json reads UTF-16
    and UTF-32 by their bytes) unless the HTTP header names another charset the body is in;
    then its text. A legacy label on valid UTF-8 is the usual lie, and read as UTF-8. A
    byte-order mark comes first: pass the body with it."""
    body = body.lstrip(b" \t\r\n")
    bom = _bom(body)
    if bom is not None:  # a byte-order mark beats the header; json reads UTF-16/32 by it
        return body[bom[1] :] if bom[0] == "utf-8" else body
    declared = header_charset(content_type)
    if declared is None or declared == "utf-8" or body.isascii():
        return body
    encoding = _choose(body, declared)
    if encoding == "utf-8" or encoding.startswith(("utf-16", "utf-32")):
        return body
    return _decode_as(body, encoding)


def _strip_internal_subset(text: str) -> str:
    """`<!DOCTYPE rss [ <!ENTITY ...> ]>` becomes `<!DOCTYPE rss>`: no entity definitions."""
    found = _DOCTYPE.search(text, 0, _PRESCAN)
    if found is None or found.end() >= len(text) or text[found.end()] != "[":
        return text
    end = _SUBSET_END.search(text, found.end())
    if end is None:
        return text[: found.end()].rstrip() + ">"  # unterminated: nothing after it is usable
    return text[: found.end()].rstrip() + ">" + text[end.end() :]


def prepare_feed(body: bytes, content_type: str | None = None) -> bytes:
    """Feed bytes made safe and unambiguous for feedparser: UTF-8, declared as such, with
    no DTD internal subset (billion-laughs bombs) and no characters XML forbids.

    Pass the result to `feedparser.parse(data)` without the original charset header.
    """
    text = decode_xml(body, content_type)
    text = _strip_internal_subset(text)
    text = _XML_DECL_TEXT.sub(r"\g<1>utf-8\g<2>", text, count=1)
    return text.translate(_XML_CONTROLS).encode("utf-8", "replace")


# A UTF-16 surrogate on its own is no character: JSON may still spell one (`"\ud800"`, valid
# JSON), and feedparser passes `&#xD800;` through. Such a string cannot be encoded: every
# later hash, database write and output line would fail, and with them the whole source.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def valid_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, as a decoder does with bad bytes."""
    if text.isascii() or _LONE_SURROGATE.search(text) is None:
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


def load_json(data: bytes | str) -> Any:
    """`json.loads`, its strings valid text (see `valid_text`); ValueError or RecursionError
    as json.loads raises them."""
    try:
        value = json.loads(data)
    except UnicodeDecodeError:
        # Broken bytes become U+FFFD, as in feeds and pages: one bad byte in an API's answer
        # failed the whole source as "not valid JSON".
        assert isinstance(data, bytes)
        data = data.decode(json.detect_encoding(data), "replace")
        value = json.loads(data)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if _SURROGATE_ESCAPE.search(raw) is None:  # the usual case: no string to look at
        return value
    if isinstance(value, str):
        return valid_text(value)
    pending = [value]  # iterative: json.loads accepts nesting deeper than a recursion would
    while pending:
        node = pending.pop()
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, item in items:
            if isinstance(item, str):
                node[key] = valid_text(item)
            elif isinstance(item, dict | list):
                pending.append(item)
            if isinstance(node, dict) and isinstance(key, str) and valid_text(key) != key:
                node[valid_text(key)] = node.pop(key)
    return value


_NUMERIC_REFERENCE = re.compile(rb"&#([xX][0-9a-fA-F]{1,8}|[0-9]{1,10});")


def without_bad_references(body: bytes) -> bytes:
    """`body` with every numeric character reference to no character (`&#xD800;`, a
    surrogate; `&#x110000;`, beyond Unicode) as `&#xFFFD;`: feedparser's loose parser fails
    on them with an exception, and the whole feed with it."""
    if b"&#" not in body:
        return body

    def checked(found: re.Match[bytes]) -> bytes:
        digits = found.group(1)
        code = int(digits[1:], 16) if digits[:1] in b"xX" else int(digits)
        return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else found.group(0)

    return _NUMERIC_REFERENCE.sub(checked, body)
