"""`json:` sources: one document per item of a JSON API answer.

`items` is a dotted path to the list of items (`hits`, `data.children`, `0.posts`); each
field in `fields` is a dotted path inside one item. A field may also be

- a template with `{path}` placeholders (`link: "https://news.ycombinator.com/item?id={objectID}"`);
- alternatives separated by `|`, the first with a value wins
  (`title: title|story_title` for Hacker News comments, which have no title of their own);
- a path from the whole answer, `$.`, where `list[key=path]` picks the element of a list whose
  `key` equals the item's value at `path` (`title: $.topics[id=topic_id].title`: Discourse
  sends a post's topic title once, in the answer's `topics`, not in the post).

`items: posts + comments` joins the lists at several paths. A preset's `skip_if` names paths
inside an item (`comment.deleted`); an item where one of them is `true` yields no document:
Lemmy answers a deleted or removed comment with its flag set and its content emptied, and
its `text: comment.content|post.body` would otherwise read the post's text under the
comment's link.

Fields not given are looked for under common key names (see `DEFAULT_FIELDS`). An answer of the wrong
shape (no list where `items` points, an object where a string belongs) never crashes: the
path that does not fit becomes a FetchError, a value that does not fit is left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mentions.api_errors import error_message
from mentions.config import Source
from mentions.dates import parse_date
from mentions.decode import json_for_parser, load_json
from mentions.errors import FetchError
from mentions.extract.markup import api_text
from mentions.models import Document
from mentions.sources import Context
from mentions.sources.links import absolute

# Key names APIs commonly use, so that a `json:` source works before its fields are tuned.
DEFAULT_FIELDS = {
    "title": "title|name|subject|story_title|headline",
    "text": "text|content|body|comment_text|story_text|description|summary|excerpt|blurb|selftext",
    "link": "url|link|html_url|permalink|web_url|uri",
    "author": "author.name|author|user.login|user.username|username|user|account.acct|by|owner.display_name",
    "date": "created_at|published_at|published|date|created|creation_date|time|updated_at",
    "guid": "id|objectID|guid|uuid",
}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
MAX_ITEMS = 10_000
_ERROR_KEYS = ("error", "errors", "error_id", "error_message")


async def collect(source: Source, context: Context) -> list[Document]:
    """Fetch the API answer and turn its items into documents."""
    response = await context.fetch(source.location)
    if response is None:
        return []
    return await context.run(parse_json, response.body, response.url, source, "json", response.content_type)


def parse_json(
    body: bytes, url: str, source: Source, source_type: str, content_type: str | None = None
) -> list[Document]:
    """Documents from a JSON body, following `source.items` and `source.fields`."""
    data = json_answer(body, url, content_type)
    return documents_from_data(data, url, source.name, source.items, source.fields, source_type)


def json_answer(body: bytes, url: str, content_type: str | None = None) -> Any:
    """Decoded JSON; FetchError when the body is not JSON. A charset in `content_type` (the
    HTTP header) is honoured (`decode.json_for_parser`)."""
    try:
        return load_json(json_for_parser(body, content_type))
    except (ValueError, RecursionError):
        raise FetchError("parse error", url, "the answer is not valid JSON") from None


def documents_from_data(
    data: Any, url: str, source: str, items_path: str | None, fields: dict[str, str], source_type: str,
    skip_if: Sequence[str] = (),
) -> list[Document]:
    """Documents from decoded JSON, but none from an item where a `skip_if` path is true;
    FetchError when `items_path` does not lead to a list."""
    items = item_list(data, items_path) if items_path else data
    if not isinstance(items, list):
        said = error_message(data) if _is_error_answer(data) else None
        if said:
            # Stack Exchange, Lemmy and others may answer 200 with an error instead of results
            raise FetchError("parse error", url, f"the API answered with an error: {said}")
        if items_path is None and isinstance(data, dict):
            keys = ", ".join(list(data)[:8])
            detail = f"the answer is an object; set `items` to the path of its list (keys: {keys})"
        else:
            where = f"`items: {items_path}`" if items_path else "the answer"
            detail = f"{where} leads to {_kind(items)}, not a list"
        raise FetchError("parse error", url, detail)
    chosen = {**DEFAULT_FIELDS, **fields}
    answer = _Answer(data)
    documents = []
    for item in items[:MAX_ITEMS]:
        if not isinstance(item, dict) or any(_path_value(item, path, answer) is True for path in skip_if):
            continue
        document = _document(item, chosen, url, source, source_type, answer)
        if document.text or document.title:
            documents.append(document)
    return documents


def _is_error_answer(data: Any) -> bool:
    return isinstance(data, dict) and any(key in data for key in _ERROR_KEYS)


def _document(
    item: dict[str, Any], fields: dict[str, str], url: str, source: str, kind: str, answer: _Answer
) -> Document:
    values = {name: field_value(item, spec, answer) for name, spec in fields.items()}
    link = values.get("link")
    if link and not link.startswith(("http://", "https://")):
        link = absolute(url, link)
    # APIs do not say whether a field is HTML (Mastodon, Hacker News, Stack Exchange) or
    # plain text and Markdown (GitHub, Lemmy), and one `a|b` field may be either.
    return Document(
        source=source,
        source_type=kind,
        text=api_text(values.get("text") or ""),
        title=api_text(values.get("title") or ""),
        url=link or url,
        author=values.get("author"),
        published=parse_date(values.get("date")),
        guid=values.get("guid"),
        # An item without a link of its own is known by its guid or text, not by the API URL.
        is_permalink=bool(link),
    )


def field_value(item: Any, spec: str, answer: _Answer | None = None) -> str | None:
    """The text of one field: a dotted path, a `{path}` template, or `a|b` alternatives of those;
    a path that starts with `$.` is read from the whole `answer` (see the module docstring)."""
    for alternative in spec.split("|"):
        value = _template(item, alternative.strip(), answer) if "{" in alternative else _scalar(
            _path_value(item, alternative.strip(), answer)
        )
        if value:
            return value
    return None


def _path_value(item: Any, path: str, answer: _Answer | None) -> Any:
    if path.startswith("$."):
        return answer.lookup(path[2:], item) if answer is not None else None
    return lookup(item, path)


class _Answer:
    """The whole decoded answer, for `$.` paths; the lists they pick from are indexed once."""

    _PICK = re.compile(r"(?P<path>[^\[\]]*)\[(?P<key>[^=\[\]]+)=(?P<ref>[^\[\]]+)\]\.?")

    def __init__(self, data: Any) -> None:
        self.data = data
        self._indexes: dict[tuple[int, str], dict[str, Any]] = {}

    def lookup(self, path: str, item: Any) -> Any:
        """The value at `path` from the answer's root, `list[key=ref]` picking by the item's `ref`."""
        node = self.data
        position = 0
        for found in self._PICK.finditer(path):
            if found.start() != position:
                return None
            node = lookup(node, found.group("path"))
            wanted = _scalar(lookup(item, found.group("ref").strip()))
            if not isinstance(node, list) or wanted is None:
                return None
            node = self._index(node, found.group("key").strip()).get(wanted)
            position = found.end()
        return lookup(node, path[position:])

    def _index(self, elements: list[Any], key: str) -> dict[str, Any]:
        index = self._indexes.get((id(elements), key))
        if index is None:
            index = {}
            for element in elements[:MAX_ITEMS]:
                value = _scalar(lookup(element, key)) if isinstance(element, dict) else None
                if value is not None:
                    index.setdefault(value, element)
            self._indexes[(id(elements), key)] = index
        return index


def _template(item: Any, template: str, answer: _Answer | None = None) -> str | None:
    """`template` with each `{path}` filled in; None when any path has no value."""
    missing = False

    def fill(found: re.Match[str]) -> str:
        nonlocal missing
        value = _scalar(_path_value(item, found.group(1).strip(), answer))
        missing = missing or value is None
        return value or ""

    filled = _PLACEHOLDER.sub(fill, template)
    return None if missing else filled


def item_list(data: Any, items_path: str) -> Any:
    """The list at `items_path`; `a + b` joins the lists at several paths (Lemmy: posts + comments)."""
    if "+" not in items_path:
        return lookup(data, items_path)
    joined: list[Any] = []
    for path in items_path.split("+"):
        found = lookup(data, path.strip())
        if found is not None and not isinstance(found, list):
            return found
        joined.extend(found or [])
    return joined


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path (`a.b.0.c`); None where the path does not fit the data."""
    node = data
    for part in path.split("."):
        if part == "":
            continue
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            node = node[index] if -len(node) <= index < len(node) else None
        else:
            return None
        if node is None:
            return None
    return node


def _scalar(value: Any) -> str | None:
    """Strings, numbers and (for authors like `{name: …}`) named objects as text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, dict):
        for key in ("name", "display_name", "username", "login", "acct"):
            if isinstance(value.get(key), str) and value[key].strip():
                return str(value[key]).strip()
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {"dict": "an object", "str": "a string", "int": "a number", "float": "a number"}.get(
        type(value).__name__, f"a {type(value).__name__}"
    )
