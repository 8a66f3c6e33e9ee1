#!/usr/bin/env python3
"""Measure `mentions.extract.main_text` with the team's judge (shared/tools/extract_eval.py).

The judge builds probes from the corpus (words of the ground truth = positives, words of
boilerplate = negatives) and counts how many an extractor keeps. This script feeds it our
extractor next to trafilatura (when installed), so every heuristic change is measured.

Usage (from the repo root):
  PYTHONPATH=. python benchmarks/bench_extract.py [--judge PATH] [--corpus DIR]
      [--sets aeb,...] [--limit N] [--no-trafilatura] [--json FILE]
Exit: 0 measured; 0 with a message when the judge or the corpus is absent (nothing to do).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_judge(path: Path) -> ModuleType | None:
    """Import extract_eval.py from a path (it is a script, not an installed module)."""
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("extract_eval", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules["extract_eval"] = module  # dataclass-like helpers look themselves up
    spec.loader.exec_module(module)
    return module


def cpu_timed(fn: Callable[[bytes], str]) -> tuple[Callable[[bytes], str], list[float]]:
    """The extractor, and a cell that sums the CPU seconds it spends (the judge's pages/s is
    wall clock, which a shared, loaded machine skews; CPU time of both in one run is fairer)."""
    spent = [0.0]

    def run(raw: bytes) -> str:
        t0 = time.process_time()
        try:
            return fn(raw)
        finally:
            spent[0] += time.process_time() - t0

    return run, spent


def paired_ratio(ours: Callable[[bytes], str], anchor: Callable[[bytes], str],
                 pages: list) -> float:
    """CPU seconds of the anchor / ours, each page through both in turn: a load that comes
    and goes on a shared machine then weighs on both alike, unlike two runs one after the
    other."""
    spent = [0.0, 0.0]
    for k, pg in enumerate(pages):
        order = ((0, ours), (1, anchor)) if k % 2 == 0 else ((1, anchor), (0, ours))
        for slot, fn in order:
            t0 = time.process_time()
            with contextlib.suppress(Exception):  # the judge counts errors; here only time
                fn(pg.raw)
            spent[slot] += time.process_time() - t0
    return spent[1] / spent[0] if spent[0] else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--judge", type=Path, default=ROOT.parent / "shared/tools/extract_eval.py")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus")
    ap.add_argument("--sets", help="comma list of sets (default: all)")
    ap.add_argument("--limit", type=int, help="at most N pages per set")
    ap.add_argument("--no-trafilatura", action="store_true", help="skip the anchor (slow)")
    ap.add_argument("--json", type=Path, help="also write the numbers to this file")
    a = ap.parse_args(argv)
    judge = load_judge(a.judge)
    if judge is None:
        print(f"bench_extract: judge not found at {a.judge}; nothing measured")
        return 0
    if not (a.corpus / "pages").is_dir():
        print(f"bench_extract: no corpus at {a.corpus}; nothing measured")
        return 0
    sys.path.insert(0, str(ROOT))
    from mentions.decode import html_for_parser
    from mentions.extract import main_text

    def ours(raw: bytes) -> str:
        # as a `page:` source reads a page: UTF-8 bodies go to the parser as bytes
        page = main_text(html_for_parser(raw, "text/html"))
        return page.title + "\n" + page.text

    pages, skipped = judge.load_corpus(a.corpus, a.sets.split(",") if a.sets else None, a.limit)
    ours_timed, ours_cpu = cpu_timed(ours)
    runs = [judge.evaluate_extractor("mentions", ours_timed, pages)]
    cpu = {"mentions": ours_cpu}
    if not a.no_trafilatura:
        try:
            judge.EXTRACTORS["trafilatura"](b"<html><body><p>warm up</p></body></html>")
        except ImportError:
            print("bench_extract: trafilatura not installed; anchor skipped", file=sys.stderr)
        else:
            traf_timed, cpu["trafilatura"] = cpu_timed(judge.EXTRACTORS["trafilatura"])
            runs.append(judge.evaluate_extractor("trafilatura", traf_timed, pages))
    judge.print_report(a.corpus, pages, skipped, runs, show_pages=True)
    rates = {run["extractor"]: run["pages"] / cpu[run["extractor"]][0] for run in runs
             if cpu[run["extractor"]][0] > 0}
    for run in runs:
        run["cpu_pages_per_s"] = round(rates.get(run["extractor"], 0.0), 1)
    line = ", ".join(f"{name} {rate:.1f}" for name, rate in rates.items())
    if "trafilatura" in rates:
        line += f"; ratio {rates['mentions'] / rates['trafilatura']:.1f}x"
    print(f"\nCPU pages/s (time.process_time, same run): {line}")
    if "trafilatura" in rates:
        ratio = paired_ratio(ours, judge.EXTRACTORS["trafilatura"], pages[::2])
        runs[0]["paired_cpu_ratio"] = round(ratio, 2)
        print(f"paired CPU ratio (each of every 2nd page through both, alternating): {ratio:.1f}x")
    if a.json:
        a.json.write_text(json.dumps(runs, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
