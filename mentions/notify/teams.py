"""Microsoft Teams webhooks (Workflows "post when a webhook request is received"): an Adaptive Card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mentions.notify.base import (
    SNIPPET_CHARS,
    TITLE_CHARS,
    Batch,
    clean,
    fitted,
    json_size,
    markdown_text,
    post_json,
    safe_link,
)

# Teams takes a card of up to 28 KB, and drops a larger one after answering 202: the alert was
# "sent" and never shown. Room is kept for how Teams counts (escaping, UTF-16).
MAX_BYTES = 20_000


def teams_payload(batch: Batch) -> dict[str, Any]:
    """A message with one Adaptive Card: the headline, then a block per mention."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": markdown_text(batch.headline()), "weight": "Bolder", "wrap": True},
    ]
    for mention in batch.shown:
        title = markdown_text(clean(mention.title, TITLE_CHARS) or "(untitled)")
        link = safe_link(mention.url)
        where = markdown_text(f"{clean(mention.keyword)} · {clean(mention.source)}")
        shown_title = f"[{title}]({link})" if link else title
        body.append(
            {"type": "TextBlock", "text": f"**{where}**: {shown_title}", "wrap": True, "separator": True}
        )
        snippet = clean(mention.snippet, SNIPPET_CHARS)
        if snippet:
            body.append({"type": "TextBlock", "text": markdown_text(snippet), "wrap": True, "isSubtle": True})
    if batch.more:
        body.append({"type": "TextBlock", "text": markdown_text(batch.more_line()), "wrap": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


@dataclass(frozen=True, slots=True)
class TeamsNotifier:
    """Posts to a Teams Workflows webhook URL."""

    url: str
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    label: str = "teams"

    def send(self, batch: Batch) -> None:
        payload = fitted(batch, teams_payload, json_size, MAX_BYTES)
        post_json(self.url, payload, timeout=self.timeout, headers=self.headers, what=self.label)
