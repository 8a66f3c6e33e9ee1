"""Regexes that can take exponential time: `mentions check` names them, and only them."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mentions.cli import app
from mentions.match.query import parse_query
from mentions.match.slow_regex import NESTED, SAME_CHOICE, parser, reason_in, slow_regexes, why_slow

SLOW = [
    (r"(a+)+b", NESTED),
    (r"(\w+\s?)*$", NESTED),
    (r"(.*a){20}", NESTED),
    (r"(a*)*b", NESTED),
    (r"((ab)*)*c", NESTED),
    (r"(.*,)+x", NESTED),
    (r"(\d+,?)+$", NESTED),
    (r"(?:\S+\s*)+!", NESTED),
    (r"(a|b+)*c", NESTED),
    (r"(x|x)*y", SAME_CHOICE),
    (r"(?:acme|acme)+!", SAME_CHOICE),
    (r"((a)|(a))*b", SAME_CHOICE),
]

SAFE = [
    r"acme\s*(gmbh|ag)",
    r"\bacme(-\w+)?\b",
    r"\d{3,5}",
    r"(foo|bar)+",
    r"ac+me\d*",
    r"(\w+\.)+\w+",
    r"(\s*acme)+",
    r"(\w+\s)*!",
    r"(\w+\s+){2,5}acme",
    r"[\w.+-]+@acme\.de",
    r"https?://(www\.)?acme\.(de|com)/\S*",
    r"(?:^|\s)#acme\b",
    r"(a|\w)*",
    r"(?>a+)+b",
    r"(a++)+b",
    r"(?:a+)++b",
]


@pytest.mark.parametrize(("pattern", "reason"), SLOW)
def test_slow_shapes_are_named(pattern: str, reason: str) -> None:
    assert why_slow(pattern) == reason


@pytest.mark.parametrize("pattern", SAFE)
def test_common_patterns_give_no_warning(pattern: str) -> None:
    assert why_slow(pattern) is None


def test_every_regex_of_a_query_is_looked_at() -> None:
    query = parse_query(r'(Acme /(x|x)*y/) OR (title:"Acme" -/(a+)+b/) OR /acme\s*ag/ OR Acme NEAR/3 AG')
    assert list(slow_regexes(query)) == [(r"(x|x)*y", SAME_CHOICE), (r"(a+)+b", NESTED)]


_ATOMS = st.sampled_from(["a", "b", ".", r"\w", r"\s", r"\d", r"\W", r"\b", "[a-c]", "[^x]", "[[:a]", "$", "^",
                          r"\1", "(?P=n)", "-", "(?i)"])
_GROUPS = st.sampled_from(["({})", "(?:{})", "(?>{})", "(?={})", "(?!{})", "(?<=a{})", "(?P<n>{})", "(?(1){}|b)"])
_QUANTIFIERS = st.sampled_from(["*", "+", "?", "*?", "+?", "++", "*+", "{2}", "{1,12}", "{3,}", "{20}", "{0}"])
# Mostly well-formed (a random string seldom compiles), with every kind of group and repeat.
_REGEXES = st.recursive(_ATOMS, lambda inner: st.one_of(
    st.tuples(inner, inner).map("".join),
    st.tuples(inner, inner).map("|".join),
    st.tuples(_GROUPS, inner).map(lambda t: t[0].format(t[1])),
    st.tuples(inner, _QUANTIFIERS).map(lambda t: f"({t[0]}){t[1]}"),
), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_REGEXES, st.text(min_size=1, max_size=20)))
def test_the_analysis_never_raises(pattern: str) -> None:
    """Without the safety net of `why_slow`: no surprise in the parser's tree goes unseen."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern, re.IGNORECASE)
            tree = parser.parse(pattern, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError, ValueError):
        return  # the query parser refuses it
    assert reason_in(list(tree)) in (None, NESTED, SAME_CHOICE)
    assert why_slow(pattern) == reason_in(list(tree))


def test_deep_nesting_is_no_crash() -> None:
    assert why_slow("(" * 90 + "a+" + ")+" * 90) == NESTED
    assert why_slow("(?:" * 90 + "a" + ")" * 90) is None


def test_check_warns_and_still_exits_0(tmp_path: Path) -> None:
    config = tmp_path / "mentions.yaml"
    config.write_text(
        "version: 1\nkeywords:\n"
        "  - name: acme\n    query: '/(a+)+b/ OR Acme'\n"
        "  - name: globex\n    query: 'Globex OR /globex\\s*(gmbh|ag)/'\n"
        "  - name: initech\n    terms: ['(a+)+b']\n"
        "  - name: urls\n    query: '/https:\\/\\/(\\w+\\s?)*$/'\n"
        "sources:\n  - name: blog\n    feed: https://blog.example.org/feed\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "mentions: warning: keyword 'acme': /(a+)+b/ can take very long on some texts "
        "(a repeated group that itself repeats)",
        "mentions: warning: keyword 'urls': /https:\\/\\/(\\w+\\s?)*$/ can take very long on some texts "
        "(a repeated group that itself repeats)",
        f"{config}: ok (4 keywords, 1 source)",
    ]
