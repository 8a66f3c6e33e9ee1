"""Pure helpers of the fetch layer: the address policy, Retry-After, secrets, redaction."""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from ipaddress import ip_address

import pytest

from mentions.fetch.classify import (
    is_bot_challenge,
    is_secret_header,
    redact_url,
    retry_after_seconds,
)
from mentions.fetch.decompress import InvalidCompression, decoder_for
from mentions.fetch.netguard import AddressPolicy, resolve


@pytest.mark.parametrize(
    ("address", "is_public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("127.8.8.8", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # CGNAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),  # unique local
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:169.254.169.254", False),
        ("::ffff:93.184.216.34", True),
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("198.18.0.1", False),  # benchmarking
    ],
)
def test_address_policy(address: str, is_public: bool) -> None:
    assert AddressPolicy().is_public(ip_address(address)) is is_public


def test_address_policy_allow_is_for_tests_only() -> None:
    policy = AddressPolicy(allow=["127.0.0.1/32"])
    assert policy.is_public(ip_address("127.0.0.1"))
    assert not policy.is_public(ip_address("127.0.0.2"))


def test_resolve_literals_and_names() -> None:
    assert asyncio.run(resolve("[::1]", 80)) == [ip_address("::1")]
    assert ip_address("127.0.0.1") in asyncio.run(resolve("localhost", 80))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1.0),
        ("120", 120.0),
        ("86400", 86400.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_http_date_in_the_future() -> None:
    wait = retry_after_seconds(formatdate(1_000_000_100, usegmt=True), now=1_000_000_000)
    assert wait == 100


@pytest.mark.parametrize(
    ("name", "is_secret"),
    [
        ("Authorization", True),
        ("Proxy-Authorization", True),
        ("Cookie", True),
        ("X-Api-Key", True),
        ("X-Auth-Token", True),
        ("X-Client-Secret", True),
        ("PRIVATE-TOKEN", True),
        ("Accept-Language", False),
        ("User-Agent", False),
        ("Accept", False),
    ],
)
def test_secret_headers(name: str, is_secret: bool) -> None:
    assert is_secret_header(name) is is_secret


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://example.org/feed?token=abc", "https://example.org/feed?…"),
        ("https://user:pw@example.org/a", "https://example.org/a"),
        ("https://example.org/a#frag", "https://example.org/a"),
        ("https://example.org/a", "https://example.org/a"),
        ("http://[::1", "<unparseable url>"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (403, {"cf-mitigated": "challenge"}, b"", True),
        (503, {}, b"<html><title>Just a moment...</title>", True),
        (403, {"server": "ddos-guard"}, b"<html>", True),
        (429, {}, b"<div class='h-captcha'>", True),
        (200, {}, b"<title>Just a moment...</title>", True),
        (200, {}, b"<p>Our page about g-recaptcha integration</p>", False),
        (200, {}, b"<title>Just a moment...</title>" + b"x" * 70_000, False),
        (404, {}, b"<html>not found</html>", False),
        (403, {}, b"<html>forbidden</html>", False),
    ],
)
def test_bot_challenge(status: int, headers: dict[str, str], body: bytes, expected: bool) -> None:
    assert is_bot_challenge(status, headers, body) is expected


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip, gzip, gzip"])
def test_unsupported_or_excessive_encodings(encoding: str) -> None:
    with pytest.raises(InvalidCompression):
        decoder_for(encoding)


def test_identity_and_empty_encodings() -> None:
    for encoding in (None, "", "identity"):
        decoder = decoder_for(encoding)
        assert b"".join([*decoder.feed(b"abc"), *decoder.finish()]) == b"abc"
