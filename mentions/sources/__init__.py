"""Source kinds: how each kind of source turns into documents.

A kind is one async function `collect(source, context) -> list[Document]`; it asks the
context for bytes (the context knows the network, the state's validators and the limits)
and turns them into documents with pure parsing functions. Add a kind by writing a module
with `collect` and naming it in `KINDS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from mentions.config import Keyword, Source
    from mentions.errors import FetchError
    from mentions.fetch import Response
    from mentions.models import Document

T = TypeVar("T")


class Context(Protocol):
    """What a source kind may ask of the scan."""

    async def fetch(
        self, url: str, *, is_remote_choice: bool = False, is_conditional: bool = True
    ) -> Response | None:
        """The body at `url` (http(s), file:// or a config-relative path); None if unchanged (304).

        `is_conditional=False` asks for the whole body even if it did not change since the
        stored validators (a source that needs it once more). Raises FetchError.
        """
        ...

    def resolve_path(self, location: str) -> Path:
        """A local path from the config, relative to the config file's folder."""
        ...

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run CPU-heavy parsing without stalling the other fetches."""
        ...

    def keywords(self) -> list[Keyword]:
        """The keywords this source is matched against (searches expand one URL per keyword)."""
        ...

    def last_success(self) -> datetime | None:
        """When this source last ran without error (None: never, or no state); sitemaps start there."""
        ...

    def notes(self) -> dict[str, str]:
        """What this source noted in earlier runs, by key (empty: none, no state, or `--all`,
        which also notes nothing)."""
        ...

    def note(self, key: str, value: str) -> None:
        """Keep `value` under `key` for the next run, saved with the validators: only once this
        run's mentions are recorded, and not after a run that failed or looked at only part."""
        ...

    def fail_after_documents(self, error: FetchError) -> None:
        """The source failed with `error`, but the documents `collect` returns are complete
        (the pages read before a `next` page failed): they are delivered, and the source is
        still reported as failed, so it is seen and read again in full on the next run."""
        ...


Collector = Callable[["Source", Context], Awaitable[list["Document"]]]


def collector_for(kind: str) -> Collector | None:
    """The collect function of a source kind; imported lazily to keep start-up light."""
    if kind == "feed":
        from mentions.sources import feed

        return feed.collect
    if kind == "page":
        from mentions.sources import page

        return page.collect
    if kind == "file":
        from mentions.sources import file

        return file.collect
    if kind == "json":
        from mentions.sources import json_api

        return json_api.collect
    if kind in ("search", "preset"):
        from mentions.sources import search

        return search.collect
    if kind == "sitemap":
        from mentions.sources import sitemap

        return sitemap.collect
    return None
