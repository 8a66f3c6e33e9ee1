"""Writers for new mentions: JSON Lines, CSV, one JSON array, or a table for people.

A writer is anything with `write(mention)` and `close()`. JSONL and CSV write one whole
line per mention and flush it, so a consumer never sees half a record and a crash loses
at most the line being written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import IO, Any, Protocol

from mentions.console import clean_text
from mentions.dates import rfc3339
from mentions.models import Mention

FORMATS = ("table", "jsonl", "csv", "json")
# The format a file's name asks for; the table has no extension of its own.
_FORMAT_OF_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
# One encoder for every record: json.dumps with an option builds a new encoder per call,
# half the cost of encoding a small record (a large scan writes 100,000s of them).
_encode = json.JSONEncoder(ensure_ascii=False).encode
# Escaped although JSON allows them raw: C1 controls (U+009B is CSI, the 8-bit form of
# ESC [, which terminals obey) and the bidirectional overrides that reorder what a terminal
# shows. The JSON still decodes to the same text.
_TERMINAL_UNSAFE = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def to_json(value: object) -> str:
    """`value` as one line of JSON, UTF-8 as written but for what a terminal would obey."""
    text = _encode(value)
    if text.isascii() or not _TERMINAL_UNSAFE.search(text):
        return text
    return _TERMINAL_UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


CSV_COLUMNS = ("id", "keyword", "tags", "source", "source_type", "url", "title", "author",
               "published", "found_at", "terms", "count", "snippet", "lang")


def format_of_file(path: Path) -> str | None:
    """The format `-o FILE` means by its extension (`a.csv`: csv), or None for another one.

    Without it `-o a.csv` got JSON Lines, silently: a spreadsheet then read garbage."""
    return _FORMAT_OF_SUFFIX.get(path.suffix.lower())


class Writer(Protocol):
    """Where new mentions go; `write` returns only once the mention is out (flushed), unless
    `is_buffered`: then they are out only when `close` returns (the table)."""

    is_buffered: bool

    def write(self, mention: Mention) -> None: ...

    def close(self) -> None: ...


def mention_record(mention: Mention) -> dict[str, Any]:
    """The JSON object of SPEC "A mention", in its field order."""
    return {
        "id": mention.id,
        "keyword": mention.keyword,
        "tags": list(mention.tags),
        "source": mention.source,
        "source_type": mention.source_type,
        "url": mention.url,
        "title": mention.title,
        "author": mention.author,
        "published": rfc3339(mention.published),
        "found_at": rfc3339(mention.found_at),
        "terms": list(mention.terms),
        "count": mention.count,
        "snippet": mention.snippet,
        "lang": mention.lang,
    }


class JsonLinesWriter:
    """One JSON object per line, UTF-8, flushed per line."""

    is_buffered = False

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, mention: Mention) -> None:
        self._stream.write(to_json(mention_record(mention)) + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class JsonArrayWriter:
    """One JSON array; streamed element by element so memory stays flat.

    `continues` appends to an array already in the file, which `reopen_json_array` left
    open: False when it is empty (`[]`), True when it holds items."""

    is_buffered = False

    def __init__(self, stream: IO[str], *, continues: bool | None = None) -> None:
        self._stream = stream
        self._count = 0
        # What goes before the first item, and what closes the array if none came.
        self._opening, self._empty_end = {None: ("[\n", "[]\n"), False: ("\n", "]\n"),
                                          True: (",\n", "\n]\n")}[continues]

    def write(self, mention: Mention) -> None:
        prefix = ",\n" if self._count else self._opening
        self._stream.write(prefix + to_json(mention_record(mention)))
        self._stream.flush()
        self._count += 1

    def close(self) -> None:
        self._stream.write("\n]\n" if self._count else self._empty_end)
        self._stream.flush()


def check_appendable(path: Path, output_format: str) -> None:
    """Refuse (ValueError) to append CSV rows to a file that is no CSV of mentions, or JSON
    Lines to one that is: the file would mix both, and no reader takes it.

    `-o mentions.csv` wrote JSON Lines until the format followed the file name: a cron job's
    old file would otherwise go on as JSON Lines with CSV rows after them."""
    if output_format not in ("csv", "jsonl") or not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        first = handle.readline(4096).removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")
    is_csv = first == ",".join(CSV_COLUMNS).encode()
    if output_format == "csv" and not is_csv:
        raise ValueError("its first line is not the header of a CSV of mentions")
    if output_format == "jsonl" and is_csv:
        raise ValueError("it is a CSV of mentions (--format csv goes on with it)")


def reopen_json_array(path: Path) -> bool | None:
    """Open the JSON array at the end of `path` for appending (`-o FILE --format json`).

    Another array after the first would leave a file no JSON reader accepts: the closing
    `]` is cut off instead, and the writer closes the array again. An array a killed scan
    left open goes on as it is. None: no file or an empty one; False: an empty array; True:
    an array with items. ValueError when the file does not end in an array."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("r+b") as handle:
        if not handle.read(4096).lstrip().startswith(b"["):
            raise ValueError("it holds no JSON array")
        size = handle.seek(0, 2)
        start = max(0, size - 4096)
        handle.seek(start)
        stripped = handle.read().rstrip()
        if start and len(stripped) < 2:  # nothing but white space near the end: read it all
            start = 0
            handle.seek(0)
            stripped = handle.read().rstrip()
        if stripped.endswith((b"}", b"[")):
            # Left open by a scan that was killed (`kill -9`, a power cut): it goes on as is.
            return not stripped.endswith(b"[")
        before = stripped[:-1].rstrip()
        if not stripped.endswith(b"]") or (start == 0 and not before):
            raise ValueError("it does not end with a JSON array")
        handle.truncate(start + len(before))
    return not before.endswith(b"[")


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: str) -> str:
    """A cell that a spreadsheet will not run as a formula (OWASP CSV injection advice).

    Leading spaces are looked through (some spreadsheets trim them before parsing), and the
    full-width `＝＋－＠` count too, as some spreadsheets fold them to ASCII.
    """
    if value.lstrip(" ").startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class CsvWriter:
    """CSV with a header row (left out when appending to a non-empty file).

    `is_excel` starts a new file with a UTF-8 byte order mark and ends lines with CRLF: without
    the BOM, Excel reads UTF-8 as the local code page and umlauts turn into mojibake.
    """

    is_buffered = False

    def __init__(self, stream: IO[str], *, has_header: bool = False, is_excel: bool = False) -> None:
        self._stream = stream
        self._has_header = has_header
        self._is_excel = is_excel
        self._terminator = "\r\n" if is_excel else "\n"

    def _line(self, cells: list[str]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=self._terminator).writerow(cells)
        return buffer.getvalue()

    def write(self, mention: Mention) -> None:
        record = mention_record(mention)
        cells = []
        for column in CSV_COLUMNS:
            value = record[column]
            if isinstance(value, list):
                value = "; ".join(value)
            cells.append(spreadsheet_safe(clean_text("" if value is None else str(value))))
        header = "" if self._has_header else self._line(list(CSV_COLUMNS))
        if header and self._is_excel:
            header = "\ufeff" + header
        self._has_header = True
        self._stream.write(header + self._line(cells))
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


def make_writer(output_format: str, stream: IO[str], *, has_header: bool = False,
                is_excel: bool = False, continues: bool | None = None) -> Writer:
    """The writer of `output_format` (table, jsonl, csv, json) on `stream`; `continues`: a
    JSON array in the file goes on (`reopen_json_array`)."""
    if output_format == "jsonl":
        return JsonLinesWriter(stream)
    if output_format == "json":
        return JsonArrayWriter(stream, continues=continues)
    if output_format == "csv":
        return CsvWriter(stream, has_header=has_header, is_excel=is_excel)
    import sys

    from rich.console import Console

    from mentions.console import plain_options
    from mentions.table import TableWriter

    console = Console(file=stream, highlight=False, force_terminal=None if stream is sys.stdout else False,
                      **plain_options())
    return TableWriter(console)
