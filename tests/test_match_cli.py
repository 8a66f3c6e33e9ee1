"""`mentions match`: inputs, formats, exit codes like grep, quiet broken pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentions.cli import app
from tests.conftest import run_cli
from tests.test_state_access import run as run_in

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["match", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def records(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_plain_file_is_one_document(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Die Acme GmbH verkauft Schuhe.\nAcme’s Laden\n", encoding="utf-8")
    code, out, _ = run("-e", "Acme", "--format", "jsonl", str(path))
    assert code == 0
    [record] = records(out)
    assert record["keyword"] == "Acme"
    assert record["source"] == str(path)
    assert record["source_type"] == "file"
    assert record["terms"] == ["Acme", "Acme’s"]
    assert record["count"] == 2
    assert record["published"] is None
    assert len(str(record["id"])) == 32
    assert set(record) == {
        "id",
        "keyword",
        "tags",
        "source",
        "source_type",
        "url",
        "title",
        "author",
        "published",
        "found_at",
        "terms",
        "count",
        "snippet",
        "lang",
    }


def test_lines_from_stdin_are_documents() -> None:
    code, out, _ = run("-e", "acme", "--lines", "--format", "jsonl", stdin="acme\nnone\nACME\n")
    assert code == 0
    found = records(out)
    assert [r["snippet"] for r in found] == ["acme", "ACME"]
    assert {r["source"] for r in found} == {"stdin"}
    assert found[0]["id"] != found[1]["id"]


def test_html_is_reduced_to_visible_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Acme news</title><style>.acme{}</style></head><body>"
        "<script>var globex = 1;</script><p>Hello</p><p data-x='globex'>world</p></body></html>",
        encoding="utf-8",
    )
    code, out, _ = run("-e", "globex", "--format", "jsonl", str(page))
    assert (code, out) == (1, "")
    code, out, _ = run("-e", "Helloworld", "--format", "jsonl", str(page))
    assert code == 1  # blocks do not run together...
    code, out, _ = run("-e", "Hello ONEAR/0 world", "--format", "jsonl", str(page))
    assert code == 0  # ...and stay neighbours
    assert records(out)[0]["title"] == "Acme news"


def test_jsonl_documents(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    lines = [
        {
            "text": "Acme rocks",
            "title": "T",
            "url": "https://acme.de/a",
            "author": "Max",
            "published": "2026-11-25T09:14:00+01:00",
        },
        {"text": "nothing"},
        {"text": "acme again", "url": "https://news.example/b"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    code, out, _ = run("-e", "acme -site:acme.de", "--format", "jsonl", str(path))
    assert code == 0
    [record] = records(out)
    assert record["url"] == "https://news.example/b"
    code, out, _ = run("-e", "acme", "--format", "jsonl", str(path))
    first = records(out)[0]
    assert (first["published"], first["author"], first["title"]) == (
        "2026-11-25T08:14:00Z",
        "Max",
        "T",
    )


def test_snippet_comes_from_the_body_unless_only_the_title_has_a_hit(tmp_path: Path) -> None:
    """docs/matching.md: the title is in every record beside the snippet, so the snippet shows
    the body around its first hit there; a hit in the title alone gives the title."""
    path = tmp_path / "docs.jsonl"
    lines = [
        {"title": "Acme in title and body", "text": "Some words first. Then Acme shows up in the body."},
        {"title": "Acme only in the title", "text": "nothing to see here"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    code, out, _ = run("-e", "Acme", "--format", "jsonl", str(path))
    assert code == 0
    both, title_only = records(out)
    assert (both["snippet"], both["count"]) == ("Some words first. Then Acme shows up in the body.", 2)
    assert title_only["snippet"] == "Acme only in the title"


def test_bad_jsonl_line_is_named_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "acme"}\nnot json\n{"title": "x"}\n', encoding="utf-8")
    code, out, err = run("-e", "acme", "--format", "jsonl", str(path))
    assert code == 2
    assert len(records(out)) == 1
    assert f"{path}:2: not a JSON object" in err
    assert f'{path}:3: needs a "text" string' in err


@pytest.mark.parametrize("output_format", ["json", "csv", "table"])
def test_other_formats(output_format: str) -> None:
    code, out, _ = run("-e", "acme", "--format", output_format, "--lines", stdin="=acme\n")
    assert code == 0
    if output_format == "json":
        assert json.loads(out)[0]["snippet"] == "=acme"
    elif output_format == "csv":
        assert out.splitlines()[0].startswith("id,keyword,tags")
        assert ",'=acme," in out  # a cell may not start a formula
    else:
        assert "acme" in out


def test_several_queries_are_named_by_their_text() -> None:
    code, out, _ = run("-e", "acme", "-e", "globex", "--format", "jsonl", stdin="globex acme")
    assert code == 0
    assert [r["keyword"] for r in records(out)] == ["acme", "globex"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-e", '"Acme" AND Schuh)'], 'mentions: query: unbalanced ")" at column 17'),
        (
            ["-e", "acme", "--format", "xml"],
            "mentions: --format must be one of jsonl, json, csv, table",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_sentence(args: list[str], message: str) -> None:
    code, out, err = run(*args, stdin="")
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert "Traceback" not in err


def test_config_keywords_and_tags(tmp_path: Path) -> None:
    config = tmp_path / "mentions.yaml"
    config.write_text(
        "version: 1\nkeywords:\n"
        "  - name: acme\n    terms: [Acme]\n    exclude: [Acme Street]\n    tags: [brand]\n"
        "  - name: shoes\n    query: 'Schuh*'\n"
        "sources:\n  - name: x\n    feed: https://example.org/feed\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        "-c", str(config), "--format", "jsonl", "--lines", stdin="Acme Schuhe\nAcme Street 1\n"
    )
    assert code == 0
    assert [(r["keyword"], r["tags"]) for r in records(out)] == [("acme", ["brand"]), ("shoes", [])]


BRANDS = "version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\n    tags: [brand]\n"
TICKETS = [
    {"text": "Acme lost my parcel", "title": "Ticket 1", "url": "https://help.example/t/1"},
    {"text": "Where is my refund?", "title": "Ticket 2", "url": "https://help.example/t/2"},
    {"text": "The Acme app crashes", "title": "Ticket 3", "url": "https://help.example/t/3"},
]


def test_the_readme_pipeline_reads_tickets_from_stdin_with_a_keywords_only_config(tmp_path: Path) -> None:
    # README: cat tickets.jsonl | mentions match -c brands.yaml --format jsonl | jq .keyword
    (tmp_path / "brands.yaml").write_text(BRANDS, encoding="utf-8")
    tickets = "".join(json.dumps(ticket) + "\n" for ticket in TICKETS).encode()
    result = run_cli("match", "-c", "brands.yaml", "--format", "jsonl", cwd=tmp_path, stdin=tickets)
    assert (result.returncode, result.stderr) == (0, b"")
    found = records(result.stdout.decode())
    assert [(r["keyword"], r["title"], r["url"], r["source"]) for r in found] == [
        ("acme", "Ticket 1", "https://help.example/t/1", "stdin"),
        ("acme", "Ticket 3", "https://help.example/t/3", "stdin"),
    ]
    quiet = json.dumps(TICKETS[1]).encode() + b"\n"
    nothing = run_cli("match", "-c", "brands.yaml", "--format", "jsonl", cwd=tmp_path, stdin=quiet)
    assert (nothing.returncode, nothing.stdout) == (1, b"")


def test_stdin_that_is_not_all_json_lines_stays_one_plain_text() -> None:
    text = 'Acme said:\n{"text": "a quoted object"}\n'
    code, out, _ = run("-e", "Acme", "--format", "jsonl", stdin=text)
    assert code == 0
    [record] = records(out)
    assert record["url"] is None
    assert "a quoted object" in str(record["snippet"])


def test_commands_that_fetch_still_need_sources(tmp_path: Path) -> None:
    (tmp_path / "brands.yaml").write_text(BRANDS, encoding="utf-8")
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "brands.yaml")])
    assert result.exit_code == 2
    assert "`sources` is required (a file of keywords alone serves `mentions match`)" in result.stderr


def test_a_site_written_as_a_url_leaves_out_the_own_site() -> None:
    page = '{"text":"Acme rocks","url":"https://www.acme.de/x"}\n'
    assert run("--jsonl", "-e", "Acme -site:https://www.acme.de/", "--format", "jsonl", stdin=page)[:2] == (1, "")
    code, out, err = run("--jsonl", "-e", "Acme site:https://", stdin=page)
    assert (code, out) == (2, "")
    assert err == 'mentions: query: site: "https://" names no host (write it as acme.de) at column 11\n'


def test_nothing_found_exits_1() -> None:
    assert run("-e", "acme", "--format", "jsonl", stdin="globex")[:2] == (1, "")


def _subprocess(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mentions", "match", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_exit_codes_in_a_real_process() -> None:
    assert _subprocess(["-e", "acme"], b"ACME!").returncode == 0
    assert _subprocess(["-e", "acme"], b"nothing").returncode == 1
    bad = _subprocess(["-e", "acme AND"], b"acme")
    assert bad.returncode == 2
    assert bad.stderr.decode().strip() == 'mentions: query: nothing after "AND" at column 6'


def test_a_closed_pipe_ends_quietly() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    matcher = f'"{sys.executable}" -m mentions match -e acme --lines'
    command = f'yes "acme line" | head -n 20000 | {matcher} | head -n 1'
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.stdout.count(b"\n") == 1
    assert done.stderr == b""


def test_an_unreadable_file_is_named_and_the_others_are_still_read(tmp_path: Path) -> None:
    """Like grep: matches from the readable files come out, the problems at the end, exit 2."""
    good = tmp_path / "good.txt"
    good.write_text("Acme ships today", encoding="utf-8")
    code, out, err = run("-e", "acme", "--format", "jsonl", str(good), "/no/such/file.txt", str(tmp_path))
    assert code == 2
    assert [r["source"] for r in records(out)] == [str(good)]
    assert err.splitlines() == [
        "mentions: /no/such/file.txt: no such file",
        f"mentions: {tmp_path}: is a directory, not a file",
    ]


def test_ids_name_the_text_not_its_place() -> None:
    """Different texts get different ids; the same text gets the same id on any line."""
    code, out, _ = run(
        "-e", "acme", "--format", "jsonl", "--lines",
        stdin="Acme one\nAcme totally different\n\nAcme one\n",
    )
    assert code == 0
    ids = [r["id"] for r in records(out)]
    assert len(ids) == 3
    assert ids[0] != ids[1]
    assert ids[0] == ids[2]
    code, again, _ = run("-e", "acme", "--format", "jsonl", stdin="Acme one")
    assert [r["id"] for r in records(again)] == [ids[0]]


def test_lang_queries_and_records_know_the_language(tmp_path: Path) -> None:
    """The declared `<html lang>` or, without one, a guess from the text, as `scan` does."""
    page = tmp_path / "seite.html"
    page.write_text(
        '<html lang="de-AT"><head><title>Neu</title></head>'
        "<body><p>Acme bringt neue Schuhe.</p></body></html>", encoding="utf-8",
    )
    code, out, _ = run("-e", "lang:de AND Acme", "--format", "jsonl", str(page))
    assert code == 0
    assert [(r["title"], r["lang"]) for r in records(out)] == [("Neu", "de")]
    # the record says `de`, so `lang:de-AT` (or de-DE) compares by the language, not the region
    code, out, _ = run("-e", "lang:de-DE AND Acme", "--format", "jsonl", str(page))
    assert (code, [r["title"] for r in records(out)]) == (0, ["Neu"])
    assert run("-e", "lang:en-AT AND Acme", str(page))[0] == 1
    german = "Die Acme GmbH verkauft jetzt auch Schuhe und Jacken für den Winter."
    code, out, _ = run("-e", "Acme", "--format", "jsonl", stdin=german)
    assert [r["lang"] for r in records(out)] == ["de"]
    english = "The Acme company is selling its shoes and jackets for the winter."
    assert run("-e", "lang:de AND Acme", stdin=english)[0] == 1
    assert run("-e", "lang:en AND Acme", stdin=english)[0] == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_file_saved_as_utf16_or_utf32_is_read(tmp_path: Path, encoding: str) -> None:
    """Windows tools save text with a byte order mark; the matcher must see its letters."""
    path = tmp_path / "export.txt"
    bom = {"utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    path.write_bytes(bom + "Die Müller & Acme GmbH".encode(encoding))
    code, out, _ = run("-e", "Acme", "--format", "jsonl", str(path))
    assert code == 0
    assert [r["snippet"] for r in records(out)] == ["Die Müller & Acme GmbH"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_lines_and_jsonl_of_a_utf16_file_are_read_line_by_line(tmp_path: Path, encoding: str) -> None:
    """Split at the byte 0x0A, UTF-16 lines were cut inside characters and matched nothing."""
    lines = tmp_path / "log.txt"
    lines.write_bytes("nothing here\r\nAcme called, Müller too\r\nGlobex\r\n".encode(encoding))
    code, out, _ = run("-e", "Acme OR Globex", "--lines", "--format", "jsonl", str(lines))
    assert code == 0
    assert [r["snippet"] for r in records(out)] == ["Acme called, Müller too", "Globex"]
    export = tmp_path / "export.jsonl"
    export.write_bytes('{"text": "Acme in Köln"}\n{"text": "nothing"}\n'.encode(encoding))
    code, out, _ = run("-e", "Acme", "--format", "jsonl", str(export))
    assert code == 0
    assert [r["snippet"] for r in records(out)] == ["Acme in Köln"]


def test_utf16_lines_on_stdin_are_read(tmp_path: Path) -> None:
    done = run_cli("match", "-e", "Acme", "--lines", "--format", "jsonl",
                   stdin="eins\nzwei Acme\n".encode("utf-16"))
    assert done.returncode == 0
    assert [r["snippet"] for r in records(done.stdout.decode())] == ["zwei Acme"]


def test_a_lone_surrogate_or_a_deep_line_in_jsonl_is_no_internal_error(tmp_path: Path) -> None:
    """Valid JSON, no text: a lone surrogate is replaced; a line nested past the recursion
    limit is named like any other unreadable line, and the rest is read."""
    export = tmp_path / "export.jsonl"
    export.write_text('{"text": "Acme \\ud800 here"}\n' + "[" * 100_000 + "]" * 100_000 + '\n{"text": "Acme too"}\n')
    code, out, err = run("-e", "Acme", "--format", "jsonl", str(export))
    assert [r["snippet"] for r in records(out)] == ["Acme \ufffd here", "Acme too"]
    assert f"{export}:2: not a JSON object" in err
    assert "internal error" not in err
    assert code == 2  # an unreadable line counts like an unreadable file


def test_lines_of_an_html_file_are_lines_of_its_visible_text(tmp_path: Path) -> None:
    """`--lines` on HTML matched the raw markup: styles, scripts, attributes, comments."""
    page = tmp_path / "page.html"
    page.write_text('<html lang="de"><head><title>T</title><style>.acme{color:red}</style>'
                    "<script>var Acme = 1</script></head><body><!-- Acme -->"
                    '<p data-x="Acme">Erste Zeile</p><p>Zweite Zeile mit Acme</p></body></html>')
    code, out, _ = run("-e", "Acme", "--lines", "--format", "jsonl", str(page))
    assert code == 0
    assert [(r["snippet"], r["lang"]) for r in records(out)] == [("Zweite Zeile mit Acme", "de")]
    code, out, _ = run("-e", "Acme", "--lines", "--html", "--format", "jsonl", stdin=page.read_text())
    assert [r["snippet"] for r in records(out)] == ["Zweite Zeile mit Acme"]


def test_stdin_json_lines_with_a_raw_line_separator_inside_a_text_are_still_json_lines() -> None:
    # JSON strings may hold U+2028 raw (`jq -c`, json.dumps(ensure_ascii=False) write it).
    tickets = (json.dumps({"text": "Acme rocks\u2028ok", "url": "https://s.example/1"}, ensure_ascii=False) + "\n"
               + json.dumps({"text": "nothing", "url": "https://s.example/2"}) + "\n")
    result = run_cli("match", "-e", "Acme", "--format", "jsonl", stdin=tickets.encode())
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["url"] for line in result.stdout.decode().splitlines()] == ["https://s.example/1"]


def test_two_tickets_under_one_url_get_two_ids_and_a_repeated_one_the_same() -> None:
    # A consumer dropping repeated ids would have lost the second ticket.
    tickets = "".join(json.dumps(ticket) + "\n" for ticket in [
        {"text": "Acme broke my order", "url": "https://support.example/tickets"},
        {"text": "Acme refund please", "url": "https://support.example/tickets"},
        {"text": "Acme broke my order", "url": "https://support.example/tickets"},
    ])
    result = run_cli("match", "-e", "Acme", "--format", "jsonl", stdin=tickets.encode())
    ids = [json.loads(line)["id"] for line in result.stdout.decode().splitlines()]
    assert len(ids) == 3 and ids[0] != ids[1] and ids[0] == ids[2]


@pytest.mark.parametrize(
    "body",
    [
        # lexbor alone: its nesting check grows with the square of the depth (about 90 s here)
        "<div>" * 200_000 + "<p>Acme deep down</p>" + "</div>" * 200_000,
        # lexbor alone: its option "selectedness" step grows with the square of the options (72 s)
        "<form><select>" + "<option>Acme Modell" * 100_000 + "</select></form><p>Acme deep down</p>",
    ],
    ids=["nested-200000-deep", "select-of-100000-options"],
)
def test_an_html_file_built_to_stall_the_parser_is_read_in_moments(tmp_path: Path, body: str) -> None:
    """`match` parsed an HTML file's title with lexbor directly, without the limits a scan's
    pages have; a `timeout` in a pipeline was the only way out. (60 s is the helper's limit:
    the fixed parse takes about a second.)"""
    page = tmp_path / "page.html"
    page.write_text(f"<html><head><title>Acme page</title></head><body>{body}</body></html>")
    done = _subprocess(["-e", "Acme", "--format", "jsonl", str(page)], b"")
    assert done.returncode == 0, done.stderr
    [record] = records(done.stdout.decode())
    assert (record["title"], record["snippet"], record["count"]) == ("Acme page", "Acme deep down", 2)


def test_stdin_at_a_terminal_is_announced_and_a_pipe_is_not() -> None:
    """Typed at a terminal without a file, `match` sat silent until Ctrl-D, looking hung."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "mentions", "match", "-e", "Acme", "--format", "jsonl"],
        stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    os.close(follower)
    os.write(leader, b"Acme at the terminal\n\x04")  # a line, then Ctrl-D: the end of the input
    out, err = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode == 0, err
    assert err.decode() == "mentions: reading standard input (type the text, then Ctrl-D)\n"
    assert [r["snippet"] for r in records(out.decode())] == ["Acme at the terminal"]
    piped = _subprocess(["-e", "Acme"], b"Acme in a pipe")
    assert (piped.returncode, piped.stderr) == (0, b"")


def test_a_file_without_read_permission_is_named_and_the_others_are_still_read(
    tmp_path: Path, bound_by_modes: list[str]
) -> None:
    """Typer checks paths are readable before the command runs: one such file stopped `match`
    with a usage error and nothing read, and a config without read permission got Click's
    usage text instead of one sentence."""
    (tmp_path / "ok.txt").write_text("Acme here")
    closed = tmp_path / "closed.txt"
    closed.write_text("Acme there")
    closed.chmod(0o000)
    config = tmp_path / "closed.yaml"
    config.write_text("version: 1\nkeywords: [{name: acme, terms: [Acme]}]\n")
    config.chmod(0o000)
    matched = run_in(bound_by_modes, tmp_path, "match", "-e", "Acme", "--format", "jsonl", "ok.txt", "closed.txt")
    assert [r["snippet"] for r in records(matched.stdout)] == ["Acme here"]
    assert (matched.returncode, matched.stderr) == (2, "mentions: closed.txt: permission denied\n")
    checked = run_in(bound_by_modes, tmp_path, "check", "-c", "closed.yaml")
    assert (checked.returncode, checked.stderr) == (2, "mentions: closed.yaml: cannot read the file: Permission denied\n")


def test_format_has_the_short_flag_f_as_in_every_other_command() -> None:
    assert run("-e", "acme", "-f", "csv", stdin="acme")[1].startswith("id,keyword,")
