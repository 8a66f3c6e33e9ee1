"""Flatten a parsed page into an element table and text lines, in one iterative pass.

Why a flat table: pages nest arbitrarily deep (a hostile page can nest 100,000 divs), so
every later step works on arrays indexed in document order (a parent always has a smaller
index than its children) instead of recursing over the DOM. lexbor's `traverse()` walks in
C, which keeps the Python cost to a few attribute reads per node.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from itertools import accumulate

from selectolax.lexbor import LexborCSSSelector, LexborHTMLParser, LexborNode

from mentions.spaces import collapse_spaces

from .hints import NEGATIVE_ROLES, NEGATIVE_TAGS

# Elements whose text a reader never sees (or that hold no prose: form controls, media).
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "meta", "link", "svg",
        "math", "iframe", "object", "embed", "canvas", "video", "audio", "picture", "source",
        "track", "map", "select", "option", "optgroup", "datalist", "button", "input",
        "textarea", "noembed", "noframes",
    }
)
# Elements that start and end a line of text; inline elements (b, a, span...) do not, so
# `Py<b>thon</b>` stays one word.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
        "form", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
        "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption", "search",
    }
)
BREAK_TAGS = frozenset({"br", "hr", "img"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
MAX_HTML = 20_000_000  # chars; beyond this a "page" is not something people read
MAX_DEPTH = 1500  # real pages nest < 100 deep; beyond this, tags are dropped before parsing
# A page with fewer tags than this parses fast however deep they nest (4,000 nested divs:
# ~0.05 s), so the depth scan (7% of an extraction) is skipped: 98% of real pages.
MAX_CHEAP_TAGS = 4000
# lexbor runs the select's "selectedness" step over all its options at each new one, so a
# <select> takes time with the square of its options: 20,000 took 2.4 s, 100,000 took 72 s
# (a forum's "jump to thread" list, or a page built to stall us). Past this many, the option
# tags are dropped before parsing, their text kept: a <select> is never read for mentions.
MAX_OPTIONS = 2000
_OPTION_TAG = re.compile(rb"</?option\b[^>]*>", re.I)
# Tags that close themselves or are closed implicitly do not add depth.
_NO_DEPTH = frozenset(
    {
        "p", "li", "td", "th", "tr", "dt", "dd", "option", "br", "img", "input", "meta", "link",
        "hr", "wbr", "source", "area", "col", "embed", "param", "track", "base",
    }
)
_NO_DEPTH_RE = "|".join(sorted(_NO_DEPTH))
_TAG_STEP = re.compile(rf"<(/?)(?!(?:{_NO_DEPTH_RE})[\s/>])[a-zA-Z]".encode(), re.I)
_ANY_TAG_STEP = re.compile(rb"<(/?)[a-zA-Z]")
_STEP = {b"": 1, b"/": -1}
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_NO_DEPTH_BYTES = frozenset(t.encode() for t in _NO_DEPTH)
# Chrome by tag or role alone (class words are for the scorer), and how much of the text
# such an element may hold to be dropped before the walk.
PRUNE_SHARE = 0.25
# Skipped elements with many nodes or much text below them are unlinked in C; the rest
# (input, meta, br-like leaves) the walk leaves out itself: each selector alternative
# costs a little on every element.
# (Rare or small ones, video, picture, template, textarea..., are cheaper to skip in the
# walk: every alternative of the selector costs on every element, 0.65 M instructions a
# page for eight of them.)
UNLINK_TAGS = frozenset({"script", "style", "noscript", "svg", "iframe", "select"})
# Chrome tags that are pruned before the walk: the common ones. Rare ones (menu, dialog,
# search) cost an alternative of the selector on every element of every page; the scorer
# drops them as chrome all the same.
PRUNE_TAGS = NEGATIVE_TAGS - {"menu", "dialog", "search"}
_UNREAD_SELECTOR = ",".join(sorted(UNLINK_TAGS | PRUNE_TAGS)) + (
    ",[hidden],[aria-hidden],[style*=none i],[style*=hidden i],[role]")
# Anchor text that is itself an address: a link pasted into a post or an article, not a menu
# entry (menus name their pages).
_URL_TEXT = ("http://", "https://", "www.")
_TEXT_ID = 2  # lexbor's LXB_TAG__TEXT
# lexbor's tag id -> (tag name, what the walk does with it), for its built-in tags (a page's
# own custom tags get ids above this, different in every document): one dict lookup per
# element instead of a name lookup and three set tests
_TAG_NAMES: dict[int, tuple[str, int]] = {}
MAX_BUILTIN_TAG_ID = 0x10000
_INLINE, _BLOCK, _BREAK, _SKIP = range(4)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(slots=True)
class Page:
    """The flattened page: per element (index = document order) and per text line."""

    tags: list[str] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    attrs: list[dict[str, str | None]] = field(default_factory=list)
    # per line: the block element it belongs to, its text, weighted length, link chars
    line_block: list[int] = field(default_factory=list)
    line_text: list[str] = field(default_factory=list)
    line_len: list[float] = field(default_factory=list)
    line_link: list[float] = field(default_factory=list)
    root: LexborNode | None = None  # the (pruned) subtree, for the rare rule that queries it


def parse(html: str | bytes) -> LexborHTMLParser:
    """Parse like a browser with scripting on: <noscript> stays one text node we can skip.
    `html` is text, or UTF-8 bytes (`decode.html_for_parser`, `plain.visible_text`).

    The checks run on the UTF-8 bytes lexbor is fed anyway (selectolax would encode the
    text itself, the same way): a byte scan is faster than one over wide (UCS-2/4) text."""
    data = html.encode("utf-8", "ignore") if isinstance(html, str) else html
    # NUL is not valid in HTML text; lexbor copes, but stray ones only add noise.
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
    if data.count(b"<") > MAX_CHEAP_TAGS:
        if max_depth(data) > MAX_DEPTH:
            data = limit_depth(data)
        if data.lower().count(b"<option") > MAX_OPTIONS:
            data = _OPTION_TAG.sub(b" ", data)
    return LexborHTMLParser(data, scripting=True)


_ENGINE = threading.local()


def select(node: LexborNode, query: str) -> list[LexborNode]:
    """`node.css(query)` with one selector engine per thread instead of one per parsed page:
    selectolax builds (and frees) a CSS parser and matcher for each page, ~0.1 ms of a
    3.6 ms extraction. The engine keeps no page state between calls."""
    engine = getattr(_ENGINE, "css", None)
    if engine is None:
        engine = _ENGINE.css = LexborCSSSelector()  # type: ignore[no-untyped-call]
    return engine.find(query, node)


def max_depth(html: bytes) -> int:
    """An upper bound of the element nesting depth, at C speed (findall + accumulate).

    Why: lexbor's tree builder checks the stack of open elements on every start tag, so
    its time grows with the square of the depth (50,000 nested divs take ~15 s)."""
    # Every element needs a "<": half the pages stop here. Then every tag (a simpler regex,
    # twice as fast), which also counts <p>, <br>, <img>: on real pages that bound is
    # already below MAX_DEPTH.
    n = html.count(b"<")
    if n <= MAX_DEPTH:
        return n
    for pattern in (_ANY_TAG_STEP, _TAG_STEP):
        steps = pattern.findall(html)
        if len(steps) <= MAX_DEPTH:
            return len(steps)
        depth = max(accumulate(map(_STEP.__getitem__, steps)), default=0)
        if depth <= MAX_DEPTH:
            return depth
    return depth


def limit_depth(html: bytes) -> bytes:
    """Drop the start and end tags nested deeper than MAX_DEPTH, keeping their text."""
    out: list[bytes] = []
    depth = 0
    last = 0
    for m in _TAG.finditer(html):
        closing, name = m.group(1), m.group(2).lower()
        if name in _NO_DEPTH_BYTES:
            continue
        if closing:
            depth -= 1
            is_deep = depth >= MAX_DEPTH
        else:
            is_deep = depth >= MAX_DEPTH
            depth += 1
        if is_deep:
            out.append(html[last:m.start()])
            last = m.end()
    out.append(html[last:])
    return b"".join(out)


def _tag_kind(tag: str) -> tuple[str, int]:
    """A tag name and what the walk does with it."""
    if tag[:1] == "-" or tag in SKIP_TAGS:  # comments, doctype; unread elements
        return tag, _SKIP
    return tag, _BLOCK if tag in BLOCK_TAGS else _BREAK if tag in BREAK_TAGS else _INLINE


def is_hidden(attrs: dict[str, str | None]) -> bool:
    """Hidden by the page itself: `hidden`, `aria-hidden=true`, inline display:none."""
    if "hidden" in attrs:
        return True
    if (attrs.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = attrs.get("style")
    return bool(style) and _HIDDEN_STYLE.search(style or "") is not None


def text_weight(text: str) -> float:
    """Length that counts CJK characters as ~3 Latin ones (one CJK char is about a word)."""
    if text.isascii():
        return len(text)
    # (not a `max(text)` pre-check: on text with a curly quote or a dash, stored as UCS-2,
    # max() builds a string object for every character and costs more than the regex)
    return len(text) + 2 * len(_CJK.findall(text))


def unlink_unread(root: LexborNode, keep_hidden: bool = False, prune: bool = False) -> None:
    """Unlink, in C, what the walk need not visit: script/style/svg subtrees, hidden ones, and
    (prune) nav/header/footer/aside/form... subtrees that hold little of the page's text.
    Scoring would drop such chrome anyway (hints.py), and on news pages it is a third of the
    elements. One that holds much of the text (a page-wide <form>, a forum inside <aside>,
    a teaser's <header> inside an <article>) stays for the scorer to judge. One selector
    query finds all candidates: each extra query is a pass over every element."""
    chrome: list[LexborNode] = []
    for node in select(root, _UNREAD_SELECTOR):
        tag = node.tag or ""
        if tag in UNLINK_TAGS:
            node.decompose()
            continue
        attrs = node.attributes
        if not keep_hidden and is_hidden(attrs):
            node.decompose()
        elif prune and (tag in PRUNE_TAGS
                        or (attrs.get("role") or "").strip().lower() in NEGATIVE_ROLES):
            chrome.append(node)
    if not chrome:
        return
    limit = PRUNE_SHARE * len(root.text(deep=True))
    for node in chrome:
        if len(node.text(deep=True)) <= limit and not (node.tag == "header" and _in_article(node)):
            node.decompose()


def _in_article(node: LexborNode) -> bool:
    """Is the node inside an <article>? (Its <header> holds a title, maybe a teaser's link.)"""
    parent = node.parent
    for _ in range(MAX_DEPTH):
        if parent is None:
            return False
        if parent.tag == "article":
            return True
        parent = parent.parent
    return False


def flatten(root: LexborNode | None, keep_hidden: bool = False, prune: bool = False) -> Page:
    """Element table + lines of the subtree under `root` (skipped and hidden nodes left out).

    Speed: this loop runs once per node (~1,000 on a news page), so it keeps to what it must
    read from lexbor (tag, parent, text) and to dict and list operations. Scripts, styles,
    hidden subtrees (and with `prune`, small chrome) are unlinked in C before it starts.
    Inline elements (a, span, b: 40% of a page) own no line, so they join the table only
    when a block turns up inside them (`<a><h3>`, `<span><div>`): scoring never sees the rest.
    """
    page = Page()
    if root is None:
        return page
    unlink_unread(root, keep_hidden, prune)
    page.root = root
    tags, parents, attrs_l = page.tags, page.parents, page.attrs
    root_id = root.mem_id
    tags.append(root.tag or "")
    parents.append(-1)
    attrs_l.append(root.attributes)
    # per element (by mem_id): its table index; the index of its nearest block, stored as
    # ~index (< 0) when the element is inside a link (one lookup for both)
    index_of: dict[int, int] = {root_id: 0}
    state: dict[int, int] = {root_id: ~0 if tags[0] == "a" else 0}
    pending: dict[int, LexborNode] = {}  # inline elements not in the table (yet)
    get_state = state.get
    cur_block = -1  # block of the line being built; -1 forces a new line
    buf: list[str] = []
    link_chars = 0
    nodes = root.traverse(include_text=True)
    next(nodes, None)  # the root itself

    names = _TAG_NAMES
    for node in nodes:
        tag_id = node.tag_id  # an int: no tag name to decode for every node
        if tag_id == _TEXT_ID:
            # (is_empty_text_node: ASCII white space, checked in C without decoding; 40% of
            # the nodes of a page are such indentation)
            text = "" if node.is_empty_text_node else node.text_content
            if not text or text.isspace():
                # White space separates words inside a line; between blocks (or at the
                # start of a line) it separates nothing. Either way no parent is needed.
                if buf:
                    buf.append(" ")
                continue
            parent = node.parent
            v = get_state(parent.mem_id if parent is not None else root_id)
            if v is None:
                continue
            blk = v if v >= 0 else ~v
            if blk != cur_block:
                if buf:
                    _add_line(page, buf, cur_block, link_chars)
                    buf = []
                    link_chars = 0
                cur_block = blk
            buf.append(text)
            if v < 0:
                text = text.strip()
                if not text.startswith(_URL_TEXT):
                    link_chars += len(text)
            continue
        known = names.get(tag_id)
        if known is None:
            known = _tag_kind(node.tag or "")
            if tag_id < MAX_BUILTIN_TAG_ID:
                names[tag_id] = known
        tag, kind = known
        if kind == _SKIP:  # comments, doctype, scripts, form controls...
            continue  # left out of the table, and so is everything under it
        parent = node.parent
        pid = parent.mem_id if parent is not None else root_id
        v = get_state(pid)
        if v is None:
            continue  # under an element left out (a SKIP_TAG lexbor put back, a doctype)
        mem_id = node.mem_id
        link = v < 0 or tag == "a"
        if kind == _BLOCK:
            p = index_of.get(pid)
            if p is None:
                p = _add_pending(page, pid, index_of, pending)
            i = len(tags)
            index_of[mem_id] = i
            state[mem_id] = ~i if link else i
            tags.append(tag)
            parents.append(p)
            attrs_l.append(node.attributes)
        else:
            state[mem_id] = ~v if link and v >= 0 else v
            pending[mem_id] = node
            if kind != _BREAK:
                continue
        if buf:
            _add_line(page, buf, cur_block, link_chars)
            buf = []
            link_chars = 0
        cur_block = -1
    if buf:
        _add_line(page, buf, cur_block, link_chars)
    return page


def _add_pending(page: Page, mem_id: int, index_of: dict[int, int],
                 pending: dict[int, LexborNode]) -> int:
    """Put an inline element (and its inline ancestors not yet there) into the table; its
    index. Ancestors go first, so a parent's index stays below its children's."""
    chain: list[LexborNode] = []
    while mem_id not in index_of:
        node = pending[mem_id]
        chain.append(node)
        parent = node.parent
        mem_id = parent.mem_id if parent is not None else -1
        if mem_id == -1:
            return 0
    p = index_of[mem_id]
    for node in reversed(chain):
        i = len(page.tags)
        index_of[node.mem_id] = i
        page.tags.append(node.tag or "")
        page.parents.append(p)
        page.attrs.append(node.attributes)
        p = i
    return p


def _add_line(page: Page, buf: list[str], block: int, link_chars: int) -> None:
    """Close a line: white space collapsed, weighted length, anchor chars scaled to it."""
    line = collapse_spaces("".join(buf))
    if line:
        w = text_weight(line)
        page.line_block.append(block)
        page.line_text.append(line)
        page.line_len.append(w)
        page.line_link.append(min(w, link_chars * w / len(line)))
