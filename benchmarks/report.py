"""The benchmark's report: figures, ratios against the targets, start-up and the profile's top."""

from __future__ import annotations

import json
import os
import platform
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench import Row


def _find(rows: list[Row], count: int, latency: int, phase: str, tool: str) -> Row | None:
    return next(
        (r for r in rows if (r.sources, r.latency_ms, r.phase, r.tool) == (count, latency, phase, tool)), None
    )


def targets(rows: list[Row], starts: dict[str, float]) -> list[tuple[str, float, float]]:
    """(target, measured ratio or MB, limit): measured <= limit means met."""
    found: list[tuple[str, float, float]] = []
    for count, latency in sorted({(r.sources, r.latency_ms) for r in rows}):
        where = f"N={count:,}, {latency} ms"
        first = _find(rows, count, latency, "first", "mentions")
        floor = _find(rows, count, latency, "first", "floor")
        urlwatch = _find(rows, count, latency, "first", "urlwatch")
        rerun = _find(rows, count, latency, "unchanged", "mentions")
        if first and floor:
            found.append((f"first scan / floor, wall ({where})", first.figure.wall / floor.figure.wall, 1.5))
        if first and urlwatch:
            found.append(
                (f"first scan / urlwatch, wall ({where})", first.figure.wall / urlwatch.figure.wall, 1.0)
            )
        if first and rerun:
            found.append(
                (f"unchanged rerun / first scan, wall ({where})", rerun.figure.wall / first.figure.wall, 0.15)
            )
    small = _find(rows, 1000, 0, "first", "mentions")
    large = _find(rows, 5000, 0, "first", "mentions")
    if small:
        found.append(("peak RSS of the first scan, N=1,000 (MB)", small.figure.rss_mb, 200))
    if small and large:
        found.append(("peak RSS N=5,000 / N=1,000", large.figure.rss_mb / small.figure.rss_mb, 1.1))
    for flag in ("--version", "--help"):
        if f"mentions {flag}" in starts:
            ratio = starts[f"mentions {flag}"] / starts[f"minimal {flag}"]
            found.append((f"start-up `mentions {flag}` / minimal Typer", ratio, 1.2))
    return found


def profile_top(path: Path, limit: int = 15) -> list[tuple[float, float, str]]:
    """(self %, total %, function) of a py-spy speedscope file, by self time, all threads together."""
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    names = [f"{frame['name']} ({_short(frame.get('file') or '')})" for frame in frames]
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            samples += weight
            own[names[stack[-1]]] += weight
            for name in {names[index] for index in stack}:
                total[name] += weight
    return [(100 * n / samples, 100 * total[name] / samples, name) for name, n in own.most_common(limit)]


def _short(file: str) -> str:
    for marker in ("site-packages/", "/lib/python3", "wt-bench/", "benchmarks/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def render_report(
    rows: list[Row],
    starts: dict[str, float],
    top: list[tuple[float, float, str]],
    started: datetime,
    command: str,
) -> str:
    """The whole report as Markdown, for the terminal and for README.md."""
    lines = [
        f"## Run of {started:%Y-%m-%d %H:%M} UTC: `{command}`",
        "",
        f"{os.cpu_count()} cores (shared), Python {platform.python_version()}, load average at the end "
        f"{os.getloadavg()[0]:.1f}. Each phase starts from the same state for every tool; wall and CPU are "
        "of the tool's process alone (`os.wait4`), `server CPU` is what the corpus server spent meanwhile.",
        "",
        "| N | latency | phase | tool | wall s | CPU s | peak RSS MB | sources/s | lines out | exit "
        "| server CPU s |",
        "| --: | --: | --- | --- | --: | --: | --: | --: | --: | --: | --: |",
    ]
    for r in rows:
        f = r.figure
        lines.append(
            f"| {r.sources:,} | {r.latency_ms} ms | {r.phase} | {r.tool} | {f.wall:.2f} | {f.cpu:.2f} | "
            f"{f.rss_mb:.0f} | {r.sources / f.wall:,.0f} | {f.output_lines:,} | {f.exit_code} "
            f"| {r.server_cpu:.2f} |"
        )
    lines += ["", "| target | measured | limit | met |", "| --- | --: | --: | --- |"]
    for name, measured, limit in targets(rows, starts):
        lines.append(f"| {name} | {measured:.2f} | {limit:g} | {'yes' if measured <= limit else '**no**'} |")
    lines += ["", "| start-up (median of 10) | seconds |", "| --- | --: |"]
    lines += [f"| `{name}` | {seconds:.3f} |" for name, seconds in starts.items()]
    if top:
        lines += [
            "",
            "Profile of the N=1,000 first scan (py-spy --gil: the thread holding the GIL), by own time:",
            "",
            "| own % | total % | function |",
            "| --: | --: | --- |",
        ]
        lines += [f"| {own:.1f} | {total:.1f} | `{name}` |" for own, total, name in top]
    return "\n".join(lines) + "\n"
