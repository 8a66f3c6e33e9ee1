"""Which lines of a flattened page are the article, post or thread a reader came for.

1. Every line is prose (long, few links), link-heavy (menus, teaser lists) or short.
2. Elements that say they are chrome (nav, footer, share bar, comment form...) drop out
   with their subtree, unless they hold a large share of the page's prose (a page-wide
   wrapper called `sidebar-layout` is not a sidebar).
3. The container is the element with the best prose minus a penalty for the link-heavy and
   short text it drags along; taking the best *subtree* rather than the best paragraph
   parent is what keeps comments, replies and every post of a forum thread.
4. Inside it, prose is kept, link lists are dropped, and a short line (heading, user name,
   one-word reply) is kept when the prose around it says it belongs to the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .authors import author_lines
from .dom import Page
from .hints import NEGATIVE_TAGS, POSITIVE_TAGS, flags
from .repeat import in_repeated, sibling_groups, teaser_cards, thread_posts

GOOD, LINKS, SHORT = 0, 1, 2
MIN_PROSE = 50.0  # weighted chars of a line that is prose on its own
MIN_SENTENCE = 25.0  # a shorter line is prose when it ends like a sentence
MAX_LINK_DENSITY = 0.4
MIN_PLAIN = 40.0  # plain (non-link) chars that make a link-rich line prose
MAX_PROSE_LINKS = 0.7  # ... unless links are more than this share of it
VETO_SHARE = 0.6  # a "negative" element with this share of the prose is not chrome
ALWAYS_VETO_SHARE = 0.7  # ... when it is a cookie banner (unless it wraps the page)
MIXED_VETO_SHARE = 0.2  # ... when its class also says post, comment, content...
LINK_PENALTY = 1.0  # weight of anchor text against a container (menus, teaser lists)
SHORT_PENALTY = 0.25  # ... and of short plain lines (labels, dates; but also table cells)
MAX_NOTICE = 400.0
HINT_TAGS = NEGATIVE_TAGS | POSITIVE_TAGS  # tags that say something without attributes
_NOTICE = re.compile(r"©|\(c\) \d{4}|\ball rights reserved\b|\bcopyright \d{4}", re.I)
_SENTENCE_END = tuple(".!?:;)\"'»”。！？…")
_SIGN_OFF_END = tuple(".!?。！？")
_ELLIPSIS = ("...", "…")
_DIGIT = re.compile(r"\d")
_DASHES = ("—", "–", "-")
_ATTRIBUTION = ("– ", "— ")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-zäéû]*\.?"
# A date or time stamp: "5/27/2024 5:19 PM", "Nov 18, 2019", "3 days ago", "2015年7月9日".
_STAMP = re.compile(
    rf"\b\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b|\b\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*[ap]\.?m\.?)?"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\b\d{{1,2}}\.?\s+{_MONTH}\s+\d{{4}}"
    r"|\b\d+\s+(?:second|minute|hour|day|week|month|year)s?\s+ago\b|\d{4}年\d{1,2}月\d{1,2}日",
    re.I,
)
MAX_STAMP_REST = 30.0  # a line that is a stamp plus fewer chars than this is metadata
MAX_STAMP_LINE = 90.0
MIN_LABEL_REPEATS = 2  # a short line seen this often among the container's lines is a label
MAX_LABEL_WORDS = 4
TABLE_CELLS = frozenset({"td", "th"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
MIN_REPLY_WORDS = 4  # a short line in a post with this many words is a reply, not a label
WIDEN_LEVELS = 3  # how far above the best subtree a content-hinted wrapper may be
WIDEN_GAIN = 1.25  # ... and how much more prose it must hold to be taken instead
MAX_ATTRIBUTION = 40  # chars of "– Greg Hewgill" after a comment or a quote


def classify(text: str, weight: float, link: float) -> int:
    """GOOD (prose), LINKS (mostly anchor text or a legal notice) or SHORT (a label, heading,
    name)."""
    if weight < MAX_NOTICE and ("©" in text or "(c)" in text or "(C)" in text or "ights" in text
                                or "IGHTS" in text or "opyright" in text or "OPYRIGHT" in text) \
            and _NOTICE.search(text):
        return LINKS  # "© 2024 Acme Corp. All rights reserved": the footer, wherever it sits
    density = link / weight if weight else 1.0
    # A long sentence with many inline links (Wikipedia, news digests) is still prose;
    # a menu or teaser list is links with little plain text between them.
    if density > MAX_LINK_DENSITY and (weight - link < MIN_PLAIN or density > MAX_PROSE_LINKS):
        return LINKS
    if weight >= MIN_PROSE or (weight >= MIN_SENTENCE and text.endswith(_SENTENCE_END)):
        return GOOD
    return SHORT


@dataclass(slots=True)
class Analysis:
    """The decisions behind a selection (kept for debugging and tests)."""

    kinds: list[int]
    removed: list[bool]
    container: int
    candidates: list[int]
    keep: list[int]


def select_lines(page: Page) -> list[int]:
    """Indexes of the lines that make up the main text, in document order."""
    return analyse(page).keep


def analyse(page: Page) -> Analysis:
    """Classify lines, drop chrome, pick the container, keep its lines in context."""
    n_el, n_ln = len(page.tags), len(page.line_text)
    if not n_el or not n_ln:
        return Analysis([], [], 0, [], [])
    kinds = [classify(t, w, k) for t, w, k in
             zip(page.line_text, page.line_len, page.line_link, strict=True)]
    good_self = [0.0] * n_el
    bad_self = [0.0] * n_el
    for b, kind, w, k in zip(page.line_block, kinds, page.line_len, page.line_link, strict=True):
        if kind == GOOD:
            good_self[b] += w - k
            bad_self[b] += LINK_PENALTY * k
        elif kind == LINKS:
            bad_self[b] += LINK_PENALTY * w
        else:
            bad_self[b] += SHORT_PENALTY * w
    good = _sum_up(page.parents, good_self)
    total_good = good[0] if good else 0.0

    parents, tags = page.parents, page.tags
    removed = [False] * n_el
    groups = sibling_groups(page)
    teaser = [False] * n_el
    for m in teaser_cards(page, kinds, groups):
        teaser[m] = True  # a grid of "more stories" teasers, however much prose it holds
    all_attrs = page.attrs
    marked: list[int] = []  # elements of an engine that names each post's author
    for i in range(n_el):
        p = parents[i]
        if p >= 0 and teaser[p]:
            teaser[i] = True
        if teaser[i] or (p >= 0 and removed[p]):
            removed[i] = True
            continue
        attrs = all_attrs[i]
        if not attrs and tags[i] not in HINT_TAGS:
            continue  # a bare <p>, <li>, <td>: nothing to say
        neg, pos, always, marks = flags(tags[i], attrs)
        if marks:
            marked.append(i)
        # A post whose class also says "on-preview" or "post-footer" is only chrome when
        # it holds little of the page's prose.
        veto = ALWAYS_VETO_SHARE if always else MIXED_VETO_SHARE if pos else VETO_SHARE
        if (always or neg) and i > 0 and good[i] <= veto * total_good:
            removed[i] = True

    for b in range(n_el):
        if teaser[b]:  # a container that takes in teasers takes in their penalty
            bad_self[b] += good_self[b]
            good_self[b] = 0.0
        elif removed[b]:
            good_self[b] = bad_self[b] = 0.0
    good, bad = good_self, bad_self  # summed up in place: children come after their parent
    for i in range(n_el - 1, 0, -1):
        p = parents[i]
        if p >= 0:
            good[p] += good[i]
            bad[p] += bad[i]
    best, best_score = 0, float("-inf")  # no prose at all: the whole body
    for i in range(n_el):
        if removed[i] or good[i] <= 0:
            continue
        score = good[i] - bad[i]
        if score > best_score:
            best, best_score = i, score

    best = _widen(page, best, good, removed)
    inside = [False] * n_el
    roots = thread_posts(page, best, groups)
    for r in roots:
        inside[r] = not removed[r]
    for i in range(roots[0], n_el):
        if not inside[i] and parents[i] >= 0 and inside[parents[i]]:
            inside[i] = not removed[i]
    candidates = [j for j in range(n_ln) if inside[page.line_block[j]]]
    in_post = in_repeated(page, groups)
    replies = {j for j in candidates if in_post[page.line_block[j]]}
    # (a row head may be a link: a film's title in a list of films)
    heads = {j for j in candidates if tags[page.line_block[j]] == "th"}
    # A short line that is a bare paragraph of its own in a post is what the poster wrote
    # ("Turquoise Blue" under a photo); ranks, names and buttons sit in classed divs and links.
    blocks = page.line_block
    own = {j for j in replies if tags[blocks[j]] == "p" and not page.attrs[blocks[j]]}
    keep = _with_context(candidates, kinds, page.line_text, replies, own,
                         _labels(page, kinds, candidates, in_post), heads,
                         author_lines(page, marked, candidates, in_post))
    return Analysis(kinds, removed, best, candidates, keep)


def _widen(page: Page, best: int, good: list[float], removed: list[bool]) -> int:
    """The best subtree, or the wrapper a few levels up that says it holds the content
    (`entry-content`, `<article>`, `<main>`) when that holds clearly more prose: the best
    subtree alone is sometimes one paragraph of an article whose other lines are short (a
    race calendar) or sit beside a share bar."""
    parents, tags, attrs = page.parents, page.tags, page.attrs
    a = parents[best]
    for _ in range(WIDEN_LEVELS):
        if a <= 0 or removed[a]:
            break
        if attrs[a] or tags[a] in HINT_TAGS:
            neg, pos, _always, _marks = flags(tags[a], attrs[a])
            if pos and not neg and good[a] >= WIDEN_GAIN * good[best]:
                return a
        a = parents[a]
    return best


def is_stamp(text: str) -> bool:
    """Is the line a date/time stamp with at most a few words around it (a post's or an
    article's metadata, not its text)?"""
    if len(text) > MAX_STAMP_LINE or _DIGIT.search(text) is None:
        return False
    rest, n = _STAMP.subn("", text)
    return n > 0 and len(rest.strip()) < MAX_STAMP_REST


def _sum_up(parents: list[int], own: list[float]) -> list[float]:
    """Subtree sums: children come after their parent in document order."""
    total = list(own)
    for i in range(len(parents) - 1, 0, -1):
        p = parents[i]
        if p >= 0:
            total[p] += total[i]
    return total


def _labels(page: Page, kinds: list[int], candidates: list[int], in_post: list[bool]) -> set[int]:
    """Short lines outside tables whose text recurs ("Administrator", "Active Member",
    "Photo: AP", "Advert"): a rank, a badge or a slot, not something a poster wrote twice.
    Not labels: a table's cells (a table repeats its values, and they are its content); an
    article's headings (a round-up repeats "Pre-Workout Supplement" once per brand: a section
    name; inside a thread's posts a heading is a rank all the same); a sign-off that ends like
    a sentence ("Cheers!", "Thanks."), which people write under every post."""
    texts, blocks, tags = page.line_text, page.line_block, page.tags
    seen: dict[str, int] = {}
    short = [j for j in candidates if kinds[j] == SHORT and tags[blocks[j]] not in TABLE_CELLS
             and (in_post[blocks[j]] or tags[blocks[j]] not in HEADINGS)
             and not _is_sign_off(texts[j])]
    for j in short:
        seen[texts[j]] = seen.get(texts[j], 0) + 1
    return {j for j in short if seen[texts[j]] >= MIN_LABEL_REPEATS
            and texts[j].count(" ") < MAX_LABEL_WORDS}


def _is_sign_off(text: str) -> bool:
    """Does a short line end like a sentence ("Cheers!", "Thanks.")? Not a button's "..."."""
    return text.endswith(_SIGN_OFF_END) and not text.endswith(_ELLIPSIS)


def _with_context(
    candidates: list[int], kinds: list[int], texts: list[str], replies: set[int],
    paragraphs: set[int], labels: set[int], heads: set[int], authors: set[int],
) -> list[int]:
    """Prose stays, link lists go; a short line stays when the next prose-or-links line is
    prose, or when prose comes before it and nothing but short lines after it. A post's
    author, as its engine marks it, stays (a name that recurs in a thread is no label)."""
    keep: list[int] = []
    decided = [j for j in candidates if kinds[j] != SHORT]
    nxt: dict[int, int] = {}
    prv: dict[int, int] = {}
    pos = 0
    last = -1
    for j in candidates:
        while pos < len(decided) and decided[pos] <= j:
            last = kinds[decided[pos]]
            pos += 1
        nxt[j] = kinds[decided[pos]] if pos < len(decided) else -1
        prv[j] = last
    if not decided or all(kinds[j] == LINKS for j in decided):
        # No prose at all (a one-line post, a page of captions): keep every plain line.
        return [j for j in candidates if kinds[j] == SHORT]
    for j in candidates:
        if j in authors:
            keep.append(j)
            continue
        kind = kinds[j]
        if j in labels:
            continue
        text = texts[j]
        if kind != LINKS and "(@" in text and text[:1] in _DASHES:
            keep.append(j)  # "— Shay Friedman (@ironshay) August 22, 2013": a tweet's signature
            continue
        if kind == LINKS and keep and keep[-1] == j - 1 and text[:2] in _ATTRIBUTION \
                and len(text) <= MAX_ATTRIBUTION:
            keep.append(j)  # "– Greg Hewgill" right after the comment it signs
            continue
        if j in heads and not is_stamp(text):
            keep.append(j)  # a table's column head: the table is kept, so are its heads
            continue
        if kind != LINKS and is_stamp(texts[j]):
            continue  # "Posted by sam - 5/27/2024 5:19 PM", "Joined: 2015年7月9日": post metadata
        if kind == SHORT and texts[j].endswith(_SENTENCE_END):
            # "Thank you." next to prose, or inside a post, is a reply
            is_near_prose = nxt[j] == GOOD or prv[j] == GOOD or j in replies
        elif kind == SHORT and j in replies and (texts[j].count(" ") + 1 >= MIN_REPLY_WORDS
                                                 or j in paragraphs):
            is_near_prose = True  # "Sweet idea, feels a lot like Hacker News" in a post
        else:
            is_near_prose = nxt[j] == GOOD or (prv[j] == GOOD and nxt[j] == -1)
        if kind == GOOD or (kind == SHORT and is_near_prose):
            keep.append(j)
    return keep
