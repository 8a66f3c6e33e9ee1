"""The only package that talks to the network: `Fetcher.get(url) -> Response | FetchError`.

    client.py      Fetcher and Response: deadlines, retries, politeness, redirects
    robots.py      robots.txt per origin (RFC 9309)
    netguard.py    public-address check against SSRF, also at connect time
    decompress.py  bounded gzip/deflate decoding (no decompression bombs)
    classify.py    bot walls, Retry-After, secret headers, URL redaction, HTML sniffing
"""

from mentions.fetch.classify import looks_like_html, redact_url
from mentions.fetch.client import Fetcher, Response

__all__ = ["Fetcher", "Response", "looks_like_html", "redact_url"]
