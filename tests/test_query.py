"""The query language: what parses to what, and where malformed queries fail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentions.errors import QueryError
from mentions.match import KeywordRule, Matcher, parse_query
from mentions.match.query import And, Near, Not, Or, Regex, Term
from mentions.models import Document

A, B, C = Term("A"), Term("B"), Term("C")
NEAR_JOINS = "NEAR joins words, phrases and prefixes (or an OR of them)"


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("Acme", Term("Acme")),
        ('"Acme GmbH"', Term("Acme GmbH")),
        ('"Acme    GmbH"', Term("Acme GmbH")),
        ("Schuh*", Term("Schuh", is_prefix=True)),
        ("Telekom*", Term("Telekom", is_prefix=True)),
        (r"/ac+me\d*/", Regex(r"ac+me\d*")),
        (r"/a\/b/", Regex("a/b")),
        ("A AND B", And((A, B))),
        ("A B", And((A, B))),
        ("A OR B", Or((A, B))),
        ("NOT A", Not(A)),
        ("-A", Not(A)),
        ('-"A B"', Not(Term("A B"))),
        ("A -(B OR C)", And((A, Not(Or((B, C)))))),
        ("A OR B NOT C", Or((A, And((B, Not(C)))))),
        ("A OR B AND C", Or((A, And((B, C))))),
        ("(A OR B) C", And((Or((A, B)), C))),
        ("NOT A B", And((Not(A), B))),
        ("A NEAR/5 B", Near(A, B, 5)),
        ("A ONEAR/2 B", Near(A, B, 2, is_ordered=True)),
        ("C A NEAR/5 B", And((C, Near(A, B, 5)))),
        ("NOT A NEAR/3 B", Not(Near(A, B, 3))),
        (
            "Globex NEAR/5 (preis OR teuer)",
            Near(Term("Globex"), Or((Term("preis"), Term("teuer"))), 5),
        ),
        ("title:acme", Term("acme", "title")),
        ('author:"Max Muster"', Term("Max Muster", "author")),
        ("url:blog", Term("blog", "url")),
        ("site:example.com", Term("example.com", "site")),
        ("-site:acme.de", Not(Term("acme.de", "site"))),
        # A pasted URL means its host: scheme, user info, port and path go, case too.
        ("-site:https://www.acme.de/", Not(Term("www.acme.de", "site"))),
        ("site:HTTP://max:pw@Shop.Acme.DE:8443/a?b#c", Term("shop.acme.de", "site")),
        ("site:acme.de/blog", Term("acme.de", "site")),
        ("lang:de", Term("de", "lang")),
        ("acme.de", Term("acme.de")),
        ("#acme @acme", And((Term("#acme"), Term("@acme")))),
        ("and or", And((Term("and"), Term("or")))),  # operators are upper case only
        ("Coca-Cola", Term("Coca-Cola")),
        (
            '"Acme" AND (Schuh* OR sneaker*) NOT "Acme Corp"',
            And(
                (
                    Term("Acme"),
                    Or((Term("Schuh", is_prefix=True), Term("sneaker", is_prefix=True))),
                    Not(Term("Acme Corp")),
                )
            ),
        ),
    ],
)
def test_parses(query: str, tree: object) -> None:
    assert parse_query(query) == tree


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query at column 1"),
        ("   ", "empty query at column 1"),
        ('"Acme" AND Schuh)', 'unbalanced ")" at column 17'),
        (")", 'unbalanced ")" at column 1'),
        ("(Acme OR Globex", 'unbalanced "(" at column 1'),
        ("A (B (C)", 'unbalanced "(" at column 3'),
        ("()", 'empty parentheses "()" at column 1'),
        ("Acme NEAR Schuh", "NEAR needs a number (NEAR/5) at column 6"),
        ("Acme ONEAR/x Schuh", "ONEAR needs a number (ONEAR/5) at column 6"),
        ("A NEAR/99999 B", "NEAR/99999 is too far (at most 1000) at column 3"),
        ('Acme ""', 'empty phrase "" at column 6'),
        ('Acme "   "', 'empty phrase "" at column 6'),
        ('Acme "GmbH', 'unclosed quote " at column 6'),
        ("Acme AND", 'nothing after "AND" at column 6'),
        ("Acme OR", 'nothing after "OR" at column 6'),
        ("Acme NOT", 'nothing after "NOT" at column 6'),
        ("Acme AND OR B", 'nothing after "AND" at column 6'),
        ("AND Acme", 'nothing before "AND" at column 1'),
        ("(OR Acme)", 'nothing before "OR" at column 2'),
        ("A NEAR/2", 'nothing after "NEAR" at column 3'),
        ("NEAR/2 A", 'nothing before "NEAR" at column 1'),
        (
            "/ac(me/",
            "bad regex /ac(me/ (missing ), unterminated subpattern at position 2) at column 1",
        ),
        ("acme /x", "unclosed regex / at column 6"),
        ("acme //", "empty regex // at column 6"),
        ("*", "a prefix needs letters before * at column 1"),
        ("acme -", '"-" has nothing to look for at column 6'),
        ("title:", "title: needs a word or phrase right after it at column 1"),
        ("site:/x/", "site: needs a word or phrase right after it at column 1"),
        ("(A AND B) NEAR/3 C", f"{NEAR_JOINS} at column 11"),
        ("A NEAR/3 site:x.de", f"{NEAR_JOINS} at column 3"),
        ("A NEAR/3 /x/", f"{NEAR_JOINS} at column 3"),
        ("\u00ad", '"\u00ad" has nothing to look for at column 1'),
        ("acme -site:https://", 'site: "https://" names no host (write it as acme.de) at column 12'),
        ('acme site:"acme de"', 'site: "acme de" names no host (write it as acme.de) at column 11'),
        ("site:http://[::1", 'site: "http://[::1" names no host (write it as acme.de) at column 6'),
    ],
)
def test_errors_name_the_column(query: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_query(query)
    assert str(raised.value) == message
    assert raised.value.column >= 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("(" * 51 + "Acme" + ")" * 51, "the query nests too deeply (at most 50 levels) at column 51"),
        ("NOT " * 600 + "Acme", "the query nests too deeply (at most 50 levels) at column 201"),
        ("-" * 50_000 + "Acme", "the query nests too deeply (at most 50 levels) at column 51"),
        (" NEAR/5 ".join(["Acme"] * 1000), "too many NEARs in a row (at most 50) at column 606"),
    ],
    ids=["parentheses", "NOT", "minus", "NEAR chain"],
)
def test_a_query_nested_past_the_limit_is_a_query_error(query: str, message: str) -> None:
    """200 levels exhausted Python's stack, and a chain of 1,000 NEARs passed `check` but
    failed the scan: both were an internal error instead of a message with the column."""
    with pytest.raises(QueryError) as raised:
        parse_query(query)
    assert str(raised.value) == message


def test_queries_as_deep_as_the_limit_match() -> None:
    from mentions.match import KeywordRule, Matcher
    from mentions.models import Document

    deep = [KeywordRule(name="parens", query="(" * 50 + "Acme" + ")" * 50),
            KeywordRule(name="nots", query="Acme " + "NOT " * 49 + "Globex"),
            KeywordRule(name="near", query=" NEAR/5 ".join(["Acme", "shoes"] * 25))]
    found = Matcher(deep).match(Document("s", "feed", "Acme shoes Acme shoes " * 30))
    assert [match.keyword for match in found] == ["parens", "nots", "near"]


_QUERY_PIECES = st.sampled_from(
    [
        "A",
        "B",
        "Acme",
        "AND",
        "OR",
        "NOT",
        "-",
        "(",
        ")",
        '"',
        "/",
        "*",
        "NEAR/2",
        "ONEAR",
        "NEAR/",
        "title:",
        "site:",
        "lang:",
        ":",
        "\\",
        " ",
        "  ",
        "ß",
        "\u00ad",
        "[",
        "?",
        "+",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(_QUERY_PIECES, max_size=12).map("".join)))
def test_parser_raises_only_query_errors(text: str) -> None:
    try:
        parse_query(text)
    except QueryError as error:
        assert 1 <= error.column <= len(text) + 1


@pytest.mark.parametrize("value", ["site:acme.de", "http:acme.de", "acme.de,acme.com", "acme de", "https://",
                                   "site:", "-acme.de"])
def test_a_site_value_that_names_no_host_is_an_error(value: str) -> None:
    # Read as hosts, these became words such as "site" that no document's host is, or
    # (in `init --site`) a term "site" that matched almost every text.
    with pytest.raises(QueryError, match="names no host"):
        parse_query(f'Acme -site:"{value}"')


@pytest.mark.parametrize(("query", "url", "is_match"), [
    ("Acme site:*.acme.de", "https://blog.acme.de/x", True),
    ("Acme site:münchen.de", "https://xn--mnchen-3ya.de/x", True),
    ("Acme site:xn--mnchen-3ya.de", "https://münchen.de/x", True),
    ("Acme -site:münchen.de", "https://www.münchen.de/x", False),
])
def test_site_takes_wildcards_and_either_spelling_of_an_international_host(
    query: str, url: str, is_match: bool
) -> None:
    matcher = Matcher([KeywordRule("k", query=query)])
    assert bool(matcher.match(Document("s", "feed", "Acme news", url=url))) is is_match
