"""What a JSON API says went wrong: one short sentence from each platform's error answer."""

from __future__ import annotations

import json

import pytest

from mentions.api_errors import error_message, error_message_of


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        # GitHub: the first sentence, not the advertisement after it
        ({"message": "API rate limit exceeded for 203.0.113.7. (But here's the good news: Authenticated "
                     "requests get a higher rate limit. Check out the documentation for more details.)",
          "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
         "API rate limit exceeded for 203.0.113.7"),
        ({"message": "Validation Failed", "errors": [{"message": "The search is longer than 256 characters.",
                                                      "resource": "Search", "field": "q", "code": "invalid"}]},
         "Validation Failed: The search is longer than 256 characters"),
        ({"error_id": 502, "error_name": "throttle_violation",
          "error_message": "too many requests from this IP, more requests available in 77612 seconds"},
         "too many requests from this IP, more requests available in 77612 seconds"),
        ({"message": "Too Many Requests", "error": 429}, "Too Many Requests"),
        ({"error": "This method requires an authenticated user"}, "This method requires an authenticated user"),
        ({"error": "rate_limit_error"}, "rate_limit_error"),
        ({"errors": ["You’ve performed this action too many times. Please wait 9 seconds before trying again."],
          "error_type": "rate_limit", "extras": {"wait_seconds": 9}},
         "You’ve performed this action too many times"),
        ({"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your "
                                            "quota.", "errors": []}},
         "The request cannot be completed because you have exceeded your quota"),
        ({"message": "line one\n\x1b[31mred\x1b[0m  line two"}, "line one [31mred [0m line two"),
        ({"message": "x" * 500}, None),  # one word too long to cut between words: left out
        ({"message": "word " * 100}, ("word " * 40).rstrip() + " …"),
        # cut between words: a token the API quotes back is never cut in half (its piece
        # would escape the redactor, which knows the whole secret)
        ({"message": "y" * 180 + " token ghp_" + "A" * 40 + " is invalid"}, "y" * 180 + " token …"),
        ({"status": 400}, None),
        ({"message": ""}, None),
        (["not", "an", "object"], None),
    ],
)
def test_error_messages(answer: object, expected: str | None) -> None:
    assert error_message(answer) == expected


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (json.dumps({"message": "Not Found"}).encode(), "application/json; charset=utf-8", "Not Found"),
        (b' {"message": "Bad credentials"}', "text/plain", "Bad credentials"),
        (b"<html><body>Too Many Requests</body></html>", "text/html", None),
        (b'{"message": ', "application/json", None),
        (b"", "application/json", None),
    ],
)
def test_error_message_of_a_body(body: bytes, content_type: str, expected: str | None) -> None:
    assert error_message_of(body, content_type) == expected
