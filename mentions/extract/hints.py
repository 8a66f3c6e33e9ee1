"""What an element's tag, role, class and id say about it: boilerplate or content.

Class names are split into words (`comment-form`, `postFooter`, `nav_main` -> comment form,
post footer, nav main) so a hint matches a word, not any substring: `nav` must not hit
`canvas`, `ad` must not hit `header` or `download`.
"""

from __future__ import annotations

import re
from itertools import pairwise

# Page chrome by its HTML5 meaning.
NEGATIVE_TAGS = frozenset({"nav", "aside", "footer", "header", "form", "menu", "dialog", "search"})
NEGATIVE_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog",
     "menu", "menubar", "toolbar", "form", "tablist"}
)
POSITIVE_TAGS = frozenset({"article", "main"})

# Whole words of class/id that mark chrome, teasers, widgets and the comment form. (Not
# "signature": a forum signature is a line the poster wrote, and a brand named there is named
# by a person.)
NEGATIVE_WORDS = frozenset(
    {
        "nav", "navbar", "navigation", "navi", "menu", "menubar", "submenu", "megamenu",
        "topbar", "footer", "foot", "sidebar", "sidebars", "aside", "share", "sharing",
        "sharer", "shares", "social", "socials", "related", "promo", "promos", "promotion",
        "cookie", "cookies", "consent", "gdpr", "banner", "newsletter", "subscribe",
        "subscription", "signup", "widget", "widgets", "breadcrumb", "breadcrumbs", "crumbs",
        "pagination", "pager", "paging", "advert", "advertisement", "advertising", "ad", "ads",
        "adsense", "sponsor", "sponsored", "popup", "modal", "overlay", "toolbar", "masthead",
        "header", "skip", "print", "rss", "tags", "tagcloud", "taglist", "recommended",
        "recommendations", "trending", "popular", "teaser", "teasers", "outbrain", "taboola",
        "disqus", "login", "register", "respond", "meta", "byline", "dateline", "timestamp",
        "onetrust", "optanon", "cookiebot", "usercentrics", "didomi", "copyright",
        "legal", "disclaimer", "offscreen", "sronly", "tooltip",
        "dropdown", "notices",
    }
)
# Word pairs that name chrome although each word alone does not.
NEGATIVE_PAIRS = frozenset(
    {("comment", "form"), ("reply", "form"), ("more", "stories"), ("read", "more"),
     ("sr", "only"), ("visually", "hidden"), ("screen", "reader"), ("you", "may"),
     ("author", "bio"), ("about", "author"), ("post", "navigation"), ("further", "reading"),
     ("most", "read"), ("more", "articles"), ("see", "also"), ("user", "info"), ("copy", "right"),
     # a forum's "latest posts" / "most active" boxes beside the thread
     ("latest", "posts"), ("recent", "posts"), ("most", "active"), ("post", "preview"),
     ("posts", "preview")}
)
# Words of an embedded quote (a tweet, a post from another site): the article quotes it, so
# its wrapper's "social" or "widget" does not make it a share bar.
QUOTE_WORDS = frozenset({"tweet", "embed", "embedded"})
# Class names (whole, as CSS writes them) that hide an element until a script shows it;
# with a responsive variant (`d-none d-lg-block`, `hidden md:block`) it is visible on a
# desktop.
HIDDEN_CLASSES = frozenset({"hidden", "hide", "d-none", "invisible"})
_SHOWN_AGAIN = re.compile(r":|^d-\w+-(?:block|flex|inline|grid|table)")
# Chrome that can be long (a cookie preference centre explains every purpose at length),
# so even a large share of the page's prose does not save it.
ALWAYS_NEGATIVE_WORDS = frozenset(
    {
        "cookie", "cookies", "consent", "gdpr", "onetrust", "optanon", "cookiebot",
        "usercentrics", "didomi",
    }
)
POSITIVE_WORDS = frozenset(
    {
        "content", "article", "articlebody", "post", "posts", "entry", "comment", "comments",
        "reply", "replies", "message", "messages", "thread", "review", "reviews", "story",
        "body", "text", "main", "answer", "answers", "topic",
    }
)

# Forum engines whose markup names each post's author (authors.py): Reddit's post elements
# -> the attribute that holds the name; the class word of XenForo's posts (which carry
# `data-author`) and of bbPress's templates (bbp-topic-wrapper, bbp-author-name...).
AUTHOR_ATTRS: dict[str, str] = {"shreddit-post": "author", "shreddit-comment": "author"}
POST_AUTHOR_ATTR = "data-author"
XENFORO_WORD = "message"
BBPRESS_WORD = "bbp"

_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_DIGITS = re.compile(r"\d+")


def words(attrs: dict[str, str | None]) -> list[str]:
    """The words of an element's class and id, lower-cased."""
    raw = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    if not raw.strip():
        return []
    return [w for w in _SPLIT.split(_CAMEL.sub(" ", raw).lower()) if w]


def is_negative(tag: str, attrs: dict[str, str | None], ws: list[str]) -> bool:
    """Does the element itself say it is chrome (nav, footer, share bar, comment form...)?"""
    if tag in NEGATIVE_TAGS:
        return True
    role = (attrs.get("role") or "").strip().lower()
    if role in NEGATIVE_ROLES:
        return True
    if not ws or not QUOTE_WORDS.isdisjoint(ws):
        return False
    if not NEGATIVE_WORDS.isdisjoint(ws):
        return True
    return not NEGATIVE_PAIRS.isdisjoint(pairwise(ws))


def is_always_negative(tag: str, attrs: dict[str, str | None], ws: list[str]) -> bool:
    """Cookie banners and consent managers: chrome however much text they hold; and blocks
    a class hides (`hidden`, `d-none`: a badge explanation, a collapsed menu). Inline ones
    are left alone: a hidden span is often the rest of a post behind "read more"."""
    if not ALWAYS_NEGATIVE_WORDS.isdisjoint(ws):
        return True
    if tag in ("span", "a") or not ws:
        return False
    classes = (attrs.get("class") or "").split()
    return not HIDDEN_CLASSES.isdisjoint(classes) and not any(
        _SHOWN_AGAIN.search(c) for c in classes)


def is_positive(tag: str, attrs: dict[str, str | None], ws: list[str]) -> bool:
    """Does the element say it holds the article, a post or a comment?"""
    if tag in POSITIVE_TAGS:
        return True
    role = (attrs.get("role") or "").strip().lower()
    if role in ("main", "article"):
        return True
    if (attrs.get("itemprop") or "").lower() in ("articlebody", "text", "reviewbody"):
        return True
    return not POSITIVE_WORDS.isdisjoint(ws)


def marks_authors(tag: str, ws: list[str]) -> bool:
    """Does the element belong to an engine whose markup names each post's author? (Checked
    once per distinct tag and class, with the other hints: pages of no such engine pay
    nothing more.)"""
    return tag in AUTHOR_ATTRS or XENFORO_WORD in ws or BBPRESS_WORD in ws


Flags = tuple[bool, bool, bool, bool]
_FLAGS: dict[tuple[str, str, str, str, str], Flags] = {}
MAX_CACHED = 50_000  # distinct (tag, class, id, role, itemprop) kept across pages


def flags(tag: str, attrs: dict[str, str | None]) -> Flags:
    """(negative, positive, always negative, marks authors) for an element, cached: a page
    repeats the same few class names hundreds of times, and so do the pages of a site. On a
    miss, digit runs become "0" ("post-12345", "comment-678"): no hint word has a digit, so
    the answer is the same, and a thread's posts share one computed entry."""
    if not attrs:
        key = (tag, "", "", "", "")
    else:
        key = (tag, attrs.get("class") or "", attrs.get("id") or "", attrs.get("role") or "",
               attrs.get("itemprop") or "")
    hit = _FLAGS.get(key)
    if hit is None:
        if len(_FLAGS) >= MAX_CACHED:
            _FLAGS.clear()
        plain = (tag, _DIGITS.sub("0", key[1]), _DIGITS.sub("0", key[2]), key[3], key[4])
        hit = _FLAGS.get(plain)
        if hit is None:
            ws = words({"class": plain[1], "id": plain[2]}) if attrs else []
            hit = _FLAGS[plain] = (is_negative(tag, attrs, ws), is_positive(tag, attrs, ws),
                                   is_always_negative(tag, attrs, ws), marks_authors(tag, ws))
        _FLAGS[key] = hit
    return hit
