"""Discord webhooks: a content line plus one embed per mention (Discord allows ten)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mentions.notify.base import SNIPPET_CHARS, Batch, clean, fitted, markdown_text, post_json, safe_link

MAX_EMBEDS = 10
# Discord refuses a message whose embeds hold more than 6,000 characters in all (400, the
# whole alert lost); escaping can double a snippet.
MAX_EMBED_CHARS = 5_800


def discord_payload(batch: Batch) -> dict[str, Any]:
    """The JSON body of a Discord webhook; `allowed_mentions` stops any ping from web text."""
    embeds: list[dict[str, Any]] = []
    for mention in batch.shown[:MAX_EMBEDS]:
        embed: dict[str, Any] = {
            "title": clean(mention.title, 250) or "(untitled)",
            "description": markdown_text(clean(mention.snippet, SNIPPET_CHARS)),
            "footer": {"text": clean(f"{mention.keyword} · {mention.source}", 200)},
        }
        link = safe_link(mention.url)
        if link:
            embed["url"] = link
        embeds.append(embed)
    left_out = batch.total - len(embeds)
    content = markdown_text(batch.headline())
    if left_out:
        content += "\n" + markdown_text(f"… and {left_out} more")
    return {"content": content[:2000], "embeds": embeds, "allowed_mentions": {"parse": []},
            "username": "mentions"}


def embed_chars(payload: dict[str, Any]) -> int:
    """The characters of all embeds as Discord counts them against its 6,000."""
    return sum(len(embed.get("title", "")) + len(embed.get("description", ""))
               + len(embed.get("footer", {}).get("text", "")) for embed in payload["embeds"])


@dataclass(frozen=True, slots=True)
class DiscordNotifier:
    """Posts to a Discord webhook URL."""

    url: str
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    label: str = "discord"

    def send(self, batch: Batch) -> None:
        payload = fitted(batch, discord_payload, embed_chars, MAX_EMBED_CHARS)
        post_json(self.url, payload, timeout=self.timeout, headers=self.headers, what=self.label)
