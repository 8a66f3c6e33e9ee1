"""What every notifier shares: the contract, the batch of mentions, text helpers, one HTTP POST.

Text in a message comes from the web. Each chat format gets its own escaping (Slack's
`<>&`, Markdown's punctuation), and `@` is defused where a chat would turn `@channel` or
`@everyone` from a hostile title into a ping for the whole team.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from mentions.console import clean_text
from mentions.errors import MentionsError
from mentions.models import Mention

SNIPPET_CHARS = 280
TITLE_CHARS = 200
USER_AGENT = "mentions (notifier)"


class NotifyError(MentionsError):
    """A notifier could not deliver its message; the text names no secret.

    `tries`: how many tries in all a failure like this is worth (1: another would fail the same
    way, or could deliver the message twice); `retry_after`: the seconds the receiver asked for
    before the next one (Retry-After), if it did. `notify_all` tries again within the alert's
    deadline."""

    def __init__(self, message: str, *, tries: int = 1, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.tries = tries
        self.retry_after = retry_after


class Notifier(Protocol):
    """Delivers one message about a batch of new mentions.

    `send` returns once the receiver accepted the message and raises NotifyError otherwise,
    whose `tries` says whether another `send` may succeed; it never blocks longer than its
    configured timeout (per request or SMTP step).
    """

    def send(self, batch: Batch) -> None: ...


@dataclass(frozen=True, slots=True)
class Batch:
    """The mentions one message shows (newest first, at most the cap) and how many it leaves out."""

    shown: tuple[Mention, ...]
    total: int
    # (keyword, count) over all new mentions, not only those shown, most frequent first
    counts: tuple[tuple[str, int], ...]

    @property
    def more(self) -> int:
        """How many new mentions the message leaves out: "and N more"."""
        return self.total - len(self.shown)

    def headline(self) -> str:
        """`3 new mentions: acme 2, globex 1`."""
        counts = ", ".join(f"{name} {count}" for name, count in self.counts)
        return f"{self.total} new mention{'' if self.total == 1 else 's'}: {counts}"

    def more_line(self) -> str:
        """`… and 3 more` when the cap left some out, else ""."""
        return f"… and {self.more} more" if self.more else ""


def fitted(batch: Batch, payload_of: Callable[[Batch], dict[str, Any]],
           size_of: Callable[[dict[str, Any]], int], limit: int) -> dict[str, Any]:
    """The payload of `batch` showing as many of its mentions as keep `size_of` within the
    service's `limit`; the others join "… and N more".

    Chats refuse (or, Teams, silently drop) a message over their limit, and the whole alert
    was lost: a large `max_items`, long snippets in Japanese, or titles escaped to twice their
    length went over."""
    payload = payload_of(batch)
    shown = len(batch.shown)
    while shown and size_of(payload) > limit:
        shown = shown * 3 // 4  # a quarter fewer at a time: a few rounds even from 500
        payload = payload_of(replace(batch, shown=batch.shown[:shown]))
    return payload


def json_size(payload: dict[str, Any]) -> int:
    """The bytes of `payload` as JSON, as a receiver counts them."""
    return len(json.dumps(payload).encode())


def make_batch(mentions: Sequence[Mention], cap: int) -> Batch:
    """The newest `cap` of `mentions`, with keyword counts over all of them."""
    ordered = sorted(mentions, key=lambda m: (m.published or m.found_at).timestamp(), reverse=True)
    counts = Counter(clean(m.keyword) for m in ordered)
    return Batch(tuple(ordered[:cap]), len(ordered), tuple(counts.most_common()))


def clean(text: str | None, limit: int | None = None) -> str:
    """One line of untrusted text without control codes, cut to `limit` characters."""
    line = clean_text(text or "", single_line=True)
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


MAX_LINK = 2000  # Discord refuses an embed whose url is longer (and the whole message with it)


def safe_link(url: str | None) -> str | None:
    """`url` when it is http(s) with a valid host, not too long, and free of characters that
    break chat link syntax. Discord refuses a whole message over one embed link it takes for
    malformed (`https://`, `http:///path`): that lost every mention of the alert."""
    from mentions.match.query import site_host

    line = clean(url)
    if (not line.lower().startswith(("http://", "https://")) or len(line) > MAX_LINK
            or re.search(r"[\s<>|()\[\]]", line)):
        return None
    return line if site_host(line) is not None else None


# What makes Markdown anywhere in a line: emphasis, code, links, HTML, tables, strikethrough.
# (`(`, `)` and `!` make a link or image only after a `]`, which is escaped.)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")
# What makes Markdown only at the start of a line: a heading, a list, a quote.
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#+\-]|\d+(?=[.)]))")


def markdown_text(text: str) -> str:
    """Plain text for Markdown (Mattermost, Discord, Teams): the characters that would format
    it escaped, `@` defused. Not every punctuation mark: Teams shows `acme\\.de` as written
    on some clients, and every escape counts against a chat's length limit."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return defuse_at(_MARKDOWN_LINE_START.sub(_escape_line_start, escaped))


def _escape_line_start(found: re.Match[str]) -> str:
    mark = found.group(2)
    # `1.` stays a number when its full stop is escaped; `#`, `-`, `+` are escaped themselves.
    return found.group(1) + (mark + "\\" if mark[0].isdigit() else "\\" + mark)


def defuse_at(text: str) -> str:
    """`@channel` → `@\u2060channel`: a word joiner keeps it readable but never a ping."""
    return text.replace("@", "@\u2060")


HTTP_TRIES = 3  # the first and two more, 1 s and 2 s later unless the receiver asks otherwise
# Answers another try may change: a request timeout, "too early", "too many requests", a
# server or the proxy before it that is failing, restarting or overloaded. Any other 4xx says
# the request itself is wrong (a malformed payload, a revoked webhook, too large), and any
# other 5xx a lasting state (501 Not Implemented, 505, 511): sending it again changes nothing.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def post_json(url: str, payload: dict[str, Any], *, timeout: float, headers: dict[str, str] | None = None,
              what: str) -> None:
    """POST `payload` as JSON; NotifyError unless the receiver answers 2xx.

    The error says whether another try may succeed: an answer in RETRY_STATUSES (with its
    Retry-After), or no answer at all. A request whose answer never came (a connection
    dropped mid-request; a timeout too, though one seldom leaves time for another try) may
    have reached the receiver, and it is tried again all the same: the alert may then show
    twice. That is the lesser harm: its mentions are recorded and never new again, so a lost
    alert is lost for good, while a repeated chat message is plain to see, and the generic
    webhook carries each mention's stable `id` for a consumer to de-duplicate."""
    import httpx

    from mentions.fetch.classify import retry_after_seconds

    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=True) as client:
            response = client.post(url, json=payload, headers={"User-Agent": USER_AGENT, **(headers or {})})
    except httpx.TimeoutException:
        raise NotifyError(f"{what}: no answer within {timeout:g} s", tries=HTTP_TRIES) from None
    except httpx.HTTPError as error:
        raise NotifyError(f"{what}: connection failed ({type(error).__name__})", tries=HTTP_TRIES) from None
    status = response.status_code
    if 200 <= status < 300:
        return
    if status not in RETRY_STATUSES:
        raise NotifyError(f"{what}: the receiver answered HTTP {status}")
    wait = retry_after_seconds(response.headers.get("retry-after"))
    asked = f", retry after {wait:.0f} s" if wait is not None else ""
    raise NotifyError(f"{what}: the receiver answered HTTP {status}{asked}", tries=HTTP_TRIES,
                      retry_after=wait)
