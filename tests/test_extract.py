"""Main-text extraction: one hand-written page per behaviour, hostile inputs, and a corpus
floor that catches regressions (skipped when the shared corpus is not checked out)."""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from mentions.extract import ExtractedPage, main_text, visible_text

PROSE = (
    "The new trail shoes held up well on wet rock and the grip never slipped once, "
    "even on the steep descent after the third bridge."
)


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


CHROME = """
<header class="site-header"><a href="/">Globex Times</a>
  <nav><ul><li><a href="/a">Sneakers</a></li><li><a href="/b">Initech Deals</a></li></ul></nav>
</header>
<div id="cookie-banner"><p>We use cookies to improve your experience. Accept all cookies
  from Umbrella Analytics and our partners to continue reading this site.</p></div>
<aside class="sidebar"><h3>Popular</h3><p>Hooli shares the week's most discussed gadgets with
  everyone who signs up, in a weekly mail that is long enough to look like prose.</p></aside>
<footer class="site-footer"><p>© 2024 Globex Media. All rights reserved.</p>
  <a href="/imprint">Impressum</a></footer>
"""


def article(paragraphs: list[str]) -> str:
    return "<article>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article>"


def test_chrome_is_dropped_and_article_kept() -> None:
    html = page(CHROME + article([PROSE, "Acme made them in Portugal. " + PROSE]))
    text = main_text(html).text
    assert "Acme made them in Portugal." in text
    assert PROSE in text
    for chrome in ("Initech", "Umbrella", "Hooli", "Globex", "Impressum"):
        assert chrome not in text, chrome


def test_forum_thread_keeps_every_reply() -> None:
    replies = [f"Reply {i}: " + PROSE for i in range(1, 6)]
    replies[4] = "Reply 5: I switched to Acme last year and " + PROSE
    posts = "".join(
        f'<div class="post" id="p{i}"><div class="userinfo"><a href="/u/{i}">user{i}</a></div>'
        f'<div class="message"><p>{text}</p></div></div>'
        for i, text in enumerate(["First post: " + PROSE, *replies])
    )
    html = page(CHROME + f'<div id="thread">{posts}</div>')
    text = main_text(html).text
    assert "I switched to Acme" in text
    assert all(f"Reply {i}:" in text for i in range(1, 6))
    assert "Hooli" not in text


def test_short_reply_between_posts_is_kept() -> None:
    posts = "".join(
        f'<div class="post"><a href="/u/{i}">user{i}</a><p>{t}</p></div>'
        for i, t in enumerate([PROSE, "Thanks, Acme fixed it!", PROSE, "Sweet idea feels like Acme"])
    )
    text = main_text(page(f"<main>{posts}</main>")).text
    assert "Thanks, Acme fixed it!" in text
    assert "Sweet idea feels like Acme" in text  # no final stop, but four words in a post


def test_blog_comments_kept_comment_form_dropped() -> None:
    comments = "".join(
        f'<li class="comment"><cite>Reader {i}</cite><p>{PROSE} Comment {i} likes Acme.</p></li>'
        for i in range(3)
    )
    form = (
        '<div id="respond" class="comment-respond"><h3>Leave a Reply to Initech</h3>'
        '<form class="comment-form"><p>Your email address will not be published by Hooli.</p>'
        '<textarea name="comment"></textarea><input type="submit" value="Post"></form></div>'
    )
    html = page(CHROME + article([PROSE, PROSE]) + f'<ol class="comments">{comments}</ol>' + form)
    text = main_text(html).text
    assert "Comment 2 likes Acme." in text
    assert "Initech" not in text
    assert "Hooli" not in text


def test_review_page_keeps_reviews() -> None:
    reviews = "".join(
        f'<div class="review"><span class="stars">★★★★☆</span><p>{PROSE} Review {i}.</p></div>'
        for i in range(4)
    )
    html = page(CHROME + f'<section class="reviews"><h2>Acme Runner</h2>{reviews}</section>')
    text = main_text(html).text
    assert all(f"Review {i}." in text for i in range(4))


def test_teaser_list_dropped() -> None:
    teasers = "".join(
        f'<li><a href="/s/{i}">Initech story number {i} with a long headline</a></li>'
        for i in range(6)
    )
    html = page(
        article([PROSE, "Acme " + PROSE])
        + f'<div class="related-posts"><h3>More stories</h3><ul>{teasers}</ul></div>'
    )
    text = main_text(html).text
    assert "Acme" in text
    assert "Initech" not in text
    assert "More stories" not in text


def test_teaser_grid_with_summaries_dropped() -> None:
    """Cards of a linked headline and a one-sentence summary, unmarked, after the article:
    as much prose as a short article, but not the article."""
    cards = "".join(
        f'<div class="card"><h3><a href="/s/{i}">Initech story number {i} has a headline</a></h3>'
        f"<p>A summary sentence about Hooli number {i}, long enough to count as prose.</p></div>"
        for i in range(8)
    )
    html = page(article([PROSE, "Acme " + PROSE]) + f'<div class="grid">{cards}</div>')
    text = main_text(html).text
    assert "Acme" in text
    assert "Initech" not in text
    assert "Hooli" not in text


def test_post_stamps_dropped_post_text_kept() -> None:
    posts = "".join(
        f'<div class="post"><div class="meta">Posted by user{i} - 5/2{i}/2024 5:19 PM</div>'
        f"<p>{PROSE} Acme reply {i}.</p></div>"
        for i in range(4)
    )
    text = main_text(page(f"<main>{posts}</main>")).text
    assert all(f"Acme reply {i}." in text for i in range(4))
    assert "Posted by" not in text


def test_recurring_rank_labels_dropped_table_cells_kept() -> None:
    posts = "".join(
        f'<div class="post"><div class="rank">Initech Member</div><p>{PROSE} Acme {i}.</p></div>'
        for i in range(4)
    )
    table = "<table>" + "<tr><td>Hooli Ltd</td><td>2014</td></tr>" * 3 + "</table>"
    text = main_text(page(f"<main>{posts}<p>{PROSE}</p>{table}<p>{PROSE}</p></main>")).text
    assert "Acme 3." in text
    assert "Initech" not in text
    assert text.count("Hooli Ltd") == 3


def test_inline_tags_do_not_split_words() -> None:
    html = page("<p>Py<b>thon</b> and <a href='#'>Ac</a><i>me</i> rock.</p>")
    assert visible_text(html) == "Python and Acme rock."


def test_blocks_are_separate_lines() -> None:
    html = page("<div>one<p>two</p>three<br>four</div><ul><li>five</li></ul>")
    assert visible_text(html).splitlines() == ["one", "two", "three", "four", "five"]


def test_hidden_nodes_dropped() -> None:
    body = (
        f"<p>{PROSE}</p><div hidden><p>Initech hidden attribute text.</p></div>"
        '<div style="display: none"><p>Hooli display none text.</p></div>'
        '<div aria-hidden="true"><p>Umbrella aria hidden text.</p></div>'
        "<script>var acme = 'Globex script';</script><style>.x{}</style>"
        "<noscript>Vandelay noscript</noscript><template><p>Wonka template</p></template>"
    )
    for text in (visible_text(page(body)), main_text(page(body)).text):
        assert PROSE in text
        for hidden in ("Initech", "Hooli", "Umbrella", "Globex", "Vandelay", "Wonka"):
            assert hidden not in text, hidden


def test_forum_side_boxes_dropped() -> None:
    """A forum page's "latest posts" / "most active" boxes (post previews, each as long as a
    post) and its notices ("Please Login or Register") are not the thread."""
    posts = "".join(
        f'<article class="message message--post"><div class="bbWrapper">{PROSE} Acme {i}.</div>'
        "</article>" for i in range(3)
    )
    previews = "".join(
        f'<div class="post-preview"><div class="post-preview-heading"><a href="/t/{i}">'
        f"Initech topic {i}</a></div><div class=\"post-preview-excerpt\">{PROSE} Hooli {i} "
        f"{PROSE} {PROSE}</div></div>" for i in range(4)
    )
    notices = ('<ul class="notices"><li class="notice">Greetings, and welcome to the Umbrella '
               "board, the premier forum for the discussion of everything under the sun.</li></ul>")
    html = page(notices + f'<div class="thread">{posts}</div>'
                + f'<div class="member-latest-posts-container">{previews}</div>')
    text = main_text(html).text
    assert all(f"Acme {i}." in text for i in range(3))
    for chrome in ("Initech", "Hooli", "Umbrella"):
        assert chrome not in text, chrome


def test_embedded_tweet_kept_hidden_class_dropped() -> None:
    """An embedded tweet is a quote in the article even in a "social" wrapper; a block the
    page hides with a class (`hidden`, `d-none`) is not seen, unless a responsive class
    shows it again (`d-none d-lg-block`)."""
    body = article([
        PROSE,
        '</p><div class="social-media-embed"><blockquote class="twitter-tweet"><p>Acme wins '
        'the cup</p>&mdash; Globex FC (@GlobexFC)</blockquote></div><p>',
        PROSE,
        '</p><div class="badgetext hide hidden"><p>Initech badge holders consistently post '
        "smart, timely comments about everything, and this explains the badge.</p></div><p>",
        '</p><div class="d-none d-lg-block"><p>Hooli desktop note: ' + PROSE + "</p></div><p>",
    ])
    text = main_text(page(body)).text
    assert "Acme wins the cup" in text
    assert "Initech" not in text
    assert "Hooli desktop note" in text


def test_content_wrapper_taken_over_its_best_paragraphs() -> None:
    """The best subtree is two paragraphs; the `entry-content` around them also holds an
    intro and a calendar of short lines (a race calendar): the wrapper is the article."""
    rows = "".join(f"<p>{d}/03 - Corrida Acme {d} - Interlagos</p>" for d in range(10, 22))
    body = ('<div class="entry-content"><p>The season calendar of the Acme series is out, with '
            f'races in every state.</p>{rows}<div class="inner"><p>{PROSE}</p><p>{PROSE}</p></div>'
            '<div class="share"><a href="#">Facebook</a><a href="#">Twitter</a></div>'
            '<p class="tags">Tags: <a href="/t">Initech</a></p></div>')
    text = main_text(page(CHROME + body)).text
    assert "The season calendar of the Acme series" in text
    assert "21/03 - Corrida Acme 21 - Interlagos" in text
    for chrome in ("Initech", "Facebook", "Hooli"):
        assert chrome not in text, chrome


def test_comment_attribution_tweet_signature_and_table_heads_kept() -> None:
    """StackExchange signs a comment with a linked "– user"; an embedded tweet ends with
    "— Name (@handle) date"; a table's column heads belong to the table."""
    comments = "".join(
        f'<li class="comment"><div class="comment-body"><span class="comment-copy">{PROSE} '
        f'Comment {i}.</span><div class="d-inline-flex"> – <a class="comment-user" '
        f'href="/u/{i}">Acme Fan{i}</a></div><span class="comment-date">Jul 3, 2009 at 0:5{i}'
        "</span></div></li>" for i in range(3)
    )
    tweet = ('<blockquote class="twitter-tweet"><p>Acme shoes are back in stock today!</p>'
             "— Shay Initech (@shay) August 22, 2013</blockquote>")
    table = ("<table><tr><th>Ticker</th><th>Hooli Security</th><th>Change</th></tr>"
             + "<tr><td>ACME</td><td>Acme Corp</td><td>+1.2%</td></tr>" * 3 + "</table>")
    body = f"<main><p>{PROSE}</p>{tweet}<p>{PROSE}</p>{table}<p>{PROSE}</p><ul>{comments}</ul></main>"
    text = main_text(page(body)).text
    assert all(f"– Acme Fan{i}" in text for i in range(3))
    assert "Shay Initech (@shay)" in text
    assert "Hooli Security" in text


def test_json_ld_article_body_used_when_dom_is_empty() -> None:
    head = (
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "NewsArticle", "headline": "Acme opens a store", '
        f'"articleBody": "Acme opened its first store today. {PROSE}"}}</script>'
    )
    html = page('<div id="app"><a href="/">Home</a></div>', head)
    result = main_text(html)
    assert "Acme opened its first store today." in result.text
    assert result.title == "Acme opens a store"
    # The page's chrome, long as it may be, is no reason to ignore the article.
    chrome = ('<div class="topbar">' + " ".join(f'<a href="/{n}">Section number {n}</a>' for n in range(30))
              + '</div><div id="app"></div><div class="bottom">Copyright 2026 Shoe Review Media. '
              "All rights reserved. Privacy policy. Terms of use. Cookie settings.</div>")
    assert "Acme opened its first store today." in main_text(page(chrome, head)).text


def test_metadata() -> None:
    head = (
        "<title>Acme review | Globex Times</title>"
        '<meta property="og:title" content="Acme review">'
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2024-03-01T10:30:00+01:00">'
    )
    html = page(article([PROSE]), head).replace("<html>", '<html lang="de-DE">')
    result = main_text(html, url="https://example.org/a")
    assert result == ExtractedPage(
        title="Acme review",
        text=PROSE,
        author="Jane Doe",
        published=datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        lang="de",
    )


def test_metadata_fallbacks() -> None:
    body = f'<h1>Acme  <em>news</em></h1><time datetime="2024-05-02">May 2</time><p>{PROSE}</p>'
    result = main_text(page(body, '<meta property="og:locale" content="fr_FR">'))
    assert result.title == "Acme news"
    assert result.published == datetime(2024, 5, 2, tzinfo=UTC)
    assert result.lang == "fr"
    assert result.author is None


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "\x00\x01\x02\xff\xfe",
        bytes(range(256)).decode("latin-1") * 20,
        "<div>" * 50_000 + "deep" + "</div>" * 50_000,
        "<div><p>x</p>" * 20_000,
        "<table>" * 5000 + "<td>cell",
        "<html><body>" + "<a href=x>" * 3000 + "link soup",
        '<script type="application/ld+json">{"articleBody": ' + "[" * 5000 + "</script>",
        "<<<>>><!--<p>unterminated",
    ],
)
def test_hostile_input_never_raises(html: str) -> None:
    result = main_text(html)
    assert isinstance(result, ExtractedPage)
    assert isinstance(visible_text(html), str)


def test_deep_nesting_keeps_text() -> None:
    html = "<div>" * 50_000 + PROSE + "</div>" * 50_000
    assert PROSE in main_text(html).text


def test_deep_nesting_below_the_scan_threshold_is_fast() -> None:
    """Under MAX_CHEAP_TAGS tags the depth scan is skipped: lexbor parses that many nested
    elements quickly however they nest, and the walk does not recurse."""
    import time

    n = 3_900 // 2
    html = "<div>" * n + PROSE + "</div>" * n
    t0 = time.process_time()
    assert PROSE in main_text(html).text
    assert time.process_time() - t0 < 2.0


def test_a_select_of_thousands_of_options_loses_its_option_tags_and_nothing_read() -> None:
    """lexbor's time grows with the square of a <select>'s options (100,000: 72 s), so past
    MAX_OPTIONS their tags are dropped before parsing; a select is never read for mentions,
    and the prose around it is read as before. Fewer options stay options."""
    from mentions.extract.dom import MAX_OPTIONS, parse

    def page(options: int) -> str:
        menu = "<select name='jump'>" + "<option value='1'>Thread" * options + "</select>"
        return f"<html><body><article><p>{PROSE}</p>{menu}<p>{PROSE}</p></article>" + "<br>" * 5000

    many, few = page(MAX_OPTIONS * 2), page(MAX_OPTIONS // 2)
    assert parse(many).css("option") == []
    assert len(parse(few).css("option")) == MAX_OPTIONS // 2
    for html in (many, few):
        text = main_text(html).text
        assert text.count(PROSE) == 2
        assert "Thread" not in text


# ----------------------------------------------------------------------------- corpus floor
REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MENTIONS_CORPUS") or REPO.parent / "shared" / "corpus")
JUDGE = CORPUS.parent / "tools" / "extract_eval.py"
PER_SET = 15  # x 4 sets = 60 pages: a few seconds
# Measured on this sample: recall 0.957, rejection 0.945 (2026-11-26, branch extract2); a
# few points under, so a heuristic change that breaks a page type fails here.
MIN_RECALL, MIN_REJECTION = 0.92, 0.90


def _load_judge() -> ModuleType | None:
    if not JUDGE.is_file():
        return None
    spec = importlib.util.spec_from_file_location("extract_eval", JUDGE)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("extract_eval", module)
    spec.loader.exec_module(module)
    return module


def test_corpus_sample_extracts_and_scores() -> None:
    if not (CORPUS / "pages").is_dir():
        pytest.skip(f"no corpus at {CORPUS} (set MENTIONS_CORPUS)")
    judge = _load_judge()
    if judge is None:
        pytest.skip(f"no judge at {JUDGE}")
    sample, _ = judge.load_corpus(CORPUS, None, PER_SET)  # the first pages of each set

    def extract(raw: bytes) -> str:
        result = main_text(judge.decode(raw))
        return result.title + "\n" + result.text

    run = judge.evaluate_extractor("mentions", extract, sample)
    assert run["errors"] == 0, run["first_error"]
    assert run["overall"]["recall"] >= MIN_RECALL
    assert run["overall"]["rejection"] >= MIN_REJECTION



def test_a_page_where_nothing_looks_like_an_article_still_gives_its_text() -> None:
    # A landing page of teaser boxes: chrome by every rule, but all the page has to say.
    body = "".join(f'<div class="teaser"><p>Acme opens its third store in Vienna, part {n} of the '
                   f"plan to reach every city by next year.</p></div>" for n in range(3))
    assert "Acme opens its third store" in main_text(page(body)).text
