"""What a person sees in the table: rendered to a fixed-width console without colour."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from mentions.models import Mention
from mentions.table import TableWriter, highlighted_snippet, render_table, valid_highlights, when

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def mention(title: str = "Erfahrungen mit Acme", snippet: str = "Ich habe Acme Runner X gekauft",
            highlights: tuple[tuple[int, int], ...] = (), **changes: object) -> Mention:
    values: dict[str, object] = dict(
        id="1", keyword="acme", tags=("brand",), source="forum", source_type="page",
        url="https://forum.example/t/1", title=title, author="Max", published=NOW - timedelta(minutes=12),
        found_at=NOW, terms=("Acme",), count=1, snippet=snippet, lang="de", highlights=highlights,
    )
    values.update(changes)
    return Mention(**values)  # type: ignore[arg-type]


def shown(mentions: list[Mention], width: int = 80) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True, force_terminal=False, highlight=False)
    writer = TableWriter(console)
    for item in mentions:
        writer.write(item)
    writer.close()
    return buffer.getvalue()


def test_two_lines_per_mention_with_marked_hits() -> None:
    text = render(mention(highlights=((9, 13),)))
    assert text.splitlines() == [
        "12 min ago  acme · forum · Erfahrungen mit Acme",
        "            Ich habe *Acme* Runner X gekauft",
    ]


def render(*mentions: Mention, width: int = 80) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, force_terminal=False).print(
        render_table(list(mentions), width=width, is_plain=True, now=NOW)
    )
    return buffer.getvalue()


def test_no_line_is_wider_than_the_console_and_cut_lines_end_in_an_ellipsis() -> None:
    long = mention(title="T" * 200, snippet="word " * 100 + "Acme " + "tail " * 50)
    lines = render(long, width=80).splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[0].endswith("…") and lines[1].endswith("…")
    # the snippet was windowed so that the hit is visible
    assert "*Acme*" in lines[1] and lines[1].lstrip().startswith("…")


def test_a_pipe_at_80_columns_stays_one_line_per_field() -> None:
    many = [mention(id=str(i), snippet="lorem ipsum " * 30 + "Acme", published=NOW - timedelta(hours=i))
            for i in range(5)]
    out = shown(many, width=80)
    assert len(out.splitlines()) == 5 * 3 - 1
    assert "\x1b" not in out


def test_newest_first_and_relative_times() -> None:
    old = mention(id="old", title="older", published=NOW - timedelta(days=3))
    new = mention(id="new", title="newer", published=NOW - timedelta(minutes=5))
    undated = mention(id="undated", title="undated", published=None, found_at=NOW - timedelta(hours=2))
    lines = render(old, new, undated).splitlines()
    assert [line.split(" · ")[-1] for line in lines[::3]] == ["newer", "undated", "older"]
    assert lines[0].startswith("5 min ago") and lines[3].startswith("2 h ago")
    long_ago = NOW - timedelta(days=400)
    assert when(long_ago, NOW) == long_ago.astimezone().strftime("%Y-%m-%d")


@pytest.mark.parametrize(
    "highlights",
    [(), ((100, 120),), ((-3, 2),), ((5, 2),), ((0, 4), (2, 8)), (("a", "b"),)],  # type: ignore[list-item]
)
def test_bad_or_missing_highlights_never_break_rendering(highlights: tuple[tuple[int, int], ...]) -> None:
    text = highlighted_snippet(mention(snippet="Acme and more Acme", highlights=highlights), is_plain=True)
    assert "Acme" in text.plain


def test_highlights_fall_back_to_the_matched_terms() -> None:
    text = highlighted_snippet(mention(snippet="about acme and ACME", highlights=()), is_plain=True)
    assert text.plain == "about *acme* and *ACME*"


def test_overlapping_highlights_are_merged() -> None:
    assert valid_highlights("abcdefgh", [(0, 4), (2, 6), (7, 8)]) == [(0, 6), (7, 8)]


HOSTILE = [
    "\x1b[2J\x1b]0;pwned\x07Acme",  # clear screen, set terminal title
    "\x1b]8;;https://evil.example\x1b\\Acme\x1b]8;;\x1b\\",  # a hidden hyperlink
    "[bold red]Acme[/] [link=https://evil.example]x[/link]",  # Rich markup
    "\u202egnp.exe Acme",  # right-to-left override
    "Acme\x9b31m\x07\x08\x00",  # C1 CSI, bell, backspace, NUL
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_and_snippets_are_shown_inert(title: str) -> None:
    out = shown([mention(title=title, snippet=title, url="https://ok.example/\x1b[31m")], width=120)
    for code in ("\x1b", "\x9b", "\x07", "\x08", "\x00", "\u202e"):
        assert code not in out
    if title.startswith("[bold"):
        assert "[bold red]" in out  # markup shows as the characters it is


def test_colour_and_links_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True, color_system="truecolor")
    writer = TableWriter(console)
    writer.write(mention(highlights=((9, 13),)))
    writer.close()
    out = buffer.getvalue()
    assert "\x1b]8;" in out and "https://forum.example/t/1" in out  # a clickable title
    assert "*Acme*" not in out and "\x1b[" in out  # hits styled, not starred


def test_no_color_on_a_terminal_keeps_hits_visible_without_colour() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True, color_system="truecolor")
    writer = TableWriter(console)
    writer.write(mention(highlights=((9, 13),)))
    writer.close()
    out = buffer.getvalue()
    assert "\x1b[1;7m" in out  # bold reverse
    assert "\x1b[36" not in out and "\x1b[38" not in out  # no colour


def test_javascript_urls_are_not_linked() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True, color_system="truecolor")
    console.print(render_table([mention(url="javascript:alert(1)")], width=100, now=NOW))
    assert "\x1b]8;" not in buffer.getvalue()


def test_wide_characters_respect_the_width() -> None:
    from rich.cells import cell_len

    lines = render(mention(title="日本語のタイトル" * 10, snippet="アクメ " * 40), width=60).splitlines()
    assert all(cell_len(line) <= 60 for line in lines)
