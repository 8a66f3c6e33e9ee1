"""`file:` sources: local exports as documents (`.txt .html .xml .json .jsonl`, `-` for stdin).

A path may name a file, a folder (every supported file in it) or a glob pattern.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from mentions.config import Source
from mentions.dates import parse_date
from mentions.decode import decode_html, html_for_parser, load_json
from mentions.errors import FetchError
from mentions.extract import main_text
from mentions.models import Document
from mentions.sources import Context
from mentions.streams import stdin_bytes

SUFFIXES = (".txt", ".text", ".md", ".html", ".htm", ".xml", ".rss", ".atom", ".json", ".jsonl")
MAX_FILE_BYTES = 100_000_000  # an export of many documents (JSON Lines, a feed)
# A file that is one document (text, HTML) may be as large as a web page (`http.max_bytes`'
# default): an 84 MB text file took 2.4 GB to match, and no mention in it says where.
MAX_DOCUMENT_BYTES = 10_000_000
_MANY_DOCUMENTS = (".xml", ".rss", ".atom", ".json", ".jsonl")


async def collect(source: Source, context: Context) -> list[Document]:
    """Read the file(s) a source names and parse them."""
    if source.location == "-":
        body = stdin_bytes().read(MAX_FILE_BYTES + 1)
        return await context.run(parse_file, _within_limit(body, "stdin.txt", "standard input"),
                                 "stdin.txt", source.name)
    documents: list[Document] = []
    for path in _paths(source, context):
        try:
            with path.open("rb") as file:
                body = file.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise FetchError("file error", str(path), error.strerror or str(error)) from None
        body = _within_limit(body, str(path), str(path))
        documents.extend(await context.run(parse_file, body, str(path), source.name))
    return documents


def _within_limit(body: bytes, name: str, shown: str) -> bytes:
    """`body`, or FetchError("too large") past the limit of its kind: never a partial document
    (stdin was cut at 100 MB without a word)."""
    limit = MAX_FILE_BYTES if Path(name).suffix.lower() in _MANY_DOCUMENTS else MAX_DOCUMENT_BYTES
    if len(body) > limit:
        raise FetchError("too large", shown, f"more than {limit:,} bytes")
    return body


def _paths(source: Source, context: Context) -> list[Path]:
    path = context.resolve_path(source.location)
    if any(char in source.location for char in "*?["):
        # A pattern that matches nothing is a quiet day in an export folder; one whose folder
        # does not exist is a wrong path, and a cron job would never say so.
        folder = _folder_of_pattern(path)
        if not folder.is_dir():
            raise FetchError("file error", str(folder), "no such folder")
        return sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not path.exists():
        raise FetchError("file error", str(path), "no such file")
    return [path]


def _folder_of_pattern(pattern: Path) -> Path:
    """The folder a glob pattern starts from: its parts before the first wildcard."""
    fixed: list[str] = []
    for part in pattern.parts:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def parse_file(body: bytes, name: str, source: str) -> list[Document]:
    """Documents from the bytes of one local file, chosen by its suffix."""
    suffix = Path(name).suffix.lower()
    if suffix == ".jsonl":
        return _jsonl(body, name, source)
    if suffix == ".json":
        return _json(body, name, source)
    if suffix in (".xml", ".rss", ".atom"):
        from mentions.sources.feed import parse_feed

        return [_as_file(d) for d in parse_feed(body, Path(name).resolve().as_uri(), source)]
    if suffix in (".html", ".htm"):
        page = main_text(html_for_parser(body), None)
        return [Document(source, "file", page.text, page.title, _file_url(name), lang=page.lang)]
    text = decode_html(body, "text/plain")
    return [Document(source, "file", text, "", _file_url(name))]


def _file_url(name: str) -> str | None:
    """A file's `file://` URL; stdin has none (a record's `url` is a URL or null)."""
    return None if name == "stdin.txt" else Path(name).resolve().as_uri()


def _as_file(document: Document) -> Document:
    from dataclasses import replace

    return replace(document, source_type="file")


def _jsonl(body: bytes, name: str, source: str) -> list[Document]:
    documents = []
    for number, line in enumerate(body.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = load_json(line)
        except (ValueError, RecursionError):
            raise FetchError("parse error", name, f"line {number} is not JSON") from None
        documents.append(_record(record, f"{_file_url(name)}#L{number}", source, name, number))
    return documents


def _json(body: bytes, name: str, source: str) -> list[Document]:
    try:
        data = load_json(body)
    except (ValueError, RecursionError):
        raise FetchError("parse error", name, "not valid JSON") from None
    records = _records_in(data)
    documents = [
        _record(record, f"{_file_url(name)}#{index}", source, name, index)
        for index, record in enumerate(records, start=1)
    ]
    if documents and not any(document.text or document.title for document in documents):
        # Matching nothing, silently, in every run: better said once.
        raise FetchError("parse error", name, f"no record has {_TEXT_KEYS} (nor a `title`)")
    return documents


_TEXT_KEYS = "`text`, `body` or `content`"


def _records_in(data: Any) -> list[Any]:
    """The records of a JSON export: a list of them, one object, or an object that wraps the
    list under one key (`{"tickets": [...]}`, `{"count": 2, "items": [...]}`), as exports and
    API dumps do."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and not any(key in data for key in ("text", "body", "content", "title")):
        lists = [value for value in data.values()
                 if isinstance(value, list) and all(isinstance(item, dict) for item in value)]
        filled = [value for value in lists if value]
        if len(filled) == 1:
            return filled[0]
        if not filled and len(lists) == 1:
            return []  # an empty export (`{"count": 0, "tickets": []}`), as `[]` is
    return [data]


def _record(record: Any, fallback_url: str, source: str, name: str, number: int) -> Document:
    if not isinstance(record, dict):
        raise FetchError("parse error", name, f"record {number} is not an object with `text`")

    def text_of(key: str) -> str | None:
        value = record.get(key)
        return value if isinstance(value, str) else None

    url = text_of("url") or text_of("link")
    return Document(
        source=source,
        source_type="file",
        text=text_of("text") or text_of("body") or text_of("content") or "",
        title=text_of("title") or "",
        url=url or fallback_url,
        author=text_of("author"),
        published=parse_date(text_of("published") or text_of("date")),
        guid=text_of("id"),
        lang=text_of("lang"),
    )
