"""`mentions match`: a Unix filter, like grep for mentions: no network, no state.

    FILE... or stdin ─read─▶ [Document] ─Matcher─▶ [Mention] ─write─▶ stdout (one line each)

Exit 0 when something matched, 1 when nothing did, 2 on a usage error or an unreadable
input (as grep does). Heavy imports wait inside the function: `--help` must stay fast.
"""

from __future__ import annotations

import codecs
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import typer

from mentions.cli.common import CONFIG_OPTION, EXIT_USAGE, fail
from mentions.streams import discard_unwritten_output, stdin_bytes

if TYPE_CHECKING:
    from mentions.models import Document, Mention

FORMATS = ("jsonl", "json", "csv", "table")
_HTML_SUFFIXES = (".html", ".htm")
# Not readable=True (Typer's default for paths): like grep, an unreadable file is named and
# the others are still read.
FILES_ARGUMENT = typer.Argument(
    None, metavar="FILE", readable=False, help="Files to read; none or - reads stdin."
)
QUERY_OPTION = typer.Option(
    None, "-e", "--query", metavar="QUERY", help="A query to look for (repeatable); its text is its name."
)
FORMAT_OPTION = typer.Option(
    None, "--format", "-f", metavar="FORMAT",
    help="jsonl, json, csv or table (default: table on a terminal, else jsonl)."
)
LINES_OPTION = typer.Option(False, "--lines", help="Plain text: one document per line.")
HTML_OPTION = typer.Option(False, "--html", help="Read input as HTML (visible text only).")
JSONL_OPTION = typer.Option(
    False, "--jsonl", help="Read input as JSON Lines documents (stdin of such lines is read so anyway)."
)


def match(
    files: list[Path] | None = FILES_ARGUMENT,
    query: list[str] | None = QUERY_OPTION,
    config: Path | None = CONFIG_OPTION,
    output_format: str | None = FORMAT_OPTION,
    lines: bool = LINES_OPTION,
    html: bool = HTML_OPTION,
    jsonl: bool = JSONL_OPTION,
) -> None:
    """Match queries against text, HTML or JSON Lines from files or stdin.

    Example: mentions match -e 'Acme NOT "Acme Corp"' --html page.html
    """
    from mentions.errors import QueryError
    from mentions.match import KeywordRule, Matcher
    from mentions.redact import Redactor

    chosen = output_format or ("table" if sys.stdout.isatty() else "jsonl")
    if chosen not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {chosen!r}")
    if html and jsonl:
        fail("--html and --jsonl exclude each other")
    tags: dict[str, tuple[str, ...]] = {}
    redactor = Redactor()
    rules = [KeywordRule(name=text, query=text) for text in query or ()]
    if config is not None or not query:
        from mentions.cli.common import load

        loaded = load(config, needs_sources=False, needs_network=False)
        # With `-e` too, a config given with `-c` names the secrets to hide (a token pasted
        # into a ticket); `-e` replaces only its keywords.
        redactor = loaded.redactor
        if not query:
            rules = [keyword.rule() for keyword in loaded.keywords]
            tags = {keyword.name: tuple(keyword.tags) for keyword in loaded.keywords}
    try:
        matcher = Matcher(rules)
    except QueryError as error:
        fail(f"query: {error}")
    # Like grep: a file that cannot be read is named at the end (exit 2); the others are read.
    paths = files or [Path("-")]
    reader = _Reader(lines=lines, html=html, jsonl=jsonl)
    from mentions.identity import LinksSoFar
    from mentions.lang import with_language
    from mentions.output import make_writer

    writer = make_writer(chosen, sys.stdout)
    links = LinksSoFar()
    has_matched = False
    try:
        for document in reader.documents(paths):
            # As in `scan`: the config's secrets (a header's token in a pasted log) are hidden
            # before matching, so no record shows one and the ids are the scan's.
            document = redactor.document(document)
            # As in `scan`: every document needs its language for a `lang:` query, else only
            # those that matched (their records carry it).
            if matcher.needs_language:
                document = with_language(document)
            matches = matcher.match(document)
            if matches and not matcher.needs_language:
                document = with_language(document)
            key = links.key(document) if matches else ""
            for found in matches:
                writer.write(_mention(document, found, tags.get(found.keyword, ()), key))
                has_matched = True
        writer.close()
    except BrokenPipeError:
        # The reader went away (`| head -1`): end quietly, as the Python docs advise.
        discard_unwritten_output()
        raise typer.Exit(0) from None
    if reader.problems:
        fail(reader.problems, EXIT_USAGE)
    raise typer.Exit(0 if has_matched else 1)


def _html_document(source: str, html: str) -> Document:
    """A page as the scan reads a feed entry's HTML: its visible text, title and declared language."""
    from mentions.extract import visible_text
    from mentions.extract.dom import parse
    from mentions.lang import declared_language

    tree = parse(html)  # with the limits that keep a page built to stall lexbor fast
    title = tree.css_first("title")
    root = tree.css_first("html")
    return _document(
        source,
        visible_text(html),
        title=" ".join((title.text() if title is not None else "").split()),
        lang=declared_language(root.attributes.get("lang") if root is not None else None),
    )


class _Reader:
    """Turns files (or stdin) into documents; a bad file or line is noted, never fatal."""

    def __init__(self, *, lines: bool, html: bool, jsonl: bool) -> None:
        self.lines, self.html, self.jsonl = lines, html, jsonl
        self.problems: list[str] = []

    def documents(self, paths: list[Path]) -> Iterator[Document]:
        for path in paths:
            source = "stdin" if str(path) == "-" else str(path)
            suffix = path.suffix.lower()
            try:
                is_html = self.html or suffix in _HTML_SUFFIXES
                if self.jsonl or suffix == ".jsonl":
                    yield from self._jsonl(source, _lines_of(path))
                elif self.lines and is_html:
                    # The visible text's lines, not the markup's: no tags, scripts or styles.
                    page = _html_document(source, _decode_html(_read(path)))
                    for line in page.text.splitlines():
                        yield replace(page, text=line, title="")
                elif self.lines:
                    for line in _lines_of(path):
                        if line.strip():
                            yield _document(source, line.rstrip("\r\n"))
                elif is_html:
                    yield _html_document(source, _decode_html(_read(path)))
                else:
                    text = _decode(_read(path))
                    # stdin has no `.jsonl` name to go by: `cat tickets.jsonl | mentions
                    # match` means one document per ticket, not one of raw JSON.
                    records = _json_records(text) if source == "stdin" else None
                    if records is not None:
                        yield from (_record_document(source, record) for record in records)
                    else:
                        yield _document(source, text)
            except FileNotFoundError:
                self.problems.append(f"{source}: no such file")
            except IsADirectoryError:
                self.problems.append(f"{source}: is a directory, not a file")
            except OSError as error:
                self.problems.append(f"{source}: {(error.strerror or str(error)).lower()}")

    def _jsonl(self, source: str, lines: Iterable[str]) -> Iterator[Document]:
        from mentions.decode import load_json

        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = load_json(line)
            except (ValueError, RecursionError):  # RecursionError: nested deeper than json reads
                self.problems.append(f"{source}:{number}: not a JSON object")
                continue
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                self.problems.append(f'{source}:{number}: needs a "text" string')
                continue
            yield _record_document(source, item)


def _record_document(source: str, record: dict[str, Any]) -> Document:
    """A JSON Lines record (`text` a string) as a document."""
    fields = {
        key: value for key in ("title", "url", "author", "lang") if isinstance(value := record.get(key), str)
    }
    return _document(source, record["text"], published=_parse_time(record.get("published")), **fields)


def _json_records(text: str) -> list[dict[str, Any]] | None:
    """The records of `text` when every non-blank line (and there is one) is a JSON object
    with a `text` string, else None: plain text of which every line is such an object is,
    in practice, JSON Lines."""
    from mentions.decode import load_json

    records = []
    for line in _json_lines(text):
        if not line.strip():
            continue
        if not line.lstrip().startswith("{"):
            return None
        try:
            record = load_json(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            return None
        records.append(record)
    return records or None


def _json_lines(text: str) -> list[str]:
    """The lines of JSON Lines: split at line feeds only. `str.splitlines` also splits at
    U+2028, NEL and form feeds, which JSON strings may hold raw (`jq -c` writes them)."""
    return [line.rstrip("\r") for line in text.split("\n")]


def _document(source: str, text: str, **fields: Any) -> Document:
    from mentions.models import Document

    return Document(source=source, source_type="file", text=text, **fields)


def _read(path: Path) -> bytes:
    return stdin_bytes().read() if str(path) == "-" else path.read_bytes()


def _lines_of(path: Path) -> Iterator[str]:
    """Lines as they arrive, so `tail -f log | mentions match --lines` works.

    A UTF-16 or UTF-32 file (its byte order mark says so) is read as text in that encoding:
    split at the byte 0x0A, its lines would be cut inside characters."""
    stream: IO[bytes] = stdin_bytes() if str(path) == "-" else path.open("rb")
    try:
        peek = getattr(stream, "peek", None)  # buffered files and stdin have it
        encoding = _wide_encoding(peek(4)[:4] if peek is not None else b"")
        if encoding is not None:
            text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)
            try:
                yield from text
            finally:
                text.detach()  # the stream is closed below (stdin: never)
            return
        for raw in stream:
            yield _decode(raw)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _wide_encoding(head: bytes) -> str | None:
    """"utf-32" or "utf-16" when `head` starts with their byte order mark, else None."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _decode_html(data: bytes) -> str:
    """A page's text by the rule a `page:` source reads it with (`<meta charset>` included)."""
    from mentions.decode import decode_html

    return decode_html(data)


def _decode(data: bytes) -> str:
    # A file saved as UTF-16 or UTF-32 (Windows tools do) says so with its byte order mark.
    wide = _wide_encoding(data)
    if wide is not None:
        return data.decode(wide, errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _parse_time(value: object) -> datetime | None:
    from mentions.dates import parse_date

    return parse_date(value) if isinstance(value, str) else None


def _mention(document: Document, found: Any, tags: tuple[str, ...], key: str) -> Mention:
    from mentions.identity import mention_id
    from mentions.models import Mention

    # The id `scan` gives: a URL's, else the text's (a line's place in a file is no identity:
    # the same ticket on another line is the same ticket); `key` tells apart different
    # documents at one URL.
    return Mention.of(
        found, document, id=mention_id(found.keyword, document, key), tags=tags, found_at=datetime.now(UTC)
    )
