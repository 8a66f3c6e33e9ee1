"""The only package that talks to the network: `Fetcher.get(url) -> Response | FetchError`.

- client.py: Fetcher: slots, per-host delay, retries with backoff, redirects, the bound
- attempt.py: one request with a total deadline; what its answer means
- pools.py: httpx clients, one per proxy and guard, one SSL context
- transport.py: the httpx transport on aiohttp; the guard's resolver
- robots.py: robots.txt per origin (RFC 9309)
- netguard.py: public-address check against SSRF, also at connect time (via the resolver)
- decompress.py: bounded gzip/deflate decoding (no decompression bombs)
- classify.py: bot walls, Retry-After, secret headers, URL redaction, HTML sniffing
- response.py: the Response value
"""

from mentions.fetch.classify import looks_like_html, redact_url
from mentions.fetch.client import Fetcher
from mentions.fetch.response import Response

__all__ = ["Fetcher", "Response", "looks_like_html", "redact_url"]
