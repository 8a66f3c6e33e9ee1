"""Alert mail over SMTP: STARTTLS by default, a plain-text body, one mail per scan.

`smtplib` raises a dozen exception types with server replies in them; each becomes one
NotifyError sentence that names the step that failed, never the password.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from mentions.config import EmailConfig
from mentions.notify.base import SNIPPET_CHARS, TITLE_CHARS, Batch, NotifyError, clean


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
        except smtplib.SMTPResponseException as error:
            raise NotifyError(f"{self.label}: SMTP {step} refused ({error.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as error:
            reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
            raise NotifyError(f"{self.label}: SMTP {step} failed ({reason})") from None
        if refused:
            count = f"{len(refused)} of {len(config.to)}"
            raise NotifyError(f"{self.label}: the server refused {count} recipients")
