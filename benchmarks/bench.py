"""The scale benchmark: `mentions scan` against its floor and urlwatch, in one run.

The machine is shared and noisy, so every target is a ratio against a baseline measured in
the same run, and the tools take turns within each phase so that noise hits them alike.
Per size N and latency: a corpus server starts (a separate process), then three phases run
for each tool, each with a fresh state: a first scan, an unchanged rerun, and a rerun after
10 % of the sources changed. Start-up is timed apart, and one extra first scan of 1,000
sources runs under py-spy for the profile.

Run it through run.sh (which builds benchmarks/.venv): bash benchmarks/run.sh [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import corpus
import yaml
from measure import Figure, median_start_seconds, run_child
from report import profile_top, render_report

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
RESULTS = HERE / ".results"
CONCURRENCY = 32  # the default of `http.concurrency`, used by the floor too
PHASES = ("first", "unchanged", "changed")


@dataclass(frozen=True, slots=True)
class Row:
    """One tool in one phase of one scenario."""

    sources: int
    latency_ms: int
    phase: str
    tool: str
    figure: Figure
    server_cpu: float  # CPU seconds the corpus server spent meanwhile: is it a bottleneck?


class Server:
    """The corpus server process, and its control URLs."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "server.py"), "--sources", str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        if not port:
            raise SystemExit("the corpus server did not start")
        self.base = f"http://127.0.0.1:{port}"

    def control(self, command: str) -> None:
        with urllib.request.urlopen(f"{self.base}/_control/{command}", timeout=60) as answer:
            answer.read()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def write_inputs(folder: Path, urls: list[str]) -> None:
    """The same URLs for every tool: a mentions config, a URL list, urlwatch's jobs."""
    sources = [
        {"name": f"s{index:05d}", ("page" if "/page/" in url else "feed"): url}
        for index, url in enumerate(urls)
    ]
    config = {
        "version": 1,
        # One host serves every source here; real scans spread over thousands of hosts, so the
        # per-host politeness limits are opened up to the total, which is kept at its default.
        "http": {"concurrency": CONCURRENCY, "per_host": CONCURRENCY, "delay": "0s", "timeout": 60},
        "keywords": corpus.keywords(),
        "sources": sources,
    }
    (folder / "mentions.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    (folder / "urls.txt").write_text("\n".join(urls) + "\n")
    jobs = "---\n".join(f"name: s{index:05d}\nurl: {url}\n" for index, url in enumerate(urls))
    (folder / "urlwatch-urls.yaml").write_text(jobs)


def commands(folder: Path) -> dict[str, list[str]]:
    """Each tool's command line; every file it keeps lives in `folder`."""
    return {
        "floor": [
            sys.executable,
            str(HERE / "floor.py"),
            str(folder / "urls.txt"),
            "--concurrency",
            str(CONCURRENCY),
            "--validators",
            str(folder / "floor-validators.json"),
        ],
        "mentions": [
            str(BIN / "mentions"),
            "scan",
            "-c",
            str(folder / "mentions.yaml"),
            "--state",
            str(folder / "mentions.db"),
            "--format",
            "jsonl",
        ],
        "urlwatch": [
            str(BIN / "urlwatch"),
            "--urls",
            str(folder / "urlwatch-urls.yaml"),
            "--config",
            str(folder / "urlwatch.yaml"),
            "--hooks",
            str(folder / "hooks.py"),
            "--cache",
            str(folder / "urlwatch-cache.db"),
        ],
    }


def child_env(folder: Path) -> dict[str, str]:
    """No user files: urlwatch and mentions see a home and XDG folders of their own."""
    return dict(
        os.environ,
        HOME=str(folder),
        XDG_CONFIG_HOME=str(folder / "xdg-config"),
        XDG_STATE_HOME=str(folder / "xdg-state"),
        XDG_CACHE_HOME=str(folder / "xdg-cache"),
        NO_COLOR="1",
    )


def run_scenario(server: Server, count: int, latency_ms: int, work: Path, with_urlwatch: bool) -> list[Row]:
    """Three phases, each tool in turn, fresh state for each tool."""
    folder = work / f"n{count}-latency{latency_ms}"
    folder.mkdir(parents=True)
    server.control(f"latency?ms={latency_ms}")
    write_inputs(folder, [server.base + corpus.path_of(index) for index in range(count)])
    tools = commands(folder)
    if not with_urlwatch:
        del tools["urlwatch"]
    rows = []
    for phase in PHASES:
        if phase == "changed":
            server.control("change?percent=10")
        for tool, argv in tools.items():
            before = server.cpu_seconds()
            figure = run_child(argv, folder / f"{tool}-{phase}.out", env=child_env(folder))
            rows.append(Row(count, latency_ms, phase, tool, figure, server.cpu_seconds() - before))
            print(
                f"  n={count} latency={latency_ms}ms {phase:9} {tool:8} {figure.wall:7.2f} s wall "
                f"{figure.cpu:7.2f} s cpu {figure.rss_mb:6.0f} MB exit {figure.exit_code}",
                file=sys.stderr,
            )
    return rows


def profile_scan(server: Server, work: Path) -> Path | None:
    """A first scan of the same sources under py-spy (speedscope format), or None if py-spy fails."""
    folder = work / "profile"
    folder.mkdir()
    server.control("latency?ms=0")
    write_inputs(folder, [server.base + corpus.path_of(index) for index in range(server.count)])
    output = RESULTS / "profile.speedscope.json"
    # --gil: parsing runs in six worker threads that mostly wait for the GIL; only the
    # thread holding it is doing the work that costs time.
    argv = [str(BIN / "py-spy"), "record", "--gil", "--format", "speedscope", "--rate", "100"]
    argv += ["-o", str(output), "--"]
    argv += commands(folder)["mentions"]
    figure = run_child(argv, folder / "profile.out", env=child_env(folder))
    return output if figure.exit_code in (0, 1) and output.exists() else None


def startup() -> dict[str, float]:
    """Median start-up seconds of `mentions` and of a minimal Typer app on the same Typer/Rich."""
    minimal = [sys.executable, str(HERE / "minimal_typer.py")]
    return median_start_seconds(
        {
            "mentions --version": [str(BIN / "mentions"), "--version"],
            "minimal --version": [*minimal, "--version"],
            "mentions --help": [str(BIN / "mentions"), "--help"],
            "minimal --help": [*minimal, "--help"],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 sources without latency only")
    parser.add_argument("--sizes", default="1000,5000", help="numbers of sources (default 1000,5000)")
    parser.add_argument("--latencies", default="0,50", help="per-answer latencies in ms at N=1,000")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy run")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configs, outputs, states)")
    args = parser.parse_args()
    sizes = [1000] if args.quick else [int(size) for size in args.sizes.split(",")]
    latencies = [0] if args.quick else [int(ms) for ms in args.latencies.split(",")]
    RESULTS.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mentions-bench-"))
    started = datetime.now(UTC)
    rows: list[Row] = []
    profile = None
    try:
        print("start-up ...", file=sys.stderr)
        starts = startup()
        for count in sizes:
            print(f"rendering {count} sources ...", file=sys.stderr)
            server = Server(count)
            try:
                # Latency only where urlwatch runs too: larger N test memory and throughput.
                for latency in latencies if count == 1000 else [0]:
                    rows += run_scenario(server, count, latency, work, with_urlwatch=count == 1000)
                if count == 1000 and not args.no_profile:
                    print("profiling a first scan under py-spy ...", file=sys.stderr)
                    profile = profile_scan(server, work)
            finally:
                server.stop()
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    top = profile_top(profile) if profile else []
    command = "bash benchmarks/run.sh" + (" --quick" if args.quick else "")
    text = render_report(rows, starts, top, started, command)
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / "latest.json").write_text(
        json.dumps(
            {"started": started.isoformat(), "rows": [asdict(row) for row in rows], "startup": starts},
            indent=1,
        )
    )
    print(text)


if __name__ == "__main__":
    main()
