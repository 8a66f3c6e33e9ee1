"""Main-text rules, one hand-written page each (tests/fixtures/extract/): what a user checks is
that the mention in the text is found and the one in the page's chrome is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from mentions.extract import main_text

FIXTURES = Path(__file__).parent / "fixtures" / "extract"

# fixture -> (lines that must be in the main text, words that must not)
CASES: dict[str, tuple[list[str], list[str]]] = {
    # A poster's signature is text the poster wrote ("Proud owner of an Acme Ridge 3"), and a
    # recurring "Cheers!" is a sign-off, not a rank; a recurring "Globex Member" is a rank.
    "forum-signatures.html": (
        ["Proud owner of an Acme Ridge 3", "Cheers!"],
        ["Globex", "Initech", "Hooli"],
    ),
    # A numbered list of linked citations is the article's references, not a teaser grid;
    # a table's linked row heads are its content.
    "references-list.html": (
        ["The Hollywood Reporter, on the Acme Pictures sale at the Cannes market, 25 September 2017.",
         "Urusei Yatsura 2: Beautiful Dreamer"],
        ["Initech"],
    ),
    # A heading that recurs in an article is a section name, not a badge.
    "roundup-headings.html": (
        ["Pre-Workout Supplement", "Acme's pre-workout mix is stronger"],
        ["Globex", "Hooli"],
    ),
    # A pasted address is text, not a menu: the short lines between such links stay.
    "pasted-links.html": (
        ["2) Acme Gaming – Taboo", "Our group for swapping the toys children forgot"],
        ["Initech", "Hooli"],
    ),
    # Posts share their first class; state classes after it (topic-owner, current-user-post)
    # differ from post to post: still a thread, so a short line in a post is part of it.
    "thread-state-classes.html": (
        ["Product Manager - Acme Testing", "Hi, I would be interested."],
        ["Globex", "Hooli"],
    ),
    # Two posts: the question with its long code block outweighs the short answer and the
    # answer's own chrome, but the answer is the sibling post of the same thread.
    "two-post-thread.html": (
        ["It looks like your changelog does not match the Acme packaging rules"],
        ["Initech", "Hooli", "Global Moderator"],
    ),
    # A post whose whole text is two words in a paragraph of its own; the ranks beside it
    # ("Busy bee") are labels.
    "short-post-paragraph.html": (
        ["Acme Turquoise"],
        ["Initech", "Hooli", "Busy bee"],
    ),
    # A paywalled article ships its body in JSON-LD only; the lead shown above the paywall is
    # the JSON-LD description, and it leads the text.
    "paywall-json-ld.html": (
        ["Das Gewicht belastet auch die Acme-Module.", "Von waghalsigen Räumaktionen"],
        ["Initech", "Hooli"],
    ),
    # Who wrote each post is part of a thread as a reader sees it (the brand's support account
    # answering), where the engine marks the author: Reddit's post elements name theirs in an
    # attribute. A name outside the posts (the moderators box) stays chrome.
    "reddit-thread.html": (
        ["ridge_owner_7", "AcmeSupport", "pixel_pusher", "night_charger", "Sorry about that!"],
        ["HooliMod", "GlobexMod", "Initech"],
    ),
    # bbPress wraps the author in `bbp-author-name`: kept in the thread's posts, also when the
    # same poster recurs (no label); the same markup in a "most active" box is not a post.
    "bbpress-thread.html": (
        ["AcmeSupport", "ridgeowner", "trailrunner", "the update changed the pairing key"],
        ["HooliFan", "GlobexGal", "Initechian"],
    ),
    # XenForo's posts carry `data-author`: the post's own name line is kept, a name in its
    # reactions bar or in the sidebar is not.
    "xenforo-thread.html": (
        ["AcmeSupport", "ridge_owner_7", "runner_jo", "Straps are covered by the warranty"],
        ["HooliFan", "GlobexGal", "Initech"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_main_text_rule(name: str) -> None:
    kept, dropped = CASES[name]
    text = main_text((FIXTURES / name).read_text(encoding="utf-8")).text
    for line in kept:
        assert line in text.splitlines() or line in text, line
    for word in dropped:
        assert word not in text, word


@pytest.mark.parametrize("name", ["reddit-thread.html", "bbpress-thread.html"])
def test_post_author_kept_only_in_its_post(name: str) -> None:
    """The support account answered once and is also listed in a box beside the thread (the
    moderators, the most active): its name is kept once, as the author of its post."""
    text = main_text((FIXTURES / name).read_text(encoding="utf-8")).text
    assert text.splitlines().count("AcmeSupport") == 1
