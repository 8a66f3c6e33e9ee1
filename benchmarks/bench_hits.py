"""How much of a first scan the mentions cost: the same sources with keywords that match, and
with as many keywords that match nothing, next to the floor, in one run.

The scale benchmark's 100 keywords find ~40,000 mentions in ~20,000 of its documents. A
scan with keywords that find nothing still fetches, parses and matches every byte, but
guesses no language, takes no fingerprints, records and writes nothing: the difference
is what the mentions cost, the rest is what the pipeline costs without them. Run it
through the benchmark's venv (after `bash benchmarks/run.sh` built it):

    benchmarks/.venv/bin/python benchmarks/bench_hits.py [--sources 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import corpus
import yaml
from bench import Server, child_env, commands, write_inputs
from measure import Figure, run_child

KEYWORDS = 100


def absent_keywords(count: int) -> list[dict[str, object]]:
    """Made-up names that no text contains, one term each."""
    return [{"name": f"absent-{n:03d}", "terms": [f"Xqzbrtklm{n:03d}"]} for n in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="each tool runs once per round, in turn")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mentions-hits-"))
    server = Server(args.sources)
    try:
        write_inputs(work, [server.base + corpus.path_of(index) for index in range(args.sources)])
        config = yaml.safe_load((work / "mentions.yaml").read_text())
        config["keywords"] = absent_keywords(KEYWORDS)
        (work / "absent.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        tools = commands(work)
        absent = [part.replace("mentions.yaml", "absent.yaml") for part in tools["mentions"]]
        runs = {"floor": tools["floor"], "mentions": tools["mentions"], "no-hits": absent}
        figures: dict[str, list[Figure]] = {name: [] for name in runs}
        for round_number in range(args.rounds):
            for name, argv in runs.items():
                for stale in work.glob("*.db*"):
                    stale.unlink()
                (work / "floor-validators.json").unlink(missing_ok=True)
                figure = run_child(argv, work / f"{name}.out", env=child_env(work))
                figures[name].append(figure)
                print(f"round {round_number + 1} {name:9} {figure.wall:6.2f} s wall {figure.cpu:6.2f} s cpu "
                      f"{figure.rss_mb:5.0f} MB {figure.output_lines:6} lines exit {figure.exit_code}")
        floor = min(f.wall for f in figures["floor"])
        print(f"\nbest of {args.rounds}, {args.sources} sources, {KEYWORDS} keywords")
        print(f"{'tool':9} {'wall s':>7} {'cpu s':>7} {'/ floor':>8} {'lines':>7}")
        for name, found in figures.items():
            best = min(found, key=lambda f: f.wall)
            print(f"{name:9} {best.wall:7.2f} {best.cpu:7.2f} {best.wall / floor:8.2f} {best.output_lines:7}")
        hits, quiet = (min(figures[n], key=lambda f: f.cpu) for n in ("mentions", "no-hits"))
        if hits.output_lines:
            extra = (hits.cpu - quiet.cpu) / hits.output_lines * 1e6
            print(f"CPU per mention (mentions - no-hits, per output line): {extra:.0f} us")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
