"""How one source reaches the network, local files and the workers during a scan.

`SourceContext` is the `sources.Context` a source kind is given: `fetch` goes through the
scan's Fetcher with the source's headers and the stored HTTP validators (an unchanged
answer is None), local paths are read within bounds, and `run` hands parsing to the
worker pool, which finds the mentions in the same call. `preview_source` is the same
without a state, for `mentions test-source`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from mentions.config import Config, Keyword, Source
from mentions.dates import parse_date
from mentions.errors import FetchError
from mentions.fetch import Fetcher, Response
from mentions.lang import with_languages
from mentions.login import has_authorization, login_for, split_login
from mentions.models import Document
from mentions.sources import collector_for
from mentions.state import State
from mentions.workers import Found, WorkerPool, documents_in

T = TypeVar("T")
MAX_LOCAL_BYTES = 100_000_000


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What the command line asked of this scan."""

    keywords: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    is_seed: bool = False
    show_all: bool = False
    is_dry_run: bool = False
    concurrency: int | None = None
    timeout: float | None = None
    is_forced: bool = False  # try sources that are backing off, too
    shard: tuple[int, int] | None = None  # (i, n): only the i-th of n shares (1-based)



class SourceContext:
    """The sources.Context of one source in one scan."""

    def __init__(
        self, source: Source, config: Config, fetcher: Fetcher, state: State | None,
        options: ScanOptions,
    ) -> None:
        self.source = source
        self.config = config
        self.fetcher = fetcher
        self.state = state
        self.options = options
        self.pool: WorkerPool | None = None
        self.validators: list[tuple[str, str | None, str | None]] = []
        self.is_unchanged = False
        self.http_status: int | None = None
        self.new_notes: list[tuple[str, str]] = []  # saved with the validators
        self.error: FetchError | None = None  # failed after the documents collected
        # What each parse returned, with the mentions its worker already found in it.
        self._found_while_parsing: list[tuple[list[Document], list[Found]]] = []

    def resolve_path(self, location: str) -> Path:
        return self.config.resolve_path(location)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        if self.pool is None:
            return await asyncio.to_thread(function, *args)
        result, found = await self.pool.parse(function, self.source, self.options.since, *args)
        documents = documents_in(result)
        if documents is not None and found is not None:
            self._found_while_parsing.append((documents, found))
        return result

    def found_in(self, documents: list[Document]) -> list[Found] | None:
        """The mentions the workers found while parsing, if `documents` are exactly what the
        parses returned, in order (a collector that drops or adds some gets None)."""
        parsed = [document for batch, _ in self._found_while_parsing for document in batch]
        if len(parsed) != len(documents) or any(a is not b for a, b in zip(parsed, documents, strict=True)):
            return None
        return [item for _, found in self._found_while_parsing for item in found]

    def keywords(self) -> list[Keyword]:
        wanted = set(self.source.keywords) if self.source.keywords is not None else None
        return [
            keyword for keyword in self.config.keywords
            if (wanted is None or keyword.name in wanted)
            and (not self.options.keywords or keyword.name in self.options.keywords)
        ]

    def notes(self) -> dict[str, str]:
        # `--all` looks at everything again: as if nothing had been noted.
        if self.state is None or self.options.show_all:
            return {}
        return self.state.notes(self.source.name)

    def note(self, key: str, value: str) -> None:
        if not self.options.show_all:  # `--all` read as if nothing was noted: it notes nothing
            self.new_notes.append((key, value))

    def last_success(self) -> datetime | None:
        health = self.state.health(self.source.name) if self.state is not None else None
        return parse_date(health.last_success) if health is not None else None

    def fail_after_documents(self, error: FetchError) -> None:
        self.error = error

    async def fetch(
        self, url: str, *, is_remote_choice: bool = False, is_conditional: bool = True
    ) -> Response | None:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme in ("", "file"):
            if is_remote_choice:
                raise FetchError("unsupported url", url, "a page may not lead to local files")
            return await asyncio.to_thread(self._read_local, url)
        etag = last_modified = None
        # the state keeps no secret, not even in a key: no `${ENV}` value, no login
        stored_as = self.config.redactor(split_login(url)[0])
        if self.state is not None and not self.options.show_all and is_conditional:
            etag, last_modified = self.state.validators(self.source.name, stored_as)
        headers = self.source.headers
        login = login_for(url, self.source.location)  # its next pages, on the same site
        if login is not None and not has_authorization(headers):
            headers = {**headers, "Authorization": login}
        response = await self.fetcher.get(
            url,
            headers=headers,
            timeout=self.options.timeout or self.source.timeout,
            etag=etag,
            last_modified=last_modified,
            is_remote_choice=is_remote_choice,
            # a link found on a config page on a private address (an intranet forum) may stay
            # inside; one that started on a public page may not lead inside
            chosen_by=self.source.location if is_remote_choice else None,
            robots=self.source.robots,
            proxy=self.source.proxy,
            cookies=self.source.cookies,
        )
        self.http_status = response.status
        if response.is_not_modified:
            self.is_unchanged = True
            return None
        if response.etag or response.last_modified:
            self.validators.append((stored_as, response.etag, response.last_modified))
        return response

    def _read_local(self, location: str) -> Response:
        if location.lower().startswith("file://"):
            path = Path(unquote(urlsplit(location).path))
        else:
            path = self.resolve_path(location)
        try:
            with path.open("rb") as handle:
                body = handle.read(MAX_LOCAL_BYTES + 1)
        except OSError as error:
            raise FetchError("file error", str(path), error.strerror or str(error)) from None
        if len(body) > MAX_LOCAL_BYTES:
            raise FetchError("too large", str(path), f"more than {MAX_LOCAL_BYTES} bytes")
        suffix = path.suffix.lower()
        content_type = "text/html" if suffix in (".html", ".htm") else ""
        return Response(path.resolve().as_uri(), 200, {"content-type": content_type}, body)


async def preview_source(
    config: Config, source: Source, options: ScanOptions | None = None
) -> tuple[list[Document], FetchError | None]:
    """The documents one source yields right now, with no state (`mentions test-source`),
    and the error that ended it after them (a `next` page that failed), if any.

    Raises FetchError when there are no documents to show, as a scan would record it; none
    of these carries a value from `${ENV}`.
    """
    try:
        documents, error = await _preview(config, source, options or ScanOptions())
    except FetchError as failure:
        raise config.redactor.error(failure) from None
    shown = [config.redactor.document(document) for document in documents]
    return await asyncio.to_thread(with_languages, shown), config.redactor.error(error) if error else None


async def _preview(
    config: Config, source: Source, options: ScanOptions
) -> tuple[list[Document], FetchError | None]:
    collect = collector_for(source.kind)
    if collect is None:
        raise FetchError("unsupported url", source.location, f"no `{source.kind}` sources yet")
    async with Fetcher(config.http) as fetcher:
        context = SourceContext(source, config, fetcher, None, options)
        try:
            documents = await collect(source, context)
        except FetchError:
            raise
        except Exception as error:  # the same boundary as in a scan
            raise FetchError("parse error", source.location, type(error).__name__) from None
        return documents, context.error
