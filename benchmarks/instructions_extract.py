#!/usr/bin/env python3
"""Instructions per page of main-text extraction, for a machine whose load makes CPU time noisy.

Run it under cachegrind twice, with 0 and with 1 measured pass, and divide the difference by
the number of pages: what is left is one warm pass (imports, corpus loading and the warm-up
pass cancel out). Every 4th judged page of the corpus (93 pages).

  for n in 0 1; do PYTHONHASHSEED=0 PYTHONPATH=. valgrind --tool=cachegrind --cache-sim=no \\
      --cachegrind-out-file=/dev/null /tmp/venv/bin/python benchmarks/instructions_extract.py \\
      scan $n 2>&1 | grep 'I *refs'; done

Modes: scan (`main_text(html_for_parser(raw))`, as a `page:` source reads a page), text (the
judge's decode to str, then `main_text`: the method of the earlier measurements), trafilatura
(`extract(include_comments=True)` on the bytes, as the judge runs it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bench_extract import ROOT, load_judge


def extractor(mode: str, judge: object) -> Callable[[bytes], str]:
    """The function one page goes through, from its bytes to its text."""
    if mode == "trafilatura":
        return judge.EXTRACTORS["trafilatura"]  # type: ignore[attr-defined,no-any-return]
    sys.path.insert(0, str(ROOT))
    from mentions.decode import html_for_parser
    from mentions.extract import main_text

    def scan(raw: bytes) -> str:
        page = main_text(html_for_parser(raw, "text/html"))
        return page.title + "\n" + page.text

    def text(raw: bytes) -> str:
        page = main_text(judge.decode(raw))  # type: ignore[attr-defined]
        return page.title + "\n" + page.text

    return {"scan": scan, "text": text}[mode]


def main(argv: list[str]) -> int:
    mode, passes = argv[0], int(argv[1])
    judge = load_judge(ROOT.parent / "shared/tools/extract_eval.py")
    if judge is None:
        print("instructions_extract: judge not found; nothing measured")
        return 0
    pages, _ = judge.load_corpus(Path(ROOT.parent / "shared/corpus"), None, None)
    raws = [pg.raw for pg in pages if pg.pos or pg.neg][::4]
    fn = extractor(mode, judge)
    for raw in raws:  # warm-up: imports, caches, the interpreter's specialisation
        fn(raw)
    for _ in range(passes):
        for raw in raws:
            fn(raw)
    print(f"{len(raws)} pages, {passes} measured pass(es)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
