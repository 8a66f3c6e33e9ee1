"""Repeated siblings: the posts of a thread, and the teaser cards of a "more stories" grid.

Forums, comment lists and review pages lay out posts as >= MIN_POSTS siblings alike in tag
and class; so do news sites with their grids of teasers. The difference a reader sees: a
teaser is a linked headline followed by a summary of a sentence or two; a post is text
(with at most a short linked user name before it).
"""

from __future__ import annotations

import re

from .dom import Page
from .hints import words

GOOD, LINKS, SHORT = 0, 1, 2  # line kinds, as in score.py
MIN_POSTS = 3  # siblings alike in tag and class that make a list of posts
POST_TAGS = frozenset({"div", "li", "article", "section", "tr", "table", "dl", "blockquote"})
MIN_HEADLINE = 25.0  # weighted chars of a linked headline (a user name is shorter)
HEADLINE_LINKS = 0.8  # share of a headline line that is anchor text
MAX_CARD_PROSE = 350.0  # a teaser's summary; a longer text is a post
CARD_SHARE = 0.6  # share of a group's members that must look like cards
# Class words that say "post": such a group is a thread even when its posts are short and
# carry a linked subject line (phpBB's "Re: ..." headings).
POST_WORDS = frozenset({"post", "posts", "comment", "comments", "reply", "replies", "message",
                        "messages", "answer", "answers", "review", "reviews", "thread", "topic"})
_DIGITS = re.compile(r"\d+")
MAX_POST_DEPTH = 6  # levels from the best subtree up to the post element that holds it

Groups = dict[tuple[int, str, str], list[int]]
# class -> class without digits, kept across pages (a site repeats its class names)
_PLAIN: dict[str, str] = {}
MAX_CACHED = 50_000


def sibling_groups(page: Page) -> Groups:
    """(parent, tag, class without digits) -> member elements, for POST_TAGS elements."""
    parents, tags, attrs = page.parents, page.tags, page.attrs
    plain = _PLAIN
    if len(plain) >= MAX_CACHED:
        plain.clear()
    groups: Groups = {}
    for i, tag in enumerate(tags):
        if tag in POST_TAGS:
            cls = attrs[i].get("class") or ""
            sig = plain.get(cls)
            if sig is None:
                sig = plain[cls] = _DIGITS.sub("", cls)
            key = (parents[i], tag, sig)
            members = groups.get(key)
            if members is None:
                groups[key] = [i]
            else:
                members.append(i)
    return groups


def in_repeated(page: Page, groups: Groups) -> list[bool]:
    """Per element: is it inside one of >= MIN_POSTS siblings with the same tag and first class?

    A one-line reply ("Thanks, that fixed it!") sits between user names and buttons, with
    no prose around it to vouch for it, but the post it is in does. Posts share their first
    class (`topic-post`, `comment`); the classes after it often say a post's state
    (`topic-owner`, `odd`/`even`, `current-user-post`) and differ from post to post."""
    inside = [False] * len(page.tags)
    posts: dict[tuple[int, str, str], list[int]] = {}
    for (parent, tag, sig), members in groups.items():
        first = sig.split(None, 1)
        posts.setdefault((parent, tag, first[0] if first else ""), []).extend(members)
    for members in posts.values():
        if len(members) >= MIN_POSTS:
            for m in members:
                inside[m] = True
    parents = page.parents
    for i, p in enumerate(parents):
        if p >= 0 and inside[p]:
            inside[i] = True
    return inside


def teaser_cards(page: Page, kinds: list[int], groups: Groups) -> list[int]:
    """Members of the groups that are grids of teaser cards (to drop with their subtree)."""
    members = {m: key for key, ms in groups.items() if len(ms) >= MIN_POSTS for m in ms}
    if not members:
        return []
    parents = page.parents
    member_of = [-1] * len(parents)
    for i, p in enumerate(parents):
        member_of[i] = i if i in members else member_of[p] if p >= 0 else -1
    # per member: index of the first headline line, of the first prose line, prose weight
    first_head: dict[int, int] = {}
    first_good: dict[int, int] = {}
    prose: dict[int, float] = {}
    for j, b in enumerate(page.line_block):
        m = member_of[b]
        if m < 0:
            continue
        kind, w, k = kinds[j], page.line_len[j], page.line_link[j]
        if kind == LINKS and w >= MIN_HEADLINE and k >= HEADLINE_LINKS * w:
            first_head.setdefault(m, j)
        elif kind == GOOD:
            first_good.setdefault(m, j)
            prose[m] = prose.get(m, 0.0) + w - k
    out: list[int] = []
    for (parent, tag, _sig), ms in groups.items():
        if tag == "li" and page.tags[parent] == "ol":
            continue  # a numbered list of linked titles: references, steps; teasers are not numbered
        if len(ms) < MIN_POSTS or any(w in POST_WORDS for w in words(page.attrs[ms[0]])):
            continue
        cards = sum(1 for m in ms if m in first_head and prose.get(m, 0.0) <= MAX_CARD_PROSE
                    and first_head[m] < first_good.get(m, len(kinds)))
        if cards >= MIN_POSTS and cards >= CARD_SHARE * len(ms):
            out.extend(ms)
    return out


def thread_posts(page: Page, best: int, groups: Groups) -> list[int]:
    """The posts of the thread, when the best subtree is (inside) one of >= 2 siblings alike
    whose class says post, comment, reply...: all of them; else just `best`.

    A phpBB thread of two posts: the question with its code block outweighs the short answer
    plus the answer's own chrome (profile, "Re: subject", buttons), so the best subtree is
    the question alone; the answer is the sibling post beside it."""
    parents = page.parents
    a = best
    for _ in range(MAX_POST_DEPTH):
        if a <= 0:
            break
        members = groups.get((parents[a], page.tags[a], _PLAIN.get(page.attrs[a].get("class") or "", "")))
        if members is not None and len(members) >= 2 and a in members \
                and any(w in POST_WORDS for w in words(page.attrs[members[0]])):
            return members
        a = parents[a]
    return [best]
