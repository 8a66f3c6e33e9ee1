"""What a JSON API says went wrong, in one short sentence.

APIs answer a refusal with a JSON body that names the reason, each in its own key:

    GitHub, Reddit, Algolia   {"message": "API rate limit exceeded for 203.0.113.7. (But ...)"}
    Stack Exchange            {"error_id": 502, "error_name": "throttle_violation",
                               "error_message": "too many requests from this IP, ..."}
    Mastodon, Lemmy           {"error": "This method requires an authenticated user"}
    Discourse                 {"errors": ["You've performed this action too many times ..."]}
    Google-style, RFC 7807    {"error": {"message": "..."}}, {"title": "...", "detail": "..."}

Without it a failing source says only "HTTP 403", and a 200 answer that carries an error
instead of results reads as an answer of the wrong shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_MESSAGE = 200
_MESSAGE_KEYS = ("error_message", "message", "error", "detail", "title", "error_description")
_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def error_message(data: Any) -> str | None:
    """The reason a decoded JSON error answer gives, shortened to its first sentence; None
    when it gives none."""
    if not isinstance(data, dict):
        return None
    found = [_text(data.get(key)) for key in _MESSAGE_KEYS]
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        found.append(_text(errors[0]))
    parts = list(dict.fromkeys(part for part in found if part))[:2]
    if not parts:
        return None
    # the first sentence, without its full stop: it is quoted inside a longer line
    message = _FIRST_SENTENCE.split(": ".join(parts), maxsplit=1)[0].rstrip(" .")
    if len(message) <= MAX_MESSAGE:
        return message
    # Cut between words only: an API may quote the token it refused, and a piece of a
    # `${ENV}` secret is no longer the secret the redactor hides later. A first word too
    # long to cut so is left out whole.
    cut = message.rfind(" ", 0, MAX_MESSAGE)
    return message[:cut].rstrip() + " …" if cut > 0 else None


def error_message_of(body: bytes, content_type: str | None = None) -> str | None:
    """`error_message` of a body that is JSON (by its type or its first byte); None otherwise."""
    head = body.lstrip()[:1]
    if head != b"{" and "json" not in (content_type or "").lower():
        return None
    try:
        return error_message(json.loads(body.decode("utf-8", "replace")))
    except (ValueError, RecursionError):
        return None


def _text(value: Any) -> str | None:
    """A message as one line of printable text: strings, or the `message` of an object."""
    if isinstance(value, dict):
        value = value.get("message")
    if not isinstance(value, str):
        return None
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return cleaned or None
