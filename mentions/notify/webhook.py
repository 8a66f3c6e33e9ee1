"""A generic JSON POST: the headline plus every shown mention as its JSONL record."""

from __future__ import annotations

from dataclasses import dataclass, field

from mentions.notify.base import Batch, post_json
from mentions.output import mention_record


@dataclass(frozen=True, slots=True)
class WebhookNotifier:
    """POSTs `{"text", "count", "more", "mentions": [...]}` to any URL."""

    url: str
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    label: str = "webhook"

    def send(self, batch: Batch) -> None:
        payload = {
            "text": batch.headline(),
            "count": batch.total,
            "more": batch.more,
            "mentions": [mention_record(mention) for mention in batch.shown],
        }
        post_json(self.url, payload, timeout=self.timeout, headers=self.headers, what=self.label)
