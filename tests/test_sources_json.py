"""`json:` sources: dotted paths, templates, alternatives, and answers of the wrong shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mentions.errors import FetchError
from mentions.sources.json_api import documents_from_data, field_value, lookup
from tests.localsite import LocalSite
from tests.scanning import scan, write_config

ALGOLIA = {
    "hits": [
        {
            "objectID": "41234567",
            "created_at": "2026-11-24T09:15:00Z",
            "created_at_i": 1795511700,
            "author": "pg_fan",
            "comment_text": "<p>We moved to <i>Acme</i> last year &amp; never looked back.</p>",
            "story_title": "Show HN: Acme, a tiny CI runner",
            "story_url": "https://acme.example/launch",
            "title": None,
            "url": None,
        },
        {
            "objectID": "41230000",
            "created_at": "2026-11-23T18:00:00Z",
            "author": "acme_dev",
            "title": "Show HN: Acme, a tiny CI runner",
            "url": "https://acme.example/launch",
            "story_text": None,
        },
    ],
    "nbHits": 2,
    "page": 0,
}

MASTODON = [
    {
        "id": "113500000000000001",
        "created_at": "2026-11-25T07:00:00.000Z",
        "url": "https://social.example/@lena/113500000000000001",
        "content": "<p>Die neuen Schuhe von <a href=\"https://acme.example\">Acme</a> sind da!</p>",
        "account": {"acct": "lena", "display_name": "Lena"},
        "language": "de",
    }
]


def test_hacker_news_shape_field_by_field(site: LocalSite, tmp_path: Path) -> None:
    url = site.add("/api/v1/search_by_date", json.dumps(ALGOLIA), content_type="application/json")
    config = write_config(tmp_path, f"""  - name: hn
    json: {url}
    items: hits
    fields:
      title: title|story_title
      text: comment_text|story_text|title
      link: "https://news.ycombinator.com/item?id={{objectID}}"
      author: author
      date: created_at_i|created_at
""")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    by_url = {r["url"]: r for r in records}
    comment = by_url["https://news.ycombinator.com/item?id=41234567"]
    assert comment["title"] == "Show HN: Acme, a tiny CI runner"
    assert comment["author"] == "pg_fan"
    assert comment["published"] == "2026-11-24T09:15:00Z"
    assert comment["source_type"] == "json"
    assert "We moved to Acme last year & never looked" in comment["snippet"]
    story = by_url["https://news.ycombinator.com/item?id=41230000"]
    assert story["author"] == "acme_dev"
    assert story["published"] == "2026-11-23T18:00:00Z"


def test_top_level_list_and_default_fields(site: LocalSite, tmp_path: Path) -> None:
    url = site.add("/api/v1/timelines/tag/acme", json.dumps(MASTODON), content_type="application/json")
    config = write_config(tmp_path, f"  - name: masto\n    json: {url}\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    [record] = records
    assert record["url"] == "https://social.example/@lena/113500000000000001"
    assert record["author"] == "lena"
    assert record["published"] == "2026-11-25T07:00:00Z"
    assert record["snippet"] == "Die neuen Schuhe von Acme sind da!"


def test_broken_bytes_in_an_answer_become_replacement_characters(site: LocalSite, tmp_path: Path) -> None:
    """One invalid UTF-8 sequence in one field failed the whole source as "not valid JSON"."""
    body = json.dumps([{"content": "Die neuen Schuhe von Acme X", "url": "https://a.example/1"}]).encode()
    url = site.add("/api/items", body.replace(b" X", b" \xff\xfe"), content_type="application/json")
    config = write_config(tmp_path, f"  - name: api\n    json: {url}\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [record["snippet"] for record in records] == ["Die neuen Schuhe von Acme \ufffd\ufffd"]


@pytest.mark.parametrize(
    ("body", "items", "message"),
    [
        ("{not json", "hits", "not valid JSON"),
        ('{"hits": {"a": 1}}', "hits", "`items: hits` leads to an object, not a list"),
        ('{"hits": "none"}', "hits", "leads to a string"),
        ('{"data": []}', "hits", "leads to nothing"),
        ('{"hits": [], "nbHits": 0}', None, "set `items` to the path of its list (keys: hits, nbHits)"),
    ],
)
def test_wrong_shapes_are_source_errors(
    site: LocalSite, tmp_path: Path, body: str, items: str | None, message: str
) -> None:
    url = site.add("/api", body, content_type="application/json")
    items_line = f"    items: {items}\n" if items else ""
    config = write_config(tmp_path, f"  - name: api\n    json: {url}\n{items_line}")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 1
    assert records == []
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_item_and_value_types_are_skipped() -> None:
    data = {"hits": [1, "x", None, {"text": {"nested": True}, "title": ["a"]}, {"text": "Acme ok", "url": 5}]}
    documents = documents_from_data(data, "https://api.example/", "s", "hits", {}, "json")
    assert [d.text for d in documents] == ["Acme ok"]
    assert documents[0].url == "https://api.example/5"


@pytest.mark.parametrize(
    ("data", "path", "expected"),
    [
        ({"a": {"b": [{"c": 1}, {"c": 2}]}}, "a.b.1.c", 2),
        ({"a": {"b": [{"c": 1}]}}, "a.b.-1.c", 1),
        ({"a": {"b": [{"c": 1}]}}, "a.b.5.c", None),
        ({"a": {"b": [{"c": 1}]}}, "a.b.x", None),
        ({"a": "text"}, "a.b", None),
        ([{"a": 1}], "0.a", 1),
    ],
)
def test_dotted_paths(data: object, path: str, expected: object) -> None:
    assert lookup(data, path) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("title|story_title", "Story"),
        ("https://x.example/item?id={id}", "https://x.example/item?id=7"),
        ("https://x.example/{missing}|https://x.example/q/{id}", "https://x.example/q/7"),
        ("author", "Max"),
        ("score", "1.5"),
        ("flag", None),
    ],
)
def test_field_specs(spec: str, expected: str | None) -> None:
    item = {
        "title": "", "story_title": "Story", "id": 7, "author": {"name": "Max"}, "score": 1.5, "flag": True
    }
    assert field_value(item, spec) == expected


def test_items_paths_can_be_joined() -> None:
    data = {"posts": [{"post": {"name": "Acme post"}}], "comments": [{"comment": {"content": "Acme reply"}}]}
    fields = {"title": "post.name", "text": "comment.content|post.name"}
    documents = documents_from_data(data, "https://l.example/", "s", "posts + comments", fields, "json")
    assert [d.text for d in documents] == ["Acme post", "Acme reply"]
    with pytest.raises(FetchError):
        documents_from_data({"posts": 1}, "https://l.example/", "s", "posts + comments", fields, "json")


def test_a_plain_text_body_that_names_a_script_tag_keeps_its_text(site: LocalSite, tmp_path: Path) -> None:
    """GitHub issue bodies are Markdown: `<script>` in one is written about, not markup, and
    read as HTML everything after it was lost, the mention with it."""
    issues = {"total_count": 1, "items": [{
        "html_url": "https://github.com/acme/shop/issues/7", "title": "Checkout: <script> in a name",
        "body": "Steps: put a <script> tag in the name field. Then Acme's checkout breaks.",
        "user": {"login": "kim"}, "created_at": "2026-11-24T09:15:00Z",
    }]}
    url = site.add("/search/issues", json.dumps(issues), content_type="application/json")
    config = write_config(tmp_path, f"  - name: gh\n    json: {url}\n    items: items\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [(r["title"], r["snippet"]) for r in records] == [(
        "Checkout: <script> in a name",
        "Steps: put a <script> tag in the name field. Then Acme's checkout breaks.",
    )]


def test_html_with_styles_embeds_and_word_markup_is_read_as_html(site: LocalSite, tmp_path: Path) -> None:
    """WordPress `content.rendered` carries inline styles, custom elements and Word's `<o:p>`:
    read as plain text, their class names and CSS were matched (`acme-banner`)."""
    posts = [
        {"title": {"rendered": "Summer sale"}, "link": "https://shop.example/1", "content": {"rendered":
            '<style>.acme-banner{color:red}</style><div class="acme-banner"><p>Our summer sale starts.</p></div>'}},
        {"title": {"rendered": "Video"}, "link": "https://shop.example/2", "content": {"rendered":
            '<p>Watch the clip.</p><lite-youtube videoid="acme123" class="acme-embed"></lite-youtube>'}},
        {"title": {"rendered": "Word"}, "link": "https://shop.example/3", "content": {"rendered":
            '<p class="MsoNormal"><span style="font-family:Acme Sans">Free shipping, says Acme.</span><o:p></o:p></p>'}},
    ]
    url = site.add("/wp-json/wp/v2/posts", json.dumps(posts), content_type="application/json")
    config = write_config(tmp_path, f"  - name: wp\n    json: {url}\n"
                                    "    fields: {title: title.rendered, text: content.rendered, link: link}\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [(r["title"], r["snippet"]) for r in records] == [("Word", "Free shipping, says Acme.")]


def test_a_markdown_body_quoting_a_form_tag_beside_an_image_keeps_every_word(
    site: LocalSite, tmp_path: Path
) -> None:
    """A GitHub issue embeds its screenshot as `<img …>` (so it is HTML) and quotes `<select>`:
    parsed as is, the unclosed select hid the rest of the issue; a template's comment is
    no text."""
    body = ('<!-- Thanks for filing a bug report! -->\nWhen I put a `<select>` in the modal, the '
            'dashboard freezes.\n\n<img width="600" alt="screenshot" src="https://x.example/1.png">\n\n'
            "Steps: open the Acme dashboard.")
    issues = {"items": [{"html_url": "https://github.com/acme/shop/issues/8", "title": "Freeze", "body": body}]}
    url = site.add("/search/issues", json.dumps(issues), content_type="application/json")
    config = write_config(tmp_path, f"  - name: gh\n    json: {url}\n    items: items\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [r["snippet"] for r in records] == [
        "When I put a `<select>` in the modal, the dashboard freezes. Steps: open the Acme dashboard."]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("$.topics[id=topic_id].title", "Sync speed"),
        ("$.topics[id=topic_id].title|topic_title_headline", "Sync speed"),
        ("$.topics[id=missing].title|topic_title_headline", "Sync <b>speed</b>"),
        ("$.groups[id=topic_id].title|title", None),  # no such list: the next alternative
        ("$.meta.forum", "forum.example"),
        ("$.nested.lists[slug=slug].0.name", "first"),
        ("https://f.example/t/{$.topics[id=topic_id].slug}/{topic_id}", "https://f.example/t/sync-speed/1234"),
    ],
)
def test_fields_read_from_the_whole_answer(spec: str, expected: str | None) -> None:
    """Discourse sends a post's topic title once, in the answer's `topics`."""
    from mentions.sources.json_api import _Answer

    answer = {
        "posts": [],
        "topics": [{"id": 1233, "title": "Other"}, {"id": 1234, "title": "Sync speed", "slug": "sync-speed"}],
        "meta": {"forum": "forum.example"},
        "nested": {"lists": [{"slug": "s", "0": {"name": "first"}}]},
    }
    item = {"topic_id": 1234, "topic_title_headline": "Sync <b>speed</b>", "slug": "s"}
    assert field_value(item, spec, _Answer(answer)) == expected


def test_a_post_gets_its_topic_title_from_the_answer() -> None:
    data = {"posts": [{"id": 1, "blurb": "Acme syncs", "topic_id": 7, "name": "Jana K."}],
            "topics": [{"id": 7, "title": "Sync speed & Acme"}]}
    fields = {"title": "$.topics[id=topic_id].title", "text": "blurb"}
    documents = documents_from_data(data, "https://f.example/search.json", "s", "posts", fields, "json")
    assert [(d.title, d.text) for d in documents] == [("Sync speed & Acme", "Acme syncs")]
