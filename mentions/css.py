"""CSS selectors as `page:` sources write them: `selector`, or `selector@attribute`.

selectolax only says that a selector is wrong when it is used, on a fetched page; `check`
wants to say it when the config is read, with the line. Applying the selector to an empty
document costs a few microseconds and raises the same error.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser


def split_selector(selector: str) -> tuple[str, str]:
    """`a.permalink@href` -> (`a.permalink`, `href`); no `@`: the text, attribute ''."""
    css, _, attribute = selector.rpartition("@") if "@" in selector else (selector, "", "")
    return css.strip(), attribute.strip()


def selector_problem(css: str) -> str | None:
    """Why selectolax cannot use `css`, in a sentence, or None."""
    from selectolax.lexbor import SelectolaxError

    if not css.strip():
        return "it is empty"
    try:
        _empty_document().css(css)
    except SelectolaxError:
        return f"{css!r} is not a valid CSS selector"
    return None


def written_selector_problem(selector: str, *, is_items: bool = False) -> str | None:
    """`selector_problem` of a selector as the config writes it: `css@attribute`, or for
    `items` plain CSS. An `@attribute` alone reads the item itself and needs no CSS."""
    css = selector if is_items else split_selector(selector)[0]
    return selector_problem(css) if css or is_items else None


@functools.cache
def _empty_document() -> LexborHTMLParser:
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser("")
