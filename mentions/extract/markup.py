"""Text or HTML: how a field's value becomes the text we match and show.

Each source kind knows what its fields are: an Atom `type="text"` title, a JSON Feed
`content_text` are plain text, and a `<script>` or `&amp;` in them is what the author
wrote; read as HTML, everything after `<script>` would vanish and `&amp;amp;` would be
decoded twice. Only where a format leaves it open (RSS titles, the fields of a JSON API)
is the value guessed from its looks, conservatively, since a wrong guess loses text.
"""

from __future__ import annotations

import html
import html.entities
import re

from mentions.spaces import collapse_spaces

from .dom import SKIP_TAGS
from .plain import visible_text

# feedparser's list of HTML elements (its sanitizer's `acceptable_elements`), which it uses
# to guess whether an RSS title is HTML, plus a few it lacks (`<details><summary>` in GitHub
# issues). A superset, so that every title feedparser calls HTML is HTML here too and the
# lxml fast path reads feeds as feedparser does. No script, style or unknown tag: text
# that has one is prose about HTML (`never put input in a <script> tag`), not markup.
_HTML_ELEMENTS = frozenset({
    "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "bdi", "bdo",
    "big", "blockquote", "br", "button", "canvas", "caption", "center", "cite", "code", "col",
    "colgroup", "command", "data", "datagrid", "datalist", "dd", "del", "details", "dfn",
    "dialog", "dir", "div", "dl", "dt", "em", "event-source", "fieldset", "figcaption",
    "figure", "font", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "i", "img", "input", "ins", "kbd", "keygen", "label", "legend", "li", "m", "main", "map",
    "mark", "menu", "meter", "multicol", "nav", "nextid", "noscript", "ol", "optgroup",
    "option", "output", "p", "picture", "pre", "progress", "q", "rp", "rt", "ruby", "s",
    "samp", "section", "select", "small", "sound", "source", "spacer", "span", "strike",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "textarea", "tfoot", "th",
    "thead", "time", "tr", "tt", "u", "ul", "var", "video", "wbr",
})
_CLOSE_TAG = re.compile(r"</\w+>")
_REFERENCE = re.compile(r"&#?\w+;")
_TAG_NAME = re.compile(r"</?(\w+)")
_NAMED_REFERENCE = re.compile(r"&(\w+);")
# Start tags only markup writes, though unclosed: a paragraph or line break (Hacker News
# writes `<p>` alone), an image, or any tag with an attribute (`<a href="…">`,
# `<lite-youtube videoid="…">`). A bare `<i>` or `<b>` may be a title quoting tag names,
# and is no evidence by itself.
_MARKUP_START = re.compile(
    r"<(?:(?:p|br|hr|img|li|div)\s*/?>|[a-z][\w:-]*\s+[\w:-]+\s*=\s*[\"'])", re.IGNORECASE
)
# What markup has and prose about HTML has not: a closing tag of an element people write
# with (`</p>`, not `</script>`), a character reference, an HTML comment (GitHub's issue
# templates), or a start tag as above.
_PROSE_ELEMENTS = "|".join(sorted(_HTML_ELEMENTS - SKIP_TAGS, key=len, reverse=True))
_FRAGMENT_EVIDENCE = re.compile(
    rf"</(?:{_PROSE_ELEMENTS})\s*>|{_REFERENCE.pattern}|<!--|{_MARKUP_START.pattern}", re.IGNORECASE
)


def looks_like_html(value: str) -> bool:
    """Whether a value of unknown kind is an HTML fragment rather than text about HTML.

    feedparser's test for RSS titles, widened by unclosed break tags and tags with
    attributes: some markup (a closing tag, a character reference, such a start tag), every
    tag a known prose element, every named reference a real one.
    """
    if "<" not in value and "&" not in value:
        return False
    if not (_CLOSE_TAG.search(value) or _REFERENCE.search(value) or _MARKUP_START.search(value)):
        return False
    lowered = value.lower()
    for name in {name.lower() for name in _TAG_NAME.findall(value)} - _HTML_ELEMENTS:
        # An element no prose is written with: text about HTML (`a <script> tag`,
        # `<script>alert(1)</script>`), unless the value gives it attributes, as an embed
        # does (WordPress content with a tweet: `<script async src="…widgets.js">`, an
        # `<iframe src=…>`).
        if not re.search(rf"<{re.escape(name)}\s[^<>]*=", lowered):
            return False
    return all(name in html.entities.entitydefs for name in _NAMED_REFERENCE.findall(value))


def field_text(value: str, is_html: bool) -> str:
    """The text of a field: HTML reduced to what a reader sees, plain text as written.

    Plain text only has its white space squeezed: no tag is removed and no reference
    decoded (an XML parser has decoded the feed's own references already; a JSON string
    has none).
    """
    if not is_html or ("<" not in value and "&" not in value):
        return collapse_spaces(value)
    return visible_text(value)  # an unclosed `<select>` in it stays text (see plain.py)


def api_text(value: str) -> str:
    """The text of a JSON API's field, which may be HTML (Mastodon, Hacker News, WordPress)
    or plain text and Markdown that quotes tags (GitHub, Lemmy): HTML only on evidence of
    markup; an unknown or custom element does not veto it, as it does for RSS titles."""
    if "<" not in value and "&" not in value:
        return collapse_spaces(value)
    return field_text(value, _FRAGMENT_EVIDENCE.search(value) is not None)


# A well-formed character reference: `&amp;`, `&#8217;`, `&#x2019;`.
_WELL_FORMED_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _decoded(found: re.Match[str]) -> str:
    reference = found.group()
    if reference[1] != "#" and reference[1:] not in html.entities.html5:
        return reference  # `&notit;` is no reference (html.unescape would read `&not`)
    return html.unescape(reference)


def escaped_text(value: str) -> str:
    """Plain text that its publisher may have HTML-escaped anyway: tags stay as written,
    well-formed character references are decoded once.

    JSON Feed titles are plain text by the spec, yet WordPress writes `&amp;` and `&#8217;`
    in them; a title that means a literal `&amp;` is far rarer than one escaped by mistake.
    """
    if "&" in value:
        value = _WELL_FORMED_REFERENCE.sub(_decoded, value)
    return collapse_spaces(value)


def guessed_text(value: str) -> str:
    """The text of a field that may be HTML or plain text (RSS titles, JSON API fields)."""
    return field_text(value, looks_like_html(value))
