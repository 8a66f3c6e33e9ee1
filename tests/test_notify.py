"""Alerts reach real receivers on 127.0.0.1 (HTTP and SMTP), and a dead one loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mentions.cli import app
from mentions.config import NotifyConfig
from mentions.models import Mention
from mentions.notify import notify_all
from mentions.notify.base import markdown_text
from tests.conftest import REPO, run_cli
from tests.localsite import LocalSite
from tests.receivers import DROP, Answer, HookReceiver, dead_url

DEMO_FILES = REPO / "examples" / "demo"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def mention(number: int, **changes: object) -> Mention:
    values: dict[str, object] = dict(
        id=f"id{number}", keyword="acme", tags=("brand",), source="forum", source_type="page",
        url=f"https://forum.example/t/{number}", title=f"Post {number}", author="Max",
        published=NOW - timedelta(minutes=number), found_at=NOW, terms=("Acme",), count=1,
        snippet=f"text {number} about Acme", lang="de",
    )
    values.update(changes)
    return Mention(**values)  # type: ignore[arg-type]


@pytest.fixture
def hook() -> Iterator[HookReceiver]:
    receiver = HookReceiver()
    yield receiver
    receiver.stop()


def notifier(**values: Any) -> NotifyConfig:
    return NotifyConfig.model_validate(values)


def test_generic_webhook_gets_one_batched_message_with_a_cap(hook: HookReceiver) -> None:
    mentions = [mention(i) for i in range(1, 8)] + [mention(9, keyword="globex")]
    config = notifier(webhook=hook.url(), max_items=3, headers={"Authorization": "Bearer t0k"})
    results = notify_all([config], mentions)
    assert [(r.label, r.mentions, r.error) for r in results] == [("webhook", 8, None)]
    assert len(hook.posts) == 1
    body = hook.posts[0].body
    assert body["count"] == 8 and body["more"] == 5
    assert body["text"] == "8 new mentions: acme 7, globex 1"
    assert [m["id"] for m in body["mentions"]] == ["id1", "id2", "id3"]  # newest first
    assert hook.posts[0].headers["authorization"] == "Bearer t0k"


def test_keyword_filter_and_nothing_to_say_sends_nothing(hook: HookReceiver) -> None:
    assert notify_all([notifier(webhook=hook.url(), keywords=["globex"])], [mention(1)]) == []
    assert hook.posts == []


HOSTILE = mention(1, title="<!channel> @everyone **bold** [x](https://evil.example) & <b>",
                  url="javascript:alert(1)", snippet="@here \x1b[31mred\x1b[0m Acme")


def test_slack_format_escapes_and_links(hook: HookReceiver) -> None:
    notify_all([notifier(slack=hook.url(), max_items=1)], [mention(2), HOSTILE])
    text = hook.posts[0].body["text"]
    assert text.startswith("*2 new mentions: acme 2*")
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text and "&amp; &lt;b&gt;" in text
    assert "javascript:" not in text and "\x1b" not in text
    assert "… and 1 more" in text


def test_slack_links_a_normal_url(hook: HookReceiver) -> None:
    notify_all([notifier(slack=hook.url())], [mention(1)])
    assert "<https://forum.example/t/1|Post 1>" in hook.posts[0].body["text"]


def test_discord_format_cannot_ping_and_caps_embeds(hook: HookReceiver) -> None:
    notify_all([notifier(discord=hook.url(), max_items=50)], [HOSTILE] + [mention(i) for i in range(2, 14)])
    body = hook.posts[0].body
    assert body["allowed_mentions"] == {"parse": []}
    assert len(body["embeds"]) == 10
    assert "and 3 more" in body["content"]
    first = body["embeds"][0]
    assert "url" not in first  # javascript: is never a link
    assert "@\u2060here" in first["description"] and "\x1b" not in first["description"]


@pytest.mark.parametrize("url", ["https://", "http:///path", "https://:443/x", "https://a.example/" + "x" * 2100])
def test_a_link_discord_would_refuse_is_no_embed_link(hook: HookReceiver, url: str) -> None:
    """Discord answers 400 to a whole message over one malformed or overlong embed url: every
    mention of the alert was lost for one odd link from the web."""
    notify_all([notifier(discord=hook.url())], [mention(1, url=url), mention(2)])
    first, second = hook.posts[0].body["embeds"]
    assert "url" not in first
    assert second["url"] == "https://forum.example/t/2"


def test_a_message_over_a_chats_limit_shows_fewer_mentions_and_says_how_many_more(hook: HookReceiver) -> None:
    """Teams drops a card over 28 KB after answering 202, Discord refuses embeds over 6,000
    characters, Slack cuts text after 40,000: the alert, or its end, was lost."""
    long = [mention(n, title="アクメの新しいランニングシューズ" * 12, snippet="-=*_" * 70) for n in range(1, 501)]
    notify_all([notifier(teams=hook.url("/teams"), max_items=500), notifier(discord=hook.url("/discord")),
                notifier(slack=hook.url("/slack"), max_items=500)], long)
    teams, discord, slack = (post.body for post in hook.posts)
    assert len(json.dumps(teams).encode()) <= 20_000
    blocks = teams["attachments"][0]["content"]["body"]
    shown = sum(1 for block in blocks if block.get("separator"))
    assert 0 < shown < 500 and blocks[-1]["text"] == f"… and {500 - shown} more"
    embeds = discord["embeds"]
    assert sum(len(e["title"]) + len(e["description"]) + len(e["footer"]["text"]) for e in embeds) <= 6_000
    assert 0 < len(embeds) < 10 and discord["content"].endswith(f"… and {500 - len(embeds)} more")
    assert len(slack["text"]) <= 40_000 and slack["text"].rstrip().endswith("more")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("acme.de (neu) ist da! 4.5 von 5 - sagt Max", "acme.de (neu) ist da! 4.5 von 5 - sagt Max"),
        ("**fett** [x](https://evil.example) <b> _i_", r"\*\*fett\*\* \[x\](https://evil.example) \<b\> \_i\_"),
        ("# Überschrift", r"\# Überschrift"),
        ("- Punkt", r"\- Punkt"),
        ("1. Erster", r"1\. Erster"),
    ],
)
def test_markdown_escapes_what_would_format_the_text_and_nothing_else(text: str, shown: str) -> None:
    r"""Every `.`, `-`, `(` and `!` was escaped (`acme\.de`): some Teams clients show the
    backslashes, and each one counts against the chat's limit."""
    assert markdown_text(text) == shown


def test_mattermost_and_teams_formats(hook: HookReceiver) -> None:
    notify_all([notifier(mattermost=hook.url("/mm")), notifier(teams=hook.url("/teams"))],
               [HOSTILE, mention(2)])
    mattermost, teams = (post.body for post in hook.posts)
    text = mattermost["text"]
    assert "@\u2060everyone" in text and "@everyone" not in text
    assert r"\*\*bold\*\*" in text and "[Post 2](https://forum.example/t/2)" in text
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    blocks = card["content"]["body"]
    assert blocks[0]["text"].startswith("2 new mentions")
    assert any("[Post 2](https://forum.example/t/2)" in block["text"] for block in blocks)


def test_failing_receivers_become_one_sentence_without_the_url() -> None:
    broken = HookReceiver(status=500)
    try:
        secret_url = broken.url("/services/T0/B0/s3cr3t")
        results = notify_all([notifier(slack=secret_url, name="team-chat"), notifier(webhook=dead_url())],
                             [mention(1)])
    finally:
        broken.stop()
    assert results[0].error == "team-chat: the receiver answered HTTP 500, tried 3 times"
    assert results[1].error is not None and "connection failed" in results[1].error
    assert all("s3cr3t" not in (r.error or "") and "127.0.0.1" not in (r.error or "") for r in results)


def test_a_receiver_that_trickles_its_answer_fails_at_twice_the_timeout_and_the_next_still_sends(
    hook: HookReceiver,
) -> None:
    """The client's timeout bounds each read: a byte every 0.2 s held the scan (and its lock)
    for as long as the receiver liked; Ctrl-C and `timeout` waited for it too."""
    trickling = HookReceiver(trickle=0.2)
    try:
        started = time.monotonic()
        results = notify_all([notifier(slack=trickling.url(), timeout=1), notifier(webhook=hook.url())],
                             [mention(1)])
        took = time.monotonic() - started
    finally:
        trickling.stop()
    assert results[0].error == "slack: no whole answer within 2 s"
    assert results[1].error is None and len(hook.posts) == 1
    assert took < 30  # the deadline is 2 s; without it, this never returned


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"slack": "https://hooks..example/services/x"}, "no valid host"),
        ({"webhook": "http://[::1/hook"}, "no valid host"),
        ({"webhook": "http://example.org:99999/hook"}, "no valid host"),
        ({"webhook": "https://example.org/hook", "headers": {"X-Team": "Müller"}}, "plain ASCII"),
        ({"email": {"host": "smtp..example", "from": "a@x.org", "to": ["b@x.org"]}}, "no valid host"),
    ],
)
def test_addresses_an_alert_could_never_reach_are_config_errors(values: dict[str, Any], message: str) -> None:
    """They passed `check`, and the scan ended with an internal error when the alerts went: the
    notifiers after them never ran, and the mentions were recorded, their alerts lost."""
    with pytest.raises(ValueError, match=message):
        notifier(**values)


def test_check_names_an_unreachable_notifier_without_quoting_its_url(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  - slack: https://hooks..example/services/s3cr3t\n")
    result = CliRunner().invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert "notify[0]: `slack`: the URL has no valid host or port" in result.stderr
    assert "s3cr3t" not in result.stderr


def test_notify_config_needs_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        notifier(slack="https://a.example", discord="https://b.example")
    with pytest.raises(ValueError, match="http"):
        notifier(webhook="file:///etc/passwd")
    with pytest.raises(ValueError, match="without TLS"):
        notifier(email={"host": "x", "from": "a@x", "to": ["b@x"], "password": "p", "tls": "none"})


# --- the whole scan: alerts after writing, nothing lost when the receiver is dead -------------


def write_config(tmp_path: Path, notify_yaml: str) -> Path:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO_FILES, demo)
    text = (REPO / "examples" / "demo.yaml").read_text().replace("./demo-state.db", str(tmp_path / "s.db"))
    path = tmp_path / "mentions.yaml"
    path.write_text(text + "notify:\n" + notify_yaml)
    return path


def recorded(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "s.db") as db:
        return int(db.execute("SELECT count(*) FROM mentions").fetchone()[0])


def test_scan_sends_one_alert_with_the_new_mentions_then_none(tmp_path: Path, hook: HookReceiver) -> None:
    config = write_config(tmp_path, f"  - webhook: {hook.url()}\n    max_items: 5\n")
    runner = CliRunner()
    first = runner.invoke(app, ["scan", "-c", str(config), "--format", "jsonl"])
    assert first.exit_code == 0, first.output
    assert len(first.stdout.splitlines()) == 20
    assert len(hook.posts) == 1 and hook.posts[0].body["count"] == 20 and hook.posts[0].body["more"] == 15
    again = runner.invoke(app, ["scan", "-c", str(config), "--all", "--format", "jsonl"])
    assert again.exit_code == 0 and len(again.stdout.splitlines()) == 20
    assert len(hook.posts) == 1  # --all shows old mentions again, but they are not news


def test_a_dead_webhook_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", dead_url())
    config = write_config(tmp_path, "  - slack: ${HOOK_URL}\n    timeout: 2s\n")
    result = CliRunner().invoke(app, ["scan", "-c", str(config), "--format", "jsonl", "-q"])
    assert result.exit_code == 0  # the sources decide the exit code
    assert len(result.stdout.splitlines()) == 20
    assert recorded(tmp_path) == 20
    assert "alert not sent: slack: connection failed" in result.stderr
    assert result.stderr.endswith(" (the mentions were still written and recorded)\n")
    assert "127.0.0.1" not in result.stderr


def test_a_dead_webhook_without_a_state_does_not_claim_the_mentions_were_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under --no-state it said "(the mentions were still written and recorded)"."""
    monkeypatch.setenv("HOOK_URL", dead_url())
    config = write_config(tmp_path, "  - slack: ${HOOK_URL}\n    timeout: 2s\n")
    result = CliRunner().invoke(app, ["scan", "-c", str(config), "--format", "jsonl", "-q", "--no-state"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 20
    assert not (tmp_path / "s.db").exists()
    [line] = result.stderr.splitlines()
    assert line.startswith("mentions: alert not sent: slack: connection failed")
    assert line.endswith(" (the mentions were still written; with --no-state nothing is recorded)")


def test_dry_run_and_seed_send_no_alerts(tmp_path: Path, hook: HookReceiver) -> None:
    config = write_config(tmp_path, f"  - webhook: {hook.url()}\n")
    runner = CliRunner()
    assert runner.invoke(app, ["scan", "-c", str(config), "--dry-run", "-f", "jsonl"]).exit_code == 0
    assert runner.invoke(app, ["scan", "-c", str(config), "--seed"]).exit_code == 0
    assert hook.posts == []


# --- a receiver that is busy for a while: the alert is tried again -----------------------------
# Before, one 429 or 503, or a connection dropped mid-request, lost the alert for good: its
# mentions were recorded, so they were never new again.

KEPT = " (the mentions were still written and recorded)"


def scan_alerting(tmp_path: Path, notify_yaml: str) -> tuple[Any, float]:
    """`mentions scan` of the demo files through the CLI with `notify_yaml`; the result and its seconds."""
    config = write_config(tmp_path, notify_yaml)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["scan", "-c", str(config), "--format", "jsonl"])
    return result, time.monotonic() - started


@pytest.mark.parametrize("retry_after", ["1", "http-date"])
def test_a_receiver_that_answers_429_gets_the_alert_once_after_its_retry_after(
    tmp_path: Path, retry_after: str
) -> None:
    if retry_after == "http-date":  # 1 to 2 s from now
        retry_after = formatdate(int(time.time()) + 2, usegmt=True)
    busy = HookReceiver(answers=[Answer(429, {"Retry-After": retry_after})])
    try:
        result, _ = scan_alerting(tmp_path, f"  - webhook: {busy.url()}\n    timeout: 5s\n")
    finally:
        busy.stop()
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert [post.status for post in busy.posts] == [429, 200]
    assert busy.posts[1].at - busy.posts[0].at >= 0.8  # it waited as asked
    [alert] = busy.delivered
    assert alert["count"] == 20 and alert == busy.posts[0].body


@pytest.mark.parametrize(("answers", "waits"), [
    ([503, 503], [1, 2]),
    ([502, 504], [1, 2]),
    ([DROP], [1]),  # the answer never came: it may have taken the alert, and gets it again
], ids=["503-twice", "502-then-504", "dropped-connection"])
def test_a_receiver_that_fails_a_moment_gets_the_alert_after_a_short_backoff(
    tmp_path: Path, answers: list[int], waits: list[float]
) -> None:
    busy = HookReceiver(answers=[Answer(status) for status in answers])
    try:
        result, _ = scan_alerting(tmp_path, f"  - slack: {busy.url()}\n    timeout: 5s\n")
    finally:
        busy.stop()
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert [post.status for post in busy.posts] == [*answers, 200]
    gaps = [later.at - earlier.at for earlier, later in zip(busy.posts, busy.posts[1:], strict=False)]
    assert all(gap >= wait - 0.2 for gap, wait in zip(gaps, waits, strict=True))
    assert len(busy.delivered) == 1 and busy.delivered[0]["text"].startswith("*20 new mentions")


STATUS_TRIES = [(400, 1), (401, 1), (403, 1), (404, 1), (413, 1), (422, 1), (501, 1),
                (408, 2), (425, 2), (500, 2)]


def test_only_answers_another_try_may_change_are_tried_again(tmp_path: Path) -> None:
    """A refused payload, a revoked or unknown webhook, a message too large: the same request
    gets the same answer. Each receiver here answers once with its status, then 200."""
    receivers = {status: HookReceiver(answers=[Answer(status)]) for status, _ in STATUS_TRIES}
    notify_yaml = "".join(f"  - webhook: {receiver.url()}\n    name: hook-{status}\n    timeout: 5s\n"
                          for status, receiver in receivers.items())
    try:
        result, _ = scan_alerting(tmp_path, notify_yaml)
    finally:
        for receiver in receivers.values():
            receiver.stop()
    assert result.exit_code == 0, result.output
    assert {status: len(receivers[status].posts) for status, _ in STATUS_TRIES} == dict(STATUS_TRIES)
    assert sorted(result.stderr.splitlines()) == sorted(
        f"mentions: alert not sent: hook-{status}: the receiver answered HTTP {status}{KEPT}"
        for status, tries in STATUS_TRIES if tries == 1
    )


def test_a_receiver_that_stays_busy_is_named_with_the_number_of_tries(tmp_path: Path) -> None:
    busy = HookReceiver(status=503)
    try:
        result, _ = scan_alerting(tmp_path, f"  - teams: {busy.url()}\n    timeout: 5s\n")
    finally:
        busy.stop()
    assert result.exit_code == 0, result.output
    assert len(busy.posts) == 3
    assert result.stderr == f"mentions: alert not sent: teams: the receiver answered HTTP 503, tried 3 times{KEPT}\n"


def test_a_retry_after_past_the_alerts_deadline_is_not_waited_for(tmp_path: Path) -> None:
    """Twice the timeout (4 s here) is all an alert gets: a receiver that asks for two minutes
    is not waited for, nor asked again sooner (it would refuse again), and stderr says why."""
    busy = HookReceiver(status=429, answers=[Answer(429, {"Retry-After": "120"})])
    try:
        result, took = scan_alerting(tmp_path, f"  - mattermost: {busy.url()}\n    timeout: 2s\n")
    finally:
        busy.stop()
    assert result.exit_code == 0, result.output
    assert took < 4 + 3
    assert len(busy.posts) == 1
    assert result.stderr == (f"mentions: alert not sent: mattermost: the receiver answered HTTP 429, "
                             f"retry after 120 s{KEPT}\n")


# --- email over real SMTP ----------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every mail."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def smtp_server(inbox: Inbox, **options: Any) -> Any:
    from aiosmtpd.controller import Controller

    port = int(dead_url().rsplit(":", 1)[1].split("/")[0])  # a port free a moment ago
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=5, **options)
    controller.start()
    return controller


def email_config(port: int, **values: Any) -> NotifyConfig:
    email = {"host": "127.0.0.1", "port": port, "from": "mentions@acme.example", "to": ["pr@acme.example"]}
    email.update(values)
    return notifier(email=email, timeout=5)


def test_email_over_plain_smtp_to_a_local_relay() -> None:
    pytest.importorskip("aiosmtpd")
    inbox = Inbox()
    controller = smtp_server(inbox)
    try:
        results = notify_all([email_config(controller.port, tls="none")],
                             [mention(1), HOSTILE])
    finally:
        controller.stop()
    assert results[0].error is None
    sender, recipients, mail = inbox.mails[0]
    assert sender == "mentions@acme.example" and recipients == ["pr@acme.example"]
    assert mail["Subject"] == "mentions: 2 new"
    body = mail.get_payload(decode=True).decode()
    assert "2 new mentions: acme 2" in body and "https://forum.example/t/1" in body
    assert "\x1b" not in body


def test_email_refuses_a_server_without_starttls() -> None:
    pytest.importorskip("aiosmtpd")
    inbox = Inbox()
    controller = smtp_server(inbox)
    try:
        results = notify_all([email_config(controller.port, password="pw",
                                           username="u")], [mention(1)])
    finally:
        controller.stop()
    assert results[0].error == "email: 127.0.0.1 offers no STARTTLS; nothing was sent"
    assert inbox.mails == []


def test_email_with_starttls_and_login(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate, nothing else
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server: object, session: object, envelope: object, mechanism: str,
                     data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    inbox = Inbox()
    controller = smtp_server(inbox, tls_context=context, require_starttls=True, authenticator=authenticate)
    try:
        port = controller.port
        good = notify_all([email_config(port, username="mentions", password="s3cret")], [mention(1)])
        bad = notify_all([email_config(port, username="mentions", password="wrong")], [mention(1)])
    finally:
        controller.stop()
    assert good[0].error is None and len(inbox.mails) == 1
    assert logins[0] == (b"mentions", b"s3cret")
    assert bad[0].error is not None and bad[0].error.startswith("email: SMTP login ")
    assert "wrong" not in bad[0].error


class BusyInbox(Inbox):
    """An Inbox that answers the DATA of the first mails with `replies` in turn (the mail not
    taken), then takes them. `is_dropping`: it takes each mail and closes the connection
    before it says so."""

    def __init__(self, replies: list[str], *, is_dropping: bool = False) -> None:
        super().__init__()
        self.replies = replies
        self.is_dropping = is_dropping
        self.tries = 0

    async def handle_DATA(self, server: Any, session: object, envelope: Any) -> str:
        self.tries += 1
        if self.replies:
            return self.replies.pop(0)
        taken = await super().handle_DATA(server, session, envelope)
        if self.is_dropping:
            server.transport.close()
        return taken


def email_yaml(port: int) -> str:
    return (f"  - email: {{host: 127.0.0.1, port: {port}, tls: none, from: mentions@acme.example,"
            f" to: [pr@acme.example]}}\n    timeout: 5s\n")


@pytest.mark.parametrize(("reply", "mails", "said"), [
    ("451 4.3.0 Try again later", 1, ""),
    ("554 5.7.1 Rejected", 0, f"mentions: alert not sent: email: SMTP sending refused (554){KEPT}\n"),
], ids=["451-later", "554-never"])
def test_a_mail_server_that_says_later_gets_the_mail_once_more(
    tmp_path: Path, reply: str, mails: int, said: str
) -> None:
    """A 4xx reply, even to the mail's text, means the server did not take it: one more try.
    A 5xx will not change."""
    pytest.importorskip("aiosmtpd")
    inbox = BusyInbox([reply])
    controller = smtp_server(inbox)
    try:
        result, _ = scan_alerting(tmp_path, email_yaml(controller.port))
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert result.stderr == said
    assert inbox.tries == 1 + mails and len(inbox.mails) == mails
    if mails:
        assert inbox.mails[0][2]["Subject"] == "mentions: 20 new"


def test_a_mail_server_that_cannot_be_reached_is_tried_once_more() -> None:
    port = int(dead_url().rsplit(":", 1)[1].split("/")[0])
    [result] = notify_all([email_config(port, tls="none")], [mention(1)])
    assert result.error == "email: SMTP connecting failed (ConnectionRefusedError), tried 2 times"


def test_a_mail_the_server_may_have_taken_is_not_sent_again() -> None:
    """The connection went after the mail's text, before the server's answer: it may have
    queued the mail, and a second copy would land in every inbox on the list."""
    pytest.importorskip("aiosmtpd")
    inbox = BusyInbox([], is_dropping=True)
    controller = smtp_server(inbox)
    try:
        [result] = notify_all([email_config(controller.port, tls="none")], [mention(1)])
    finally:
        controller.stop()
    assert result.error == "email: SMTP sending failed (SMTPServerDisconnected)"
    assert len(inbox.mails) == 1


class QuitRefusingInbox(Inbox):
    """An Inbox whose server answers QUIT with 421 instead of 221."""

    async def handle_QUIT(self, server: object, session: object, envelope: object) -> str:
        return "421 4.3.2 Shutting down"


def test_a_refused_quit_after_the_mail_was_taken_fails_nothing() -> None:
    """The alert was named failed though the server had taken it; retried, it would have
    gone out twice."""
    pytest.importorskip("aiosmtpd")
    inbox = QuitRefusingInbox()
    controller = smtp_server(inbox)
    try:
        [result] = notify_all([email_config(controller.port, tls="none")], [mention(1)])
    finally:
        controller.stop()
    assert result.error is None
    assert len(inbox.mails) == 1


def test_mentions_written_before_the_reader_went_away_are_still_alerted(
    tmp_path: Path, hook: HookReceiver, site: LocalSite
) -> None:
    """`mentions scan | head -1`: what was written is recorded, so it will never be new
    again; its alert was skipped with the closed pipe, and so lost for good."""
    from tests.state_helpers import Item, rss
    from tests.state_helpers import write_config as write_feeds

    fast = site.add("/fast", rss([Item("Fast", "Acme first", "http://x.org/1")]),
                    content_type="application/rss+xml")
    slow = site.add("/slow", rss([Item("Slow", "Acme later", "http://x.org/2")]),
                    content_type="application/rss+xml", delay=1.5)
    config = write_feeds(tmp_path, {"fast": fast, "slow": slow}, extra=f"notify:\n  - webhook: {hook.url()}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    process.stdout.close()  # like `head -1`: the reader leaves after one line
    assert process.wait(timeout=60) == 0
    assert json.loads(first)["title"] == "Fast"
    with sqlite3.connect(tmp_path / "state.db") as db:
        recorded = [row[0] for row in db.execute("SELECT title FROM mentions")]
    assert recorded == ["Fast"]
    assert [[m["title"] for m in post.body["mentions"]] for post in hook.posts] == [["Fast"]]


# --- a scan stopped by Ctrl-C or SIGTERM -------------------------------------------------------


def stoppable_scan(
    tmp_path: Path, site: LocalSite, notify_yaml: str, *args: str, has_slow: bool = True
) -> tuple[subprocess.Popen[bytes], Path]:
    """`mentions scan` in a subprocess over three fast feeds and (`has_slow`) two that answer
    only after 60 s (the scan is stopped long before), one Acme mention each; stdout into a file."""
    from tests.state_helpers import write_config as write_feeds

    feeds = {}
    for name in ("fast0", "fast1", "fast2", *(("slow0", "slow1") if has_slow else ())):
        delay = 60 if name.startswith("slow") else 0  # the fast ones come first: 2 requests per host
        feeds[name] = site.add(f"/{name}", feed_of(name), content_type="application/rss+xml", delay=delay)
    config = write_feeds(tmp_path, feeds, extra="notify:\n" + notify_yaml)
    out = tmp_path / "out.jsonl"
    with out.open("wb") as stdout, (tmp_path / "err.txt").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "mentions", "scan", "-c", str(config), *args],
            stdout=stdout, stderr=stderr, env={**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"},
        )
    return process, out


def feed_of(name: str) -> str:
    """A feed named `name` with one Acme mention."""
    from tests.state_helpers import Item, rss

    return rss([Item(name, f"Acme in {name}", f"http://x.org/{name}")])


def written_ids(out: Path) -> list[str]:
    """The ids of the complete lines the scan wrote so far."""
    return [json.loads(line)["id"] for line in out.read_text().splitlines(keepends=True) if line.endswith("\n")]


def recorded_ids(tmp_path: Path) -> set[str]:
    """The ids committed to the state beside the config (none while it does not exist yet)."""
    try:
        with sqlite3.connect(tmp_path / "state.db") as db:
            return {row[0] for row in db.execute("SELECT id FROM mentions")}
    except sqlite3.Error:
        return set()


def wait_until(process: subprocess.Popen[bytes], condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` with a generous deadline (the machine may be busy); fail if the scan ended."""
    deadline = time.monotonic() + 45
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the scan ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within 45 s")
        time.sleep(0.05)


def alerted_ids(hook: HookReceiver) -> list[list[str]]:
    return [sorted(m["id"] for m in post.body["mentions"]) for post in hook.posts]


@pytest.mark.parametrize(("stop", "is_stateless"), [
    (signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGTERM, True),
], ids=["sigterm", "ctrl-c", "sigterm-no-state"])
def test_mentions_written_before_a_stop_are_still_alerted(
    tmp_path: Path, hook: HookReceiver, site: LocalSite, stop: int, is_stateless: bool
) -> None:
    """Ctrl-C, or `timeout` stopping a cron scan with SIGTERM: what was written is recorded,
    so it will never be new again; its alert was skipped with the stop, and so lost for good."""
    extra = ("--no-state",) if is_stateless else ()
    process, out = stoppable_scan(tmp_path, site, f"  - webhook: {hook.url()}\n", "--format", "jsonl", *extra)
    try:
        wait_until(process, lambda: len(written_ids(out)) == 3 and (
            is_stateless or set(written_ids(out)) <= recorded_ids(tmp_path)), "3 lines written and recorded")
        process.send_signal(stop)
        process.wait(timeout=30)
    finally:
        process.kill()
    error = (tmp_path / "err.txt").read_text()
    assert process.returncode == 128 + stop, error
    assert "Traceback" not in error
    printed = written_ids(out)
    assert alerted_ids(hook) == [sorted(printed)]
    if is_stateless:
        return
    assert recorded_ids(tmp_path) == set(printed)
    for name in ("slow0", "slow1"):  # answering at once now
        site.add(f"/{name}", feed_of(name), content_type="application/rss+xml")
    again = run_cli("scan", "-c", str(tmp_path / "mentions.yaml"), "--format", "jsonl")
    assert again.returncode == 0, again.stderr
    rest = [json.loads(line)["id"] for line in again.stdout.decode().splitlines()]
    assert len(rest) == 2 and not set(rest) & set(printed)
    assert alerted_ids(hook) == [sorted(printed), sorted(rest)]


def test_a_table_stopped_before_it_was_printed_alerts_nothing(
    tmp_path: Path, hook: HookReceiver, site: LocalSite
) -> None:
    """The table is printed when the scan ends: stopped before, it recorded nothing (the next
    run shows the same mentions), so alerting them would announce them twice."""
    process, out = stoppable_scan(tmp_path, site, f"  - webhook: {hook.url()}\n", "--format", "table", "--progress")
    errors = tmp_path / "err.txt"
    try:
        # --progress into a file: one line per finished source, after its mentions went to the table
        wait_until(process, lambda: errors.read_text().count(", 1 new") == 3, "3 fast sources done")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 143, errors.read_text()
    assert out.read_text() == ""
    assert hook.posts == []
    assert recorded_ids(tmp_path) == set()
    # Without a word, no table after the bar looked like nothing found.
    assert ("mentions: stopped before the table was printed; nothing was recorded, so the next "
            "scan shows these mentions") in errors.read_text()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_second_stop_while_the_alerts_go_ends_the_scan_at_once(
    tmp_path: Path, site: LocalSite, stop: int
) -> None:
    """Whoever asks twice means now: a receiver that hangs (up to its 10 minute timeout) does
    not keep a stopped scan alive. Those alerts are then lost, and stderr says so."""
    hanging = HookReceiver(delay=600)
    try:
        process, out = stoppable_scan(tmp_path, site, f"  - webhook: {hanging.url()}\n    timeout: 10m\n",
                                      "--format", "jsonl")
        try:
            wait_until(process, lambda: len(written_ids(out)) == 3 and
                       set(written_ids(out)) <= recorded_ids(tmp_path), "3 lines written and recorded")
            process.send_signal(stop)
            wait_until(process, lambda: bool(hanging.posts), "alert sent after the first stop")
            if stop == signal.SIGTERM:  # not the twin that `timeout` sends (see below)
                from mentions.cli import TWIN_SIGTERM_SECONDS

                time.sleep(TWIN_SIGTERM_SECONDS + 0.2)
            process.send_signal(stop)
            process.wait(timeout=20)
        finally:
            process.kill()
    finally:
        hanging.stop()
    error = (tmp_path / "err.txt").read_text()
    assert process.returncode == 128 + stop, error
    assert "Traceback" not in error
    assert "alerts not sent yet are lost" in error


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_first_stop_while_the_alerts_go_lets_them_finish(tmp_path: Path, site: LocalSite, stop: int) -> None:
    """`timeout` may strike while the alerts of a finished scan go (an SMTP server can take
    seconds): cut short, they were lost for good, as their mentions are recorded. The first
    stop waits for them (each within its notifier's timeout); only a second one cuts them."""
    hanging = HookReceiver(delay=600)
    try:
        process, out = stoppable_scan(tmp_path, site, f"  - webhook: {hanging.url()}\n    timeout: 10m\n",
                                      "--format", "jsonl", has_slow=False)
        try:
            wait_until(process, lambda: bool(hanging.posts), "the alert")
            process.send_signal(stop)
            time.sleep(1)
            assert process.poll() is None  # still waiting for the receiver's answer
            hanging.released.set()  # it answers
            process.wait(timeout=30)
        finally:
            process.kill()
    finally:
        hanging.stop()
    error = (tmp_path / "err.txt").read_text()
    assert process.returncode == 128 + stop, error
    assert error == ""  # nothing lost, no alert failed
    assert len(written_ids(out)) == 3 and set(written_ids(out)) == recorded_ids(tmp_path)
    assert [sorted(m["id"] for m in hanging.posts[0].body["mentions"])] == [sorted(written_ids(out))]


TWIN = """
import os, signal, sys, time
from mentions import cli

signal.signal(signal.SIGTERM, cli._terminated)  # as main() does
try:
    os.kill(os.getpid(), signal.SIGTERM)  # the scan stops
    time.sleep(5)
except SystemExit:
    pass
time.sleep(float(sys.argv[1]))
with cli.sending_alerts(is_stopping=True):
    os.kill(os.getpid(), signal.SIGTERM)  # the alerts go: another SIGTERM comes
    time.sleep(0.5)
print("alerts sent")
"""


@pytest.mark.parametrize(("is_twin", "code", "said"), [
    (True, 0, "alerts sent"), (False, 143, "the alerts not sent yet are lost"),
], ids=["twin", "new-request"])
def test_the_twin_of_the_stopping_sigterm_does_not_cut_the_alerts_short(is_twin: bool, code: int, said: str) -> None:
    """`timeout` signals the scan, then its whole group: a second SIGTERM that a busy machine
    delivers late, while the alerts go, would lose them all. One that comes later is a
    second request to stop, and ends the process at once."""
    from mentions.cli import TWIN_SIGTERM_SECONDS

    after = 0.0 if is_twin else TWIN_SIGTERM_SECONDS + 0.2
    result = subprocess.run([sys.executable, "-c", TWIN, str(after)], capture_output=True, timeout=30,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert result.returncode == code, result.stderr
    assert said in (result.stdout + result.stderr).decode()


def test_lines_the_reader_left_in_the_pipe_are_not_alerted(
    tmp_path: Path, hook: HookReceiver, site: LocalSite
) -> None:
    """The lines still in the pipe when the reader left are not recorded (the next run
    reports them): nor are they alerted now, or the next run would alert them twice."""
    from tests.state_helpers import Item, rss
    from tests.state_helpers import write_config as write_feeds
    from tests.test_unread import wait_for_a_full_pipe

    items = [Item(f"Acme {n}", f"Acme item {n} " + "lorem ipsum " * 40, f"http://x.org/{n}") for n in range(3000)]
    feed = site.add("/big", rss(items), content_type="application/rss+xml")
    config = write_feeds(tmp_path, {"big": feed}, extra=f"notify:\n  - {{webhook: {hook.url()}, max_items: 500}}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    wait_for_a_full_pipe(process.stdout.fileno())
    taken = os.read(process.stdout.fileno(), 4000)
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    read = [json.loads(line)["title"] for line in taken.split(b"\n")[:-1]]  # the last: cut or empty
    assert read
    assert [(post.body["count"], sorted(m["title"] for m in post.body["mentions"])) for post in hook.posts] \
        == [(len(read), sorted(read))]
