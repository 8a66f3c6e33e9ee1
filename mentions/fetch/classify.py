"""Small pure helpers that name what a server did: bot walls, Retry-After, secrets, HTML."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

_SECRET_WORDS = ("auth", "key", "token", "secret", "cookie", "session", "password", "signature")

# Markers of interstitial challenge pages (Cloudflare, DDoS-Guard, Sucuri, Imperva, captchas),
# matched as plain substrings of the lower-cased head: a regex alternation over a 64 KiB body
# cost 1.5 ms per response.
_CHALLENGE_STRONG = (
    b"<title>just a moment...</title>",
    b"<title>attention required! | cloudflare</title>",
    b"<title>ddos-guard</title>",
    b"<title>checking your browser",
    b"__cf_chl_",
    b"/cdn-cgi/challenge-platform/",
    b"ddos-guard.net/",
    b"sucuri website firewall",
    b"_incapsula_resource",
)
_CHALLENGE_WEAK = (
    b"g-recaptcha",
    b"h-captcha",
    b"hcaptcha.com",
    b"cf-turnstile",
    b"captcha-delivery.com",
    b"captcha</title>",
    b"are you a robot",
    b"robot check",
    b"bot verification",
)
_CHALLENGE_PAGE_MAX = 64 * 1024  # challenge pages are small; a 200 larger than this is content
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|script|title|iframe|h1|div|font|"
    rb"table|a|style|br|p)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)


def redact_url(url: str) -> str:
    """The URL with its query string, fragment and user info hidden: tokens live there."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", ""))


def is_secret_header(name: str) -> bool:
    """True for headers that carry credentials: never sent on to another origin."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date), None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_bot_challenge(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """True when the answer is an anti-bot interstitial rather than the page we asked for."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    is_error = status in (403, 429, 503) or status >= 400
    if not is_error and len(body) > _CHALLENGE_PAGE_MAX:
        return False
    head = body[:_CHALLENGE_PAGE_MAX].lower()
    if any(marker in head for marker in _CHALLENGE_STRONG):
        return True
    if status in (403, 429, 503):
        server = headers.get("server", "").lower()
        if "ddos-guard" in server or (server == "cloudflare" and b"cloudflare" in head):
            return True
        return any(marker in head for marker in _CHALLENGE_WEAK)
    return False


def looks_like_html(body: bytes) -> bool:
    """True when the body starts like an HTML document (an error page where a feed was due)."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = (
            head[2:]
            .decode("utf-16-le" if body[:1] == b"\xff" else "utf-16-be", "replace")
            .encode("ascii", "replace")
        )
    return bool(_HTML_START.match(head))
