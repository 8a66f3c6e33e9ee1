"""Slack incoming webhooks: `{"text": ...}` in Slack's mrkdwn, one line per mention."""

from __future__ import annotations

from dataclasses import dataclass, field

from mentions.notify.base import SNIPPET_CHARS, TITLE_CHARS, Batch, clean, fitted, post_json, safe_link

# Slack cuts a message after 40,000 characters: the last mentions and "… and N more" were lost.
MAX_TEXT = 38_000


def slack_text(text: str) -> str:
    """Slack's escaping: only `&`, `<` and `>`; that also stops `<!channel>` pings from titles."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(batch: Batch) -> dict[str, object]:
    """The JSON body of a Slack (or Slack-compatible) incoming webhook."""
    lines = [f"*{slack_text(batch.headline())}*"]
    for mention in batch.shown:
        title = slack_text(clean(mention.title, TITLE_CHARS) or "(untitled)")
        link = safe_link(mention.url)
        shown_title = f"<{link}|{title}>" if link else title
        where = slack_text(f"{clean(mention.keyword)} · {clean(mention.source)}")
        lines.append(f"• *{where}*: {shown_title}")
        snippet = clean(mention.snippet, SNIPPET_CHARS)
        if snippet:
            lines.append(f">{slack_text(snippet)}")
    if batch.more:
        lines.append(slack_text(batch.more_line()))
    return {"text": "\n".join(lines), "unfurl_links": False, "unfurl_media": False}


def _text_length(payload: dict[str, object]) -> int:
    return len(str(payload["text"]))


@dataclass(frozen=True, slots=True)
class SlackNotifier:
    """Posts to a Slack incoming webhook URL."""

    url: str
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    label: str = "slack"

    def send(self, batch: Batch) -> None:
        payload = fitted(batch, slack_payload, _text_length, MAX_TEXT)
        post_json(self.url, payload, timeout=self.timeout, headers=self.headers, what=self.label)
