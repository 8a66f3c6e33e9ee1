"""Text or HTML: which values of unknown kind are read as HTML, and what plain text keeps."""

from __future__ import annotations

import pytest

from mentions.extract.markup import api_text, escaped_text, field_text, guessed_text, looks_like_html


@pytest.mark.parametrize(("value", "is_html"), [
    # HTML that APIs send: Mastodon, Hacker News (which writes `<p>` unclosed), Stack Exchange.
    ('<p>Die neuen Schuhe von <a href="https://acme.example">Acme</a></p>', True),
    ("I think so.<p>Another paragraph", True),
    ("Line one<br>Line two", True),
    ("It&#x27;s Acme&#x27;s fault", True),
    ('See <img src="x.png"> here', True),
    ("<details><summary>Logs</summary>Acme 2.1</details>", True),
    # WordPress content with an embedded tweet or video: real elements no prose uses.
    ('<p>Acme on Twitter:</p><blockquote class="twitter-tweet">Acme!</blockquote>'
     '<script async src="https://platform.twitter.com/widgets.js"></script>', True),
    ('<p>Our Acme video</p><iframe src="https://www.youtube.com/embed/x" width="560"></iframe>', True),
    # Text about HTML, as people write it in titles, issues and Markdown.
    ("Steps: put a <script> tag in the name field. Then Acme's checkout breaks.", False),
    ("Use <script>alert(1)</script> to test Acme", False),
    ("Die Rückkehr von <i> und <b>", False),
    ("Why <blink> annoys AT&amp;T users", False),
    ("if a < b and AT&T", False),
    ("Acme &notanentity; here", False),
    ("plain words", False),
])
def test_only_values_that_really_look_like_html_are_html(value: str, is_html: bool) -> None:
    assert looks_like_html(value) is is_html


def test_plain_text_keeps_its_tags_and_references_and_only_loses_extra_white_space() -> None:
    assert field_text("  a <script> tag\n and &amp;  ", False) == "a <script> tag and &amp;"
    assert field_text("<p>Acme &amp; <b>Globex</b></p>", True) == "Acme & Globex"
    assert guessed_text("Steps: a <script> tag. Acme breaks.") == "Steps: a <script> tag. Acme breaks."


@pytest.mark.parametrize(("value", "text"), [
    ("Acme &amp; Globex &#8211; &#x2019;", "Acme & Globex – ’"),
    ("Die Rückkehr von <i> und <b>", "Die Rückkehr von <i> und <b>"),
    ("AT&T, R&D; &notit; &amp", "AT&T, R&D; &notit; &amp"),
])
def test_escaped_text_decodes_references_once_and_keeps_tags(value: str, text: str) -> None:
    assert escaped_text(value) == text


@pytest.mark.parametrize(("value", "text"), [
    # API fields: HTML on evidence of markup; custom and unknown elements do not veto it.
    ('<p>Watch.</p><lite-youtube videoid="acme1" class="acme-embed"></lite-youtube>', "Watch."),
    ("<style>.acme{color:red}</style><p>Sale.</p>", "Sale."),
    ("<!-- template: Acme -->\nThe button is misaligned.", "The button is misaligned."),
    # Text about HTML stays as written; an unclosed form tag in HTML hides nothing.
    ("Use <script>alert(1)</script> to test Acme", "Use <script>alert(1)</script> to test Acme"),
    ('Put a <select> in the modal.<br><img src="x.png"> Acme freezes.', "Put a <select> in the modal.\nAcme freezes."),
    ('The <option> tags render blank.<br><img src="x.png"> Acme 2.1', "The <option> tags render blank.\nAcme 2.1"),
    ("<p>A <select> bug; see the </selection> docs. Acme fixed it.</p>",
     "A <select> bug; see the docs. Acme fixed it."),  # a stray end tag is dropped, as browsers do
    ("<p>Pick:</p><select><option>Acme<option>Globex</select><p>Acme wins.</p>", "Pick:\nAcme wins."),
])
def test_api_fields_are_html_on_evidence_and_lose_no_text_to_an_unclosed_tag(value: str, text: str) -> None:
    assert api_text(value) == text
