"""Who wrote each post of a thread, where the forum engine's own markup says so.

A reader of a thread sees who wrote each post, and a community manager wants to see that a
brand's support account answered. To the scorer a post's author is a short linked line, no
different from a menu entry or a rank, so it is dropped. Where a major engine marks the
author in its markup, that name is kept, and only inside a post of the thread (not in a
sidebar's "latest replies" box, not in a post's "liked by" bar):

* Reddit's web components name the author on the post element itself,
  `<shreddit-post author="...">`, `<shreddit-comment author="...">`; so does XenForo,
  `<article class="message ..." data-author="...">` (`<li class="message">` in XenForo 1).
  The line in that post (not in a reply nested in it) whose text is the name is kept.
* bbPress's author link (`bbp_get_reply_author_link()`) wraps the name in
  `class="bbp-author-name"`: a line with that text inside one of the thread's repeated
  posts whose class says post or reply (a "most active" list uses the same link).

Other engines' author markup was measured too (benchmarks/EXTRACT.md, extract5) and is not
here: Talkyard's `dw-p-by` cost leaks and won nothing; a name class on a link (`username`,
`itemprop="author"`) says "a user", not "this post's author" (likers, quoted posters), and
won nothing either.
"""

from __future__ import annotations

from .dom import Page, select
from .hints import AUTHOR_ATTRS, BBPRESS_WORD, POST_AUTHOR_ATTR, words
from .repeat import MAX_POST_DEPTH, POST_WORDS

BBPRESS_NAME = ".bbp-author-name"
_REDDIT_USER = "u/"


def author_lines(page: Page, marked: list[int], candidates: list[int],
                 in_post: list[bool]) -> set[int]:
    """Candidate lines that are the author of the post they sit in, by the engine's markup.

    `marked`: elements for which `hints.marks_authors` held (none on most pages)."""
    if not marked:
        return set()
    tags, attrs = page.tags, page.attrs
    posts: dict[int, str] = {}
    is_bbpress = False
    for i in marked:
        name = attrs[i].get(AUTHOR_ATTRS.get(tags[i], POST_AUTHOR_ATTR))
        if name:
            posts[i] = " ".join(name.split())
        elif BBPRESS_WORD in words(attrs[i]):
            is_bbpress = True
    found = _own_post_author(page, posts, candidates) if posts else set()
    if is_bbpress and page.root is not None:
        names = {" ".join(node.text(deep=True).split()) for node in select(page.root, BBPRESS_NAME)}
        names.discard("")
        blocks, texts = page.line_block, page.line_text
        found.update(j for j in candidates if texts[j] in names and _in_post(page, blocks[j], in_post))
    return found


def _in_post(page: Page, block: int, in_post: list[bool]) -> bool:
    """Is the block inside one of the thread's repeated posts, by a class that says so?"""
    parents, attrs = page.parents, page.attrs
    a = block
    for _ in range(MAX_POST_DEPTH):
        if a < 0 or not in_post[a]:
            return False
        if not POST_WORDS.isdisjoint(words(attrs[a])):
            return True
        a = parents[a]
    return False


def _own_post_author(page: Page, posts: dict[int, str], candidates: list[int]) -> set[int]:
    """Lines whose text is the author named on their nearest enclosing post element."""
    parents = page.parents
    first = min(posts)
    owner = [-1] * len(parents)  # nearest enclosing post element (parents come first)
    for i in range(first, len(parents)):
        if i in posts:
            owner[i] = i
        else:
            p = parents[i]
            owner[i] = owner[p] if p >= first else -1
    found: set[int] = set()
    blocks, texts = page.line_block, page.line_text
    for j in candidates:
        o = owner[blocks[j]]
        if o >= 0:
            text = texts[j]
            name = posts[o]
            if text == name or (text.startswith(_REDDIT_USER) and text[len(_REDDIT_USER):] == name):
                found.add(j)
    return found
