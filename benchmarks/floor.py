"""The floor: the least work any tool must do to read the same sources.

aiohttp fetches every URL at the same concurrency as `mentions scan`, with the validators
of the previous run (so a rerun costs 304s, as it does for `mentions`); lxml parses feeds
and selectolax pages. Each feed entry's HTML is turned into text with selectolax too,
because a brand name hidden in markup is not found otherwise. Nothing is matched, stored
or written: anything `mentions` spends beyond this is its own overhead.

Run: python benchmarks/floor.py URLS_FILE --concurrency 32 --validators FILE.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import aiohttp
from lxml import etree
from selectolax.lexbor import LexborHTMLParser

_ATOM = "{http://www.w3.org/2005/Atom}"
_CONTENT = (
    "description",
    "{http://purl.org/rss/1.0/modules/content/}encoded",
    f"{_ATOM}content",
    f"{_ATOM}summary",
)


def feed_text(body: bytes) -> int:
    """Parse a feed and the HTML of its entries; the number of characters of text."""
    root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, huge_tree=True))
    size = 0
    for element in root.iter(*_CONTENT):
        if element.text:
            size += len(LexborHTMLParser(element.text).text(separator=" "))
    return size


def page_text(body: bytes) -> int:
    """Parse a page; the number of characters of its body text."""
    tree = LexborHTMLParser(body)
    return len(tree.body.text(separator=" ")) if tree.body is not None else 0


async def fetch_all(urls: list[str], concurrency: int, validators: dict[str, str]) -> tuple[int, int, int]:
    """Fetch and parse every URL; (answers 200, answers 304, failures)."""
    counts = [0, 0, 0]
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str) -> None:
            headers = {"If-None-Match": validators[url]} if url in validators else {}
            async with limit:
                try:
                    async with session.get(url, headers=headers) as answer:
                        body = await answer.read()
                        if answer.status == 304:
                            counts[1] += 1
                            return
                        is_feed = "xml" in answer.headers.get("Content-Type", "")
                        feed_text(body) if is_feed else page_text(body)
                        if "ETag" in answer.headers:
                            validators[url] = answer.headers["ETag"]
                        counts[0] += 1
                except (aiohttp.ClientError, etree.XMLSyntaxError):
                    counts[2] += 1

        await asyncio.gather(*(one(url) for url in urls))
    return counts[0], counts[1], counts[2]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("urls", type=Path, help="one URL per line")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--validators", type=Path, required=True, help="ETags kept between runs")
    args = parser.parse_args()
    urls = args.urls.read_text().split()
    validators = json.loads(args.validators.read_text()) if args.validators.exists() else {}
    fresh, unchanged, failed = asyncio.run(fetch_all(urls, args.concurrency, validators))
    args.validators.write_text(json.dumps(validators))
    print(json.dumps({"fetched": fresh, "unchanged": unchanged, "failed": failed}))


if __name__ == "__main__":
    main()
