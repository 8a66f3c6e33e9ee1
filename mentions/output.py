"""Writers for new mentions: JSON Lines, CSV, one JSON array, or a table for people.

A writer is anything with `write(mention)` and `close()`. JSONL and CSV write one whole
line per mention and flush it, so a consumer never sees half a record and a crash loses
at most the line being written.
"""

from __future__ import annotations

import csv
import io
import json
from typing import IO, Any, Protocol

from mentions.console import clean_text
from mentions.dates import rfc3339
from mentions.models import Mention

FORMATS = ("table", "jsonl", "csv", "json")
# One encoder for every record: json.dumps with an option builds a new encoder per call,
# half the cost of encoding a small record (a large scan writes 100,000s of them).
to_json = json.JSONEncoder(ensure_ascii=False).encode
CSV_COLUMNS = ("id", "keyword", "tags", "source", "source_type", "url", "title", "author",
               "published", "found_at", "terms", "count", "snippet", "lang")


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
    """One JSON array; streamed element by element so memory stays flat."""

    is_buffered = False

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._count = 0

    def write(self, mention: Mention) -> None:
        prefix = "[\n" if self._count == 0 else ",\n"
        self._stream.write(prefix + to_json(mention_record(mention)))
        self._stream.flush()
        self._count += 1

    def close(self) -> None:
        self._stream.write("[]\n" if self._count == 0 else "\n]\n")
        self._stream.flush()


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
                is_excel: bool = False) -> Writer:
    """The writer of `output_format` (table, jsonl, csv, json) on `stream`."""
    if output_format == "jsonl":
        return JsonLinesWriter(stream)
    if output_format == "json":
        return JsonArrayWriter(stream)
    if output_format == "csv":
        return CsvWriter(stream, has_header=has_header, is_excel=is_excel)
    import sys

    from rich.console import Console

    from mentions.console import plain_options
    from mentions.table import TableWriter

    console = Console(file=stream, highlight=False, force_terminal=None if stream is sys.stdout else False,
                      **plain_options())
    return TableWriter(console)
