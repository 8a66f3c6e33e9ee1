"""How one child process is measured: wall time, CPU time and peak memory of that child alone.

`os.wait4` returns the resource usage of exactly the process waited for, so neither the
corpus server nor earlier children leak into a figure (RUSAGE_CHILDREN's ru_maxrss would be
the largest of all children so far).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Figure:
    """One run of one tool."""

    wall: float  # seconds
    cpu: float  # user + sys seconds of the child
    rss_mb: float  # peak resident set of the child
    exit_code: int
    output_lines: int


def run_child(
    argv: list[str], output: Path, env: dict[str, str] | None = None, timeout: float = 3600
) -> Figure:
    """Run `argv` with stdout to `output` (stderr beside it); measure it."""
    with output.open("wb") as out, output.with_suffix(".stderr").open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
            time.sleep(0.01)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    with output.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return Figure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, lines)


def median_start_seconds(commands: dict[str, list[str]], runs: int = 10) -> dict[str, float]:
    """Median wall time of each command; hyperfine when installed, else a plain loop.

    The commands run interleaved in the loop, so machine noise hits them alike.
    """
    if shutil.which("hyperfine"):
        return _hyperfine(commands, runs)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(2):  # warm the file cache
        for argv in commands.values():
            subprocess.run(argv, capture_output=True, check=False)
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _hyperfine(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    import json
    import shlex
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "hyperfine.json"
        argv = ["hyperfine", "-N", "--style", "none", "--warmup", "2", "--runs", str(runs)]
        argv += ["--export-json", str(report)]
        for name, command in commands.items():
            argv += ["-n", name, shlex.join(command)]
        subprocess.run(argv, capture_output=True, check=True)
        results = json.loads(report.read_text())["results"]
    return {result["command"]: result["median"] for result in results}
