"""Alerts after a scan: one message per notifier about the new mentions that were written.

    scan writes a mention ─▶ NewMentions collects it ─▶ (scan ends) ─▶ notify_all
                                                                        ├── webhook / slack / discord
                                                                        ├── teams / mattermost
                                                                        └── email (SMTP)

Notifiers run after the mentions were written and recorded, so a failing notifier loses
nothing: it is reported on stderr and the exit code stays what the sources decided. They
run after a closed pipe, Ctrl-C or SIGTERM too, for what was recorded (`cli/scan.py`): a
recorded mention is never new again, so its alert goes now or never. That is also why a
failure another try may mend (a busy receiver, a dropped connection) is tried again, within
the alert's deadline (`_send_within`); the notifiers say which failures those are.
Add a notifier: a module with a class that has `send(batch)`, and one line in `NOTIFIERS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mentions.config import NotifyConfig
from mentions.models import Mention
from mentions.notify.base import Batch, Notifier, NotifyError, make_batch
from mentions.notify.discord import DiscordNotifier
from mentions.notify.mattermost import MattermostNotifier
from mentions.notify.slack import SlackNotifier
from mentions.notify.smtp import EmailNotifier
from mentions.notify.teams import TeamsNotifier
from mentions.notify.webhook import WebhookNotifier
from mentions.output import Writer

__all__ = ["NOTIFIERS", "Batch", "NewMentions", "Notifier", "NotifyError", "NotifyResult", "notify_all"]


def _url_notifier(kind: type[WebhookNotifier | SlackNotifier | DiscordNotifier | TeamsNotifier
                              | MattermostNotifier]) -> Callable[[NotifyConfig], Notifier]:
    def build(config: NotifyConfig) -> Notifier:
        return kind(getattr(config, config.kind), config.timeout, dict(config.headers), config.label)

    return build


def _email(config: NotifyConfig) -> Notifier:
    assert config.email is not None  # the config's validator guarantees the kind key
    return EmailNotifier(config.email, config.timeout, config.label)


NOTIFIERS: dict[str, Callable[[NotifyConfig], Notifier]] = {
    "webhook": _url_notifier(WebhookNotifier),
    "slack": _url_notifier(SlackNotifier),
    "discord": _url_notifier(DiscordNotifier),
    "teams": _url_notifier(TeamsNotifier),
    "mattermost": _url_notifier(MattermostNotifier),
    "email": _email,
}


@dataclass(frozen=True, slots=True)
class NotifyResult:
    """How one notifier went: how many mentions it announced, or why it failed."""

    label: str
    mentions: int
    error: str | None = None


class NewMentions:
    """A Writer wrapper that keeps the new mentions written during a scan, for the alerts.

    `is_new` tells a mention reported before (shown again by `--all`) from a new one; it is
    asked before the pipeline records the mention, so the state still knows the difference.
    """

    def __init__(self, writer: Writer, is_new: Callable[[Mention], bool] = lambda mention: True) -> None:
        self._writer = writer
        self._is_new = is_new
        self.mentions: list[Mention] = []
        self.is_buffered = writer.is_buffered

    def write(self, mention: Mention) -> None:
        is_new = self._is_new(mention)
        self._writer.write(mention)
        if is_new:
            self.mentions.append(mention)

    def close(self) -> None:
        self._writer.close()


def notify_all(configs: Sequence[NotifyConfig], mentions: Sequence[Mention]) -> list[NotifyResult]:
    """Send one message per notifier that has new mentions for it; never raises NotifyError."""
    results: list[NotifyResult] = []
    for config in configs:
        wanted = [m for m in mentions if config.keywords is None or m.keyword in config.keywords]
        if not wanted:
            continue
        batch = make_batch(wanted, config.max_items)
        try:
            _send_within(NOTIFIERS[config.kind](config), batch, config.timeout, config.kind)
        except NotifyError as error:
            results.append(NotifyResult(config.label, len(wanted), str(error)))
        except Exception as error:  # one notifier never stops the others
            # (Its text may quote the secret URL: only its kind is named.)
            failure = f"{config.kind}: failed unexpectedly ({type(error).__name__})"
            results.append(NotifyResult(config.label, len(wanted), failure))
        else:
            results.append(NotifyResult(config.label, len(wanted)))
    return results


# Seconds before the second and third try when the receiver names none: a receiver that is
# restarting or shedding load is often back within seconds, and the alert has only a few.
BACKOFF = (1.0, 2.0)


def _send_within(notifier: Notifier, batch: Batch, timeout: float, kind: str) -> None:
    """`notifier.send(batch)`, tried again as its failure allows, given up after twice the
    notifier's `timeout` in all.

    A client's timeout bounds each wait for the next bytes, not the whole answer: a receiver
    that trickles a byte a second (or an SMTP server that greets line by line) held the scan,
    and its lock, for as long as it liked. The send runs in a thread of its own; one past the
    deadline is left behind (a daemon: it ends with the process) and named a failure."""
    import threading

    seconds = timeout * 2
    deadline = time.monotonic() + seconds
    outcome: list[BaseException | None] = []
    tries: list[int] = [0]

    def send() -> None:
        try:
            _send_with_retries(notifier, batch, deadline - timeout, tries)
        except BaseException as error:  # handed to the caller, whatever it is
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=send, name=f"alert to {kind}", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise NotifyError(f"{kind}: no whole answer within {seconds:g} s{_tried(tries[0])}")
    if outcome[0] is not None:
        raise outcome[0]


def _send_with_retries(notifier: Notifier, batch: Batch, last_start: float, tries: list[int]) -> None:
    """`notifier.send(batch)` until it succeeds, its failure is worth no more tries, or the next
    wait (the receiver's Retry-After, else BACKOFF) would end after `last_start` (monotonic).

    A try starts no later than its whole timeout before the deadline: one cut short by the
    deadline would only turn a precise reason ("HTTP 503") into "no whole answer". So a try
    that timed out is in effect not repeated. A Retry-After too long is not cut short either:
    a try sooner would be refused again. `tries[0]` counts the tries, for the deadline's message."""
    while True:
        tries[0] += 1
        try:
            notifier.send(batch)
            return
        except NotifyError as error:
            wait = error.retry_after
            if wait is None and tries[0] <= len(BACKOFF):
                wait = BACKOFF[tries[0] - 1]
            if tries[0] >= error.tries or wait is None or time.monotonic() + wait > last_start:
                raise NotifyError(f"{error}{_tried(tries[0])}") from None
        time.sleep(wait)


def _tried(tries: int) -> str:
    """`, tried 3 times` after a failure's reason, when there was more than one try."""
    return f", tried {tries} times" if tries > 1 else ""
