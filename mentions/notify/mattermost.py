"""Mattermost incoming webhooks: `{"text": ...}` in Markdown, `@channel` defused."""

from __future__ import annotations

from dataclasses import dataclass, field

from mentions.notify.base import (
    SNIPPET_CHARS,
    TITLE_CHARS,
    Batch,
    clean,
    markdown_text,
    post_json,
    safe_link,
)


def markdown_lines(batch: Batch) -> list[str]:
    """The message as Markdown lines (shared with Teams)."""
    lines = [f"**{markdown_text(batch.headline())}**", ""]
    for mention in batch.shown:
        title = markdown_text(clean(mention.title, TITLE_CHARS) or "(untitled)")
        link = safe_link(mention.url)
        shown_title = f"[{title}]({link})" if link else title
        where = markdown_text(f"{clean(mention.keyword)} · {clean(mention.source)}")
        lines.append(f"- **{where}**: {shown_title}")
        snippet = clean(mention.snippet, SNIPPET_CHARS)
        if snippet:
            lines.append(f"  {markdown_text(snippet)}")
    if batch.more:
        lines += ["", markdown_text(batch.more_line())]
    return lines


@dataclass(frozen=True, slots=True)
class MattermostNotifier:
    """Posts to a Mattermost incoming webhook URL."""

    url: str
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    label: str = "mattermost"

    def send(self, batch: Batch) -> None:
        payload = {"text": "\n".join(markdown_lines(batch)), "username": "mentions"}
        post_json(self.url, payload, timeout=self.timeout, headers=self.headers, what=self.label)
