"""Alert mail over SMTP: STARTTLS by default, a plain-text body, one mail per scan.

`smtplib` raises a dozen exception types with server replies in them; each becomes one
NotifyError sentence that names the step that failed, never the password.

A failure is tried once more when the server cannot have taken the mail: no connection, a
connection lost before the mail began to go, or a 4xx reply (the server's own "try again
later", even after the mail's text: a 4xx there means it did not take it). A connection lost
or timed out once the mail began to go (MAIL, RCPT, DATA: `smtplib` does not say which) is
not: the server may have queued it, and a queued mail is delivered. Here a duplicate is
worse than a lost alert, unlike a chat message (see `post_json`): a second copy lands in
every inbox on the `to:` list, perhaps a mailing list, where nobody can de-duplicate or
delete it, while the failure on stderr already says that this alert may not have come.
Once the server took the mail, nothing after it (a refused QUIT) fails the alert.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from mentions.config import EmailConfig
from mentions.notify.base import SNIPPET_CHARS, TITLE_CHARS, Batch, NotifyError, clean

SMTP_TRIES = 2  # once more: a server that says "later" means minutes, not the seconds we have


def mail_body(batch: Batch) -> str:
    """The plain-text body: headline, then title, link and snippet of each mention."""
    lines = [batch.headline(), ""]
    for mention in batch.shown:
        lines.append(f"[{clean(mention.keyword)}] {clean(mention.source)}: "
                     f"{clean(mention.title, TITLE_CHARS) or '(untitled)'}")
        if mention.url:
            lines.append(f"  {clean(mention.url)}")
        snippet = clean(mention.snippet, SNIPPET_CHARS)
        if snippet:
            lines.append(f"  {snippet}")
        lines.append("")
    if batch.more:
        lines.append(batch.more_line())
    return "\n".join(lines) + "\n"


def mail_message(config: EmailConfig, batch: Batch) -> EmailMessage:
    """The whole mail; header values are ours or from the config, never from the web."""
    message = EmailMessage()
    message["Subject"] = clean(config.subject.replace("{count}", str(batch.total)), 200)
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="mentions.invalid")
    message.set_content(mail_body(batch))
    return message


@dataclass(frozen=True, slots=True)
class EmailNotifier:
    """Sends the alert mail through the configured SMTP server."""

    config: EmailConfig
    timeout: float
    label: str = "email"

    def send(self, batch: Batch) -> None:
        config = self.config
        step = "connecting"
        refused: dict[str, tuple[int, bytes]] | None = None  # set once the server took the mail
        try:
            context = ssl.create_default_context()
            smtp: smtplib.SMTP
            if config.tls == "ssl":
                smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
            with smtp:
                step = "greeting"
                smtp.ehlo()
                if config.tls == "starttls":
                    step = "STARTTLS"
                    if not smtp.has_extn("starttls"):
                        raise NotifyError(f"{self.label}: {config.host} offers no STARTTLS; nothing was sent")
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if config.username and config.password:
                    step = "login"
                    smtp.login(config.username, config.password)
                step = "sending"
                refused = smtp.send_message(mail_message(config, batch))
        except NotifyError:
            raise
        except (smtplib.SMTPException, OSError) as error:
            if refused is None:  # else only QUIT failed, after the server took the mail
                raise self._failure(step, error) from None
        if refused:
            count = f"{len(refused)} of {len(config.to)}"
            raise NotifyError(f"{self.label}: the server refused {count} recipients")

    def _failure(self, step: str, error: smtplib.SMTPException | OSError) -> NotifyError:
        """The sentence for `error` at `step`, and whether one more try may mend it."""
        if isinstance(error, smtplib.SMTPResponseException):
            tries = SMTP_TRIES if 400 <= error.smtp_code < 500 else 1
            return NotifyError(f"{self.label}: SMTP {step} refused ({error.smtp_code})", tries=tries)
        reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
        if isinstance(error, smtplib.SMTPRecipientsRefused):  # every recipient: is each "later"?
            is_later = all(400 <= code < 500 for code, _ in error.recipients.values())
        else:
            # A connection that failed or was lost, unless the mail may have gone then. Not TLS
            # (a certificate, a protocol) nor a missing extension or login method: those stay.
            # (Every SMTPException is an OSError.)
            is_lost = (isinstance(error, smtplib.SMTPServerDisconnected)
                       or not isinstance(error, smtplib.SMTPException | ssl.SSLError))
            is_later = is_lost and step != "sending"
        tries = SMTP_TRIES if is_later else 1
        return NotifyError(f"{self.label}: SMTP {step} failed ({reason})", tries=tries)
