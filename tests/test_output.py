"""CSV and JSON that open cleanly in spreadsheets; the table and summary through the real CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mentions.models import Mention
from mentions.output import CSV_COLUMNS, CsvWriter, JsonArrayWriter, spreadsheet_safe
from tests.conftest import REPO, run_cli, run_on_terminal
from tests.localsite import LocalSite

DEMO = REPO / "examples" / "demo.yaml"


def mention(**changes: object) -> Mention:
    values: dict[str, object] = dict(
        id="1", keyword="acme", tags=("brand", "de"), source="forum", source_type="page",
        url="https://forum.example/t/1", title="Größe passt", author="Max",
        published=datetime(2026, 11, 25, 8, 14, tzinfo=UTC), found_at=datetime(2026, 11, 26, tzinfo=UTC),
        terms=("Acme",), count=2, snippet="neue Schuhe von Acme", lang="de",
    )
    values.update(changes)
    return Mention(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
        ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"), ("  =1+1", "'  =1+1"), ("＝1+1", "'＝1+1"),
        ("Acme = good", "Acme = good"), ("", ""), ("normal", "normal"),
    ],
)
def test_spreadsheet_safe(cell: str, expected: str) -> None:
    assert spreadsheet_safe(cell) == expected


def test_csv_cells_from_the_web_cannot_be_formulas() -> None:
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.write(mention(title="=cmd|' /C calc'!A0", author="@evil", snippet="-1+2\x1b[31m"))
    writer.close()
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert rows[0]["title"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["author"] == "'@evil"
    assert rows[0]["snippet"] == "'-1+2"
    assert rows[0]["tags"] == "brand; de"


def test_excel_csv_has_a_bom_once_and_crlf() -> None:
    buffer = io.StringIO()
    writer = CsvWriter(buffer, is_excel=True)
    writer.write(mention())
    writer.write(mention(id="2"))
    writer.close()
    text = buffer.getvalue()
    assert text.startswith("\ufeffid,keyword,")
    assert text.count("\ufeff") == 1
    assert text.count("\r\n") == 3
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == list(CSV_COLUMNS) and rows[1][6] == "Größe passt"


def test_json_array_is_valid_json_even_when_empty() -> None:
    for items in ([], [mention(), mention(id="2")]):
        buffer = io.StringIO()
        writer = JsonArrayWriter(buffer)
        for item in items:
            writer.write(item)
        writer.close()
        assert len(json.loads(buffer.getvalue())) == len(items)


def test_cli_excel_file_opens_with_umlauts(tmp_path: Path) -> None:
    out = tmp_path / "mentions.csv"
    result = run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "csv", "--excel", "-o", str(out))
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,keyword")
    assert "Köhler".encode() in data
    assert run_cli("scan", "-c", str(DEMO), "--no-state", "--excel").returncode == 2  # jsonl + --excel


def _read_back(path: Path, output_format: str) -> list[dict[str, object]]:
    text = path.read_text(encoding="utf-8")
    if output_format == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    if output_format == "json":
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize(("name", "args", "output_format"), [
    ("mentions.csv", [], "csv"),
    ("Mentions.CSV", [], "csv"),
    ("mentions.json", [], "json"),
    ("mentions.jsonl", [], "jsonl"),
    ("mentions.ndjson", [], "jsonl"),
    ("mentions.log", [], "jsonl"),  # an extension of no format: the default, as before
    ("mentions.csv", ["--format", "jsonl"], "jsonl"),  # an explicit --format wins
    ("mentions.csv", ["--excel"], "csv"),
])
def test_the_output_files_extension_sets_the_format(tmp_path: Path, name: str, args: list[str],
                                                      output_format: str) -> None:
    """`-o a.csv` without --format wrote JSON Lines into a.csv, silently."""
    from typer.testing import CliRunner

    from mentions.cli import app

    (tmp_path / "notes.txt").write_text("Acme news\n", encoding="utf-8")
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
                      "sources:\n  - name: notes\n    file: notes.txt\n", encoding="utf-8")
    out = tmp_path / name
    result = CliRunner().invoke(app, ["scan", "-c", str(config), "--no-state", "-o", str(out), *args])
    assert (result.exit_code, result.stdout) == (0, ""), result.output
    [record] = _read_back(out, output_format)
    assert (record["keyword"], record["snippet"]) == ("acme", "Acme news")


def test_csv_is_not_appended_to_a_file_of_json_lines(tmp_path: Path) -> None:
    """A cron job's `-o mentions.csv` wrote JSON Lines before the format followed the name:
    CSV rows after them would leave a file no reader takes. A CSV file goes on as CSV."""
    out = tmp_path / "mentions.csv"
    out.write_text('{"id": "1", "keyword": "acme"}\n', encoding="utf-8")
    refused = run_cli("scan", "-c", str(DEMO), "--no-state", "-o", str(out))
    assert refused.returncode == 2
    assert b"cannot append CSV rows to" in refused.stderr and b"--format" in refused.stderr
    assert out.read_text(encoding="utf-8") == '{"id": "1", "keyword": "acme"}\n'
    fresh = tmp_path / "fresh.csv"
    for _ in range(2):
        assert run_cli("scan", "-c", str(DEMO), "--no-state", "-o", str(fresh)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(fresh.read_text(encoding="utf-8"))))
    assert len(rows) > 1 and all(row["keyword"] for row in rows)


def test_json_lines_are_not_appended_to_a_csv_of_mentions(tmp_path: Path) -> None:
    out = tmp_path / "old.log"
    assert run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "csv", "-o", str(out)).returncode == 0
    before = out.read_bytes()
    refused = run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "jsonl", "-o", str(out))
    assert refused.returncode == 2 and b"it is a CSV of mentions" in refused.stderr
    assert out.read_bytes() == before


def test_output_dash_is_stdout(tmp_path: Path) -> None:
    result = run_cli("scan", "-c", str(DEMO), "--no-state", "-o", "-", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.count(b"\n") > 1
    assert not (tmp_path / "-").exists()


def test_cli_json_output_appended_twice_is_still_one_array(tmp_path: Path) -> None:
    """`-o FILE` appends: a second array after the first broke the file for every JSON
    reader, and a cron job's second run did that."""
    out = tmp_path / "mentions.json"
    first = run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "json", "-o", str(out))
    assert first.returncode == 0, first.stderr
    count = len(json.loads(out.read_text()))
    assert count > 0
    assert run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "json", "-o", str(out)).returncode == 0
    records = json.loads(out.read_text())
    assert len(records) == 2 * count
    assert sorted(r["id"] for r in records[:count]) == sorted(r["id"] for r in records[count:])
    empty = tmp_path / "empty.json"
    empty.write_text("[]\n")
    assert run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "json", "-o", str(empty)).returncode == 0
    assert len(json.loads(empty.read_text())) == count
    other = tmp_path / "other.json"
    other.write_text('{"not": "an array"}\n')
    refused = run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "json", "-o", str(other))
    assert refused.returncode == 2
    assert b"cannot append a JSON array to" in refused.stderr
    assert other.read_text() == '{"not": "an array"}\n'


def test_a_json_array_with_nothing_new_stays_valid(tmp_path: Path) -> None:
    from mentions.output import reopen_json_array

    out = tmp_path / "m.json"
    out.write_text('[\n{"id": 1}\n]\n' + " " * 5000 + "\n")
    continues = reopen_json_array(out)
    with out.open("a", encoding="utf-8") as stream:
        JsonArrayWriter(stream, continues=continues).close()
    assert json.loads(out.read_text()) == [{"id": 1}]


def test_cli_table_in_a_pipe_is_plain_and_summary_goes_to_stderr() -> None:
    result = run_cli("scan", "-c", str(DEMO), "--no-state", "--format", "table", "--progress",
                     env={"COLUMNS": "80"})
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "\x1b" not in out
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "*Acme*" in out
    err = result.stderr.decode()
    assert "[5/5]" in err and "5 sources ok, 0 failed, 20 new mentions in" in err
    assert "sources ok" not in out


def test_cli_is_silent_on_stderr_under_cron() -> None:
    result = run_cli("scan", "-c", str(DEMO), "--no-state")
    assert result.returncode == 0 and result.stderr == b""
    assert len(result.stdout.splitlines()) == 20  # jsonl by default in a pipe


def _table_with(env: dict[str, str]) -> bytes:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run(
        [sys.executable, "-m", "mentions", "scan", "-c", str(DEMO), "--no-state", "--format", "table"],
        capture_output=True, env=environment, timeout=60, check=True,
    ).stdout


def test_cli_force_color_colours_the_table_and_no_color_wins() -> None:
    colour = re.compile(rb"\x1b\[[0-9;]*(?<![0-9])3[0-9]m")
    assert colour.search(_table_with({"FORCE_COLOR": "1"}))
    both = _table_with({"FORCE_COLOR": "1", "NO_COLOR": "1"})
    # SPEC: NO_COLOR gets no control codes at all; the hits stay marked in plain text.
    assert b"\x1b" not in both and b"*Globex*" in both


FULL_DISK = Path("/dev/full")  # every write fails with ENOSPC, as on a full disk


def scan_redirected(state: Path, redirect: str) -> subprocess.CompletedProcess[bytes]:
    """The demo scan with the shell's `redirect` applied to it (`>/dev/full`, `>&-`)."""
    command = f"exec {sys.executable} -m mentions scan -c {DEMO} --state {state} --format jsonl {redirect}"
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    return subprocess.run(["sh", "-c", command], capture_output=True, env=environment, timeout=60, check=False)


@pytest.mark.skipif(not FULL_DISK.exists(), reason="needs /dev/full")
@pytest.mark.parametrize(("where", "redirect"), [("standard output", ">/dev/full"), ("/dev/full", "-o /dev/full")])
def test_a_full_disk_is_one_sentence_and_nothing_unwritten_is_recorded(
    tmp_path: Path, where: str, redirect: str
) -> None:
    """A scan whose output cannot be written names that output and the reason, exits 2, and
    records nothing it did not write: the next scan reports every mention."""
    state = tmp_path / "s.db"
    failed = scan_redirected(state, redirect)
    assert failed.returncode == 2
    assert failed.stderr.decode() == f"mentions: cannot write to {where}: No space left on device\n"
    after = run_cli("scan", "-c", str(DEMO), "--state", str(state), "--format", "jsonl")
    assert after.returncode == 0
    assert len(after.stdout.splitlines()) == 20  # everything the demo finds, none lost


def test_a_closed_stdout_is_an_error_and_the_state_file_stays_intact(tmp_path: Path) -> None:
    """`mentions scan >&-`: the state database must not land on descriptor 1 and receive the
    JSON lines; the scan says stdout is closed and records nothing."""
    state = tmp_path / "s.db"
    closed = scan_redirected(state, ">&-")
    assert closed.returncode == 2
    assert closed.stderr.decode() == "mentions: cannot write to standard output: it is closed\n"
    check = run_cli("history", "-c", str(DEMO), "--state", str(state), "--format", "jsonl")
    assert check.returncode == 0 and check.stdout == b""
    after = run_cli("scan", "-c", str(DEMO), "--state", str(state), "--format", "jsonl")
    assert len(after.stdout.splitlines()) == 20


def _big_feed_config(tmp_path: Path, site: LocalSite, items: int = 2000, name: str = "big") -> Path:
    from tests.state_helpers import Item, rss, write_config

    entries = [Item(f"Acme {name} {n}", f"Acme item {n} " + "lorem ipsum " * 40, f"http://x.org/{name}/{n}")
               for n in range(items)]
    return write_config(tmp_path, {name: site.add(f"/{name}", rss(entries), content_type="application/rss+xml")})


def _environment(is_unbuffered: bool) -> dict[str, str]:
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    environment.pop("PYTHONUNBUFFERED", None)
    if is_unbuffered:
        environment["PYTHONUNBUFFERED"] = "1"
    return environment


@pytest.mark.parametrize("is_unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_table_whose_reader_leaves_while_it_is_written_records_nothing(
    tmp_path: Path, site: LocalSite, is_unbuffered: bool
) -> None:
    """SPEC: mentions not written are not recorded. A table larger than the pipe is written
    in one go at the end; when the reader left during that write (`| head -c 10`) with
    PYTHONUNBUFFERED set, Python counted the part that got into the pipe as written and
    dropped the rest without an error, and the scan recorded all its mentions as reported."""
    config = _big_feed_config(tmp_path, site)
    process = subprocess.Popen(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "table"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment(is_unbuffered),
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)  # the table has begun: most of it is still to be written
    process.stdout.close()  # like `head -c 10`
    assert process.wait(timeout=120) == 0
    with process.stderr:
        assert process.stderr.read() == b""
    history = run_cli("history", "-c", str(config), "--format", "jsonl")
    assert (history.returncode, history.stdout) == (0, b"")
    after = run_cli("scan", "-c", str(config), "--format", "jsonl")
    assert len(after.stdout.splitlines()) == 2000  # every mention reported again, none lost


@pytest.mark.parametrize("is_unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_full_non_blocking_pipe_records_only_the_lines_it_took(
    tmp_path: Path, site: LocalSite, is_unbuffered: bool
) -> None:
    """Into a non-blocking pipe nobody reads yet, the scan stops when the pipe is full
    (exit 2, one sentence) and records exactly the lines in it. With PYTHONUNBUFFERED, the
    rest was dropped without an error and recorded (2,840 of 3,000 lost for good)."""
    config = _big_feed_config(tmp_path, site)
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl"],
            stdout=writer, stderr=subprocess.PIPE, env=_environment(is_unbuffered), timeout=120, check=False,
        )
    finally:
        os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        written = pipe.read().splitlines()
    assert result.returncode == 2
    assert b"cannot write to standard output" in result.stderr
    assert all(json.loads(line)["keyword"] == "acme" for line in written)  # whole lines only
    history = run_cli("history", "-c", str(config), "--format", "jsonl")
    assert len(history.stdout.splitlines()) == len(written) < 2000
    after = run_cli("scan", "-c", str(config), "--format", "jsonl")
    assert len(after.stdout.splitlines()) == 2000 - len(written)


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For a child: writes past `limit` bytes fail with EFBIG after the part that fits, as on
    a disk that fills up mid-line (without a disk to fill)."""
    def limit_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_files


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".json"])
def test_a_disk_full_mid_line_leaves_whole_lines_and_the_next_run_completes_the_file(
    tmp_path: Path, site: LocalSite, suffix: str
) -> None:
    """A full disk took part of a line: it stayed in the file, the next run's line was glued
    to it, and a JSON array could never be continued. The file is cut back to its last whole
    line; the next run appends the rest, and every mention has exactly one readable line."""
    output = tmp_path / f"out{suffix}"
    (tmp_path / "earlier").mkdir()
    (tmp_path / "now").mkdir()
    earlier = _big_feed_config(tmp_path / "earlier", site, items=2000, name="earlier")
    assert run_cli("scan", "-c", str(earlier), "-o", str(output)).returncode == 0
    config = _big_feed_config(tmp_path / "now", site, items=300, name="now")
    command = [sys.executable, "-m", "mentions", "scan", "-c", str(config), "-o", str(output)]
    # Room for about a third of this run's lines; the state (small, in its own file) fits.
    limit = output.stat().st_size + 60_000
    full = subprocess.run(command, capture_output=True, env=_environment(False), timeout=120, check=False,
                          preexec_fn=_file_size_limit(limit))
    assert full.returncode == 2 and f"cannot write to {output}".encode() in full.stderr, full.stderr
    assert output.read_bytes().endswith(b"}" if suffix == ".json" else b"\n")  # no part of a line
    recorded = len(run_cli("history", "-c", str(config), "--format", "jsonl").stdout.splitlines())
    assert 0 < recorded < 300
    rerun = subprocess.run(command, capture_output=True, env=_environment(False), timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    text = output.read_text(encoding="utf-8")
    if suffix == ".jsonl":
        titles = [json.loads(line)["title"] for line in text.splitlines()]
    elif suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert all(len(row) == len(CSV_COLUMNS) for row in rows)
        titles = [row[CSV_COLUMNS.index("title")] for row in rows[1:]]
    else:
        titles = [record["title"] for record in json.loads(text)]
    assert sorted(title for title in titles if "now" in title) == sorted(f"Acme now {n}" for n in range(300))
    assert len(titles) == 2300


@pytest.fixture(scope="module")
def scanned_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state holding the demo's mentions, for the commands that read one."""
    state = tmp_path_factory.mktemp("scanned") / "s.db"
    assert run_cli("scan", "-c", str(DEMO), "--state", str(state), "--format", "jsonl").returncode == 0
    return state


def into_closed_pipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """`mentions ARGS | true` with the reader gone before the first write: every write fails."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "mentions", *args], stdout=writer, stderr=subprocess.PIPE,
            env=env or dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1"), timeout=60, check=False,
        )
    finally:
        os.close(writer)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["scan", "--help"],
        ["schema"],
        ["sources", "-c", str(DEMO), "--state", "{state}"],
        ["report", "-c", str(DEMO), "--state", "{state}"],
        ["history", "-c", str(DEMO), "--state", "{state}", "--format", "table"],
        ["init", "--list-presets"],
        ["test-source", "-c", str(DEMO), "laufblog"],
        ["match", "-e", "acme", "--format", "table", str(REPO / "examples" / "demo" / "support-notes.txt")],
    ],
    ids=lambda args: " ".join(arg for arg in args if not arg.startswith(("/", "{"))),
)
def test_a_closed_pipe_ends_every_command_quietly_with_exit_0(args: list[str], scanned_state: Path) -> None:
    """SPEC: `mentions … | head -1` ends with exit 0 and nothing on stderr. Typer (help) and
    Rich (tables) catch the closed pipe before `mentions` does and used to exit 1."""
    closed = into_closed_pipe(*(arg.replace("{state}", str(scanned_state)) for arg in args))
    assert (closed.returncode, closed.stderr) == (0, b"")


@pytest.mark.parametrize("is_buffered", [True, False], ids=["buffered", "PYTHONUNBUFFERED"])
def test_version_into_a_closed_pipe_ends_quietly(is_buffered: bool) -> None:
    """`mentions --version | true` answers before the app loads; it printed a traceback (or,
    with buffered output, an "Exception ignored" and exit 120)."""
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    environment.pop("PYTHONUNBUFFERED", None)
    if not is_buffered:
        environment["PYTHONUNBUFFERED"] = "1"
    closed = into_closed_pipe("--version", env=environment)
    assert (closed.returncode, closed.stderr) == (0, b"")


@pytest.mark.skipif(not FULL_DISK.exists(), reason="needs /dev/full")
def test_version_into_a_full_disk_is_one_sentence() -> None:
    command = f"exec {sys.executable} -m mentions --version >/dev/full"
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    failed = subprocess.run(["sh", "-c", command], capture_output=True, env=environment, timeout=60, check=False)
    assert failed.returncode == 2
    assert failed.stderr.decode() == "mentions: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_locale_that_is_not_utf8_still_gets_every_line_in_utf8(encoding: str) -> None:
    """In a C or latin-1 locale the first `…` of a snippet raised UnicodeEncodeError: every
    scan ended in an internal error with nothing written. JSON Lines are UTF-8 whatever the
    locale (SPEC)."""
    scanned = run_cli("scan", "-c", str(DEMO), "--no-state", env={"PYTHONIOENCODING": encoding})
    assert (scanned.returncode, scanned.stderr) == (0, b"")
    records = [json.loads(line) for line in scanned.stdout.decode("utf-8").splitlines()]
    assert len(records) == 20
    assert any("…" in record["snippet"] and "ü" in record["snippet"] for record in records)
    matched = run_cli("match", "-e", "Müller", stdin="Herr Müller → 5 €\n".encode(),
                      env={"PYTHONIOENCODING": encoding})
    assert matched.returncode == 0, matched.stderr
    assert json.loads(matched.stdout.decode("utf-8"))["snippet"] == "Herr Müller → 5 €"


def test_a_terminal_of_another_encoding_shows_the_table_with_what_it_can() -> None:
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", PYTHONIOENCODING="ascii",
                       COLUMNS="100")
    code, shown, stderr = run_on_terminal(["scan", "-c", str(DEMO), "--no-state"], environment)
    assert code == 0, stderr
    assert b"internal error" not in stderr
    assert shown.isascii() and b"Globex" in shown and b"Kundendienst von" in shown


def test_lines_streamed_to_the_terminal_of_the_progress_are_not_drawn_into_its_bar() -> None:
    """At a terminal, `--format jsonl` wrote the first record into the progress bar's last
    frame: on screen (and when copied) the line began with the bar's text. Per-source lines
    on stderr now tell the progress instead, each a line of its own."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    environment.update(PYTHONPATH=str(REPO), TERM="xterm", COLUMNS="120")
    code, shown, _ = run_on_terminal(["scan", "-c", str(DEMO), "--no-state", "--format", "jsonl"],
                                     environment, stderr_too=True)
    assert code == 0
    lines = shown.decode().replace("\r\n", "\n").splitlines()
    assert "\x1b" not in shown.decode()  # no cursor moves, no redrawn frames
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == 20
    others = [line for line in lines if not line.startswith("{")]
    assert [line.split("]")[0] for line in others[:-1]] == [f"mentions: [{n}/5" for n in range(1, 6)]
    assert others[-1].startswith("5 sources ok, 0 failed, 20 new mentions in")


def test_a_disk_full_mid_scan_still_alerts_what_it_wrote_and_recorded(tmp_path: Path, site: LocalSite) -> None:
    """The scan exits 2 when its output fills up; the lines written before were recorded and
    will never be new again, but their alerts were never sent."""
    from tests.receivers import HookReceiver
    from tests.state_helpers import Item, rss, write_config

    output = tmp_path / "out.jsonl"
    (tmp_path / "earlier").mkdir()
    assert run_cli("scan", "-c", str(_big_feed_config(tmp_path / "earlier", site, name="earlier")),
                   "-o", str(output)).returncode == 0
    hook = HookReceiver()
    try:
        entries = [Item(f"Acme now {n}", f"Acme item {n} " + "lorem ipsum " * 40, f"http://x.org/now/{n}")
                   for n in range(300)]
        feed = site.add("/now", rss(entries), content_type="application/rss+xml")
        config = write_config(tmp_path, {"now": feed}, extra=f"notify:\n  - {{webhook: {hook.url()}, max_items: 500}}\n")
        before = output.stat().st_size
        full = subprocess.run([sys.executable, "-m", "mentions", "scan", "-c", str(config), "-o", str(output)],
                              capture_output=True, env=_environment(False), timeout=120, check=False,
                              preexec_fn=_file_size_limit(before + 60_000))
        assert full.returncode == 2 and f"cannot write to {output}".encode() in full.stderr, full.stderr
        with output.open("rb") as lines:
            lines.seek(before)
            written = sorted(json.loads(line)["id"] for line in lines.read().splitlines())
        assert 0 < len(written) < 300
        [post] = hook.posts
        assert sorted(m["id"] for m in post.body["mentions"]) == written
    finally:
        hook.stop()
