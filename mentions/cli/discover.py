"""`mentions discover URL`: the feeds and sitemaps a site offers, as config snippets."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import typer

from mentions.cli.common import EXIT_OK, EXIT_SOURCE_FAILED, TIMEOUT_HELP, fail, parse_timeout
from mentions.console import clean_text, stderr_console

if TYPE_CHECKING:
    from mentions.discover import Found
    from mentions.errors import FetchError


def discover(
    url: str = typer.Argument(..., metavar="URL", help="A site or page, e.g. https://blog.example.org/"),
    timeout: str = typer.Option("10", "--timeout", metavar="SECONDS", help=TIMEOUT_HELP),
) -> None:
    """Find the feeds a site offers (link rel=alternate, common paths, comment feeds, sitemaps).

    Prints a `sources:` list item per feed or sitemap found, to append to a config whose
    last section is `sources:` (as `mentions init` writes it) or to paste under `sources:`;
    what went wrong goes to stderr.

    Example: mentions discover https://blog.example.org/ >> mentions.yaml
    """
    from mentions.config import HttpConfig
    from mentions.discover import discover as find_feeds
    from mentions.discover import snippets
    from mentions.fetch import Fetcher
    from mentions.fetch.classify import redact_url

    seconds = parse_timeout(timeout)
    if "://" not in url:
        url = "https://" + url
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        fail(f"discover needs an http or https URL, not {scheme}://")
    if not _has_host(url):
        fail(f"{clean_text(url, single_line=True)!r} is not a URL with a host name")

    async def run() -> tuple[list[Found], FetchError | None]:
        async with Fetcher(HttpConfig(timeout=seconds, delay=0, retries=1)) as fetcher:
            return await find_feeds(url, fetcher)

    found, failure = asyncio.run(run())
    if failure is not None:
        # Worded as a failing source is; with nothing found there is nothing to suggest either:
        # a `page:` source could not read it.
        problem = f"cannot fetch {redact_url(url)}: {failure}"
        if not found:
            fail(problem, EXIT_SOURCE_FAILED)
        stderr_console().print(f"mentions: {clean_text(problem, single_line=True)}", markup=False,
                               highlight=False)
    shown = clean_text(redact_url(url), single_line=True)  # never the login
    console = stderr_console()
    if not found:
        console.print(
            f"mentions: no feed or sitemap found on {shown}; a `page:` source with `items` can still read it",
            markup=False, highlight=False,
        )
        raise typer.Exit(EXIT_SOURCE_FAILED)
    sys.stdout.write(snippets(url, found))
    raise typer.Exit(EXIT_OK)


def _has_host(url: str) -> bool:
    """Whether `url` names a host that could be looked up (no spaces, no empty name)."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and not any(char.isspace() for char in url)
