"""How fast does the matcher go, next to the bare automaton it is built on?

    python benchmarks/bench_match.py [CORPUS] [--mb 20] [--sizes 10,1000,10000]
    python benchmarks/bench_match.py --scan 1000 [--repeat 3]

CORPUS defaults to ../shared/corpus next to the repository; the text of every
pages/*/*/expected.txt is concatenated, cut into document-sized chunks (about 20 KB,
at a line break: matching one document at a time is the real usage) and repeated up to
--mb megabytes. Keywords are generated deterministically from the corpus vocabulary: a
mix of words (`terms: [Word]`), three-word phrases, prefixes and boolean/NEAR queries.

The baseline is ahocorasick-rs alone over the same chunks, lower-cased beforehand, with
every literal of those keywords lower-cased as patterns (pyahocorasick alongside).
`--scan N` instead matches the documents a first scan of the scale benchmark's first N
sources yields (benchmarks/corpus.py; 1,000 sources: 38,653 documents of ~1.6 KB) against
its 100 keywords: what per-document and per-mention costs come to in a real scan.
Not a test: numbers depend on the machine; see benchmarks/MATCH.md.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mentions.match import KeywordRule, Matcher, parse_query  # noqa: E402
from mentions.models import Document  # noqa: E402

CHUNK = 20_000
_WORD = re.compile(r"[^\W\d_]{3,}")


def load_chunks(corpus: Path, megabytes: float) -> list[str]:
    """Document-sized pieces of the corpus text, repeated up to `megabytes`."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("pages/*/*/expected.txt"))]
    whole = "\n\n".join(texts)
    chunks: list[str] = []
    start = 0
    while start < len(whole):
        end = whole.find("\n", start + CHUNK)
        end = len(whole) if end < 0 else end
        chunks.append(whole[start:end])
        start = end + 1
    wanted = int(megabytes * 1_000_000)
    out: list[str] = []
    size = 0
    while size < wanted:
        for chunk in chunks:
            out.append(chunk)
            size += len(chunk)
            if size >= wanted:
                break
    return out


def make_rules(chunks: list[str], count: int, seed: int = 42) -> list[KeywordRule]:
    """`count` keywords: 40% words, 25% phrases, 15% prefixes, 20% boolean/NEAR queries.

    Words are drawn from the distinct words of the text (mostly rare, as brand names are);
    phrases are three consecutive words of the text; prefixes are stems of words of 8+
    letters; boolean and NEAR queries pair a drawn word with the 300 most common words.
    """
    rng = random.Random(seed)
    sample = "\n".join(chunks[:200])
    tokens = _WORD.findall(sample)
    vocabulary = sorted({token.lower() for token in tokens})
    stems = [word for word in vocabulary if len(word) >= 8]
    frequency = Counter(token.lower() for token in tokens)
    common = [word for word, _ in frequency.most_common(300)]
    rules: list[KeywordRule] = []
    for n in range(count):
        kind = n % 20
        word = rng.choice(vocabulary)
        if kind < 8:
            rules.append(KeywordRule(f"k{n}", terms=(word.capitalize(),)))
        elif kind < 13:
            at = rng.randrange(len(tokens) - 3)
            rules.append(KeywordRule(f"k{n}", query='"' + " ".join(tokens[at : at + 3]) + '"'))
        elif kind < 16:  # a stem, as in `Telekom*`: a long word without its last letters
            rules.append(KeywordRule(f"k{n}", query=rng.choice(stems)[:-2] + "*"))
        elif kind < 18:
            other, third, fourth = (rng.choice(common) for _ in range(3))
            query = f"{word} AND ({other} OR {third}) NOT {fourth}"
            rules.append(KeywordRule(f"k{n}", query=query))
        else:
            rules.append(KeywordRule(f"k{n}", query=f"{word} NEAR/5 {rng.choice(common)}"))
    return rules


def absent_rules(base: list[KeywordRule], count: int, seed: int = 7) -> list[KeywordRule]:
    """`base` plus made-up brand names up to `count` keywords: same mentions, more keywords.

    Isolates what the number of keywords costs from what more mentions cost.
    """
    rng = random.Random(seed)
    letters = "bcdfghjklmnpqrstvwxz"
    extra = [
        KeywordRule(f"x{n}", terms=("".join(rng.choice(letters) for _ in range(9)).capitalize(),))
        for n in range(count - len(base))
    ]
    return base + extra


def literals(rules: list[KeywordRule]) -> list[str]:
    """The lower-cased literal strings of the rules: the bare automaton's patterns."""
    found: set[str] = set()
    for rule in rules:
        if rule.terms:
            found.update(term.lower() for term in rule.terms)
        else:
            query = rule.query or ""
            phrases = re.findall(r'"([^"]+)"', query)
            found.update(p.lower() for p in phrases)
            rest = re.sub(r'"[^"]*"', " ", query)
            words = re.findall(r"[^\s()*]+", rest)
            found.update(w.lower() for w in words if w not in ("AND", "OR", "NOT") and "/" not in w)
    return sorted(found)


def timed(function: Callable[[], object], repeat: int = 1) -> float:
    """CPU seconds of this process (the machine is shared: wall time says more about the
    neighbours than about us), best of `repeat`."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


HEADER = (
    "keywords  parse ms  build ms  matcher MB/s  mentions  ahocorasick-rs MB/s  pyahocorasick MB/s  ratio"
)


def report(
    chunks: list[str],
    lowered: list[str],
    documents: list[Document],
    rules: list[KeywordRule],
    repeat: int = 1,
) -> tuple[float, float, int]:
    """Print one row; return the matcher's and the bare automaton's CPU seconds, and the
    number of mentions."""
    import ahocorasick
    import ahocorasick_rs

    megabytes = sum(map(len, chunks)) / 1e6
    queries = [rule.query for rule in rules if rule.query is not None]
    parse_query.cache_clear()
    parse = timed(lambda: [parse_query(query) for query in queries])
    # The config has parsed every query when it was validated: the build finds them cached.
    build = timed(lambda: Matcher(rules), repeat)
    matcher = Matcher(rules)
    mentions = 0

    def run() -> None:
        nonlocal mentions
        mentions = sum(len(matcher.match(document)) for document in documents)

    seconds = timed(run, repeat)
    patterns = literals(rules)
    automaton = ahocorasick_rs.AhoCorasick(patterns)
    raw = timed(lambda: [automaton.find_matches_as_indexes(text) for text in lowered])
    python_automaton = ahocorasick.Automaton()
    for index, pattern in enumerate(patterns):
        python_automaton.add_word(pattern, index)
    python_automaton.make_automaton()
    pyraw = timed(lambda: [list(python_automaton.iter(text)) for text in lowered])
    print(
        f"{len(rules):>8}  {parse * 1000:>8.0f}  {build * 1000:>8.0f}  {megabytes / seconds:>12.1f}"
        f"  {mentions:>8}  {megabytes / raw:>19.1f}  {megabytes / pyraw:>18.1f}  {raw / seconds:>5.2f}"
    )
    return seconds, raw, mentions


def scan_documents(sources: int) -> list[Document]:
    """The documents a first scan of the scale benchmark's first `sources` sources yields.

    The same feeds and pages as `bench.py` serves (benchmarks/corpus.py), parsed by the
    scan's own feed parser and main-text extractor: ~1.6 KB documents, most entries of
    feeds, each with a title. 1,000 sources give 38,653 documents, 62 MB.
    """
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import corpus

    from mentions.extract import main_text
    from mentions.sources.feed import parse_feed

    documents: list[Document] = []
    for index in range(sources):
        body = corpus.render(index, 0)
        url = f"http://127.0.0.1:8000{corpus.path_of(index)}"
        if body.content_type != "text/html":
            documents += parse_feed(body.data, url, f"s{index}")
            continue
        page = main_text(body.data.decode("utf-8", "replace"), url)
        if page.text or page.title:
            documents.append(
                Document(f"s{index}", "page", page.text, page.title, url, page.author, lang=page.lang)
            )
    return documents


def scan_like(sources: int, repeat: int) -> None:
    """Match the scale benchmark's 100 keywords against a scan's documents: per-document and
    per-mention costs, which 20 KB chunks hide."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import corpus

    from mentions.config import Keyword

    start = time.process_time()
    documents = scan_documents(sources)
    made = time.process_time() - start
    rules = [Keyword(**entry).rule() for entry in corpus.keywords()]
    matcher = Matcher(rules)
    megabytes = sum(len(d.title) + 1 + len(d.text) for d in documents) / 1e6
    found = 0

    def run() -> None:
        nonlocal found
        found = sum(len(matcher.match(document)) for document in documents)

    seconds = timed(run, repeat)
    print(
        f"scan-like: {sources} sources, {len(documents)} documents, {megabytes:.1f} MB"
        f" (made in {made:.0f} s), {len(rules)} keywords: {seconds:.2f} s CPU,"
        f" {len(documents) / seconds:,.0f} documents/s, {megabytes / seconds:.1f} MB/s,"
        f" {found} mentions"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--mb", type=float, default=20.0, help="megabytes of text (default 20)")
    parser.add_argument("--sizes", default="10,1000,10000", help="keyword counts")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    parser.add_argument(
        "--scan",
        type=int,
        default=0,
        metavar="SOURCES",
        help="instead: the scan-like run, the documents of this many scale-benchmark sources",
    )
    args = parser.parse_args()
    if not any(args.corpus.glob("pages/*/*/expected.txt")):
        print(f"skipped: no corpus at {args.corpus}", file=sys.stderr)
        return 0
    from mentions.match.normalize import folder

    def warm_up() -> None:  # tables, the automaton library: once per process, shared
        warm = Document(source="bench", source_type="file", text="Grüße — “warm-up” … ©")
        Matcher([KeywordRule("w", terms=("warm-up",))]).match(warm)
        folder()

    tables = timed(warm_up)
    if args.scan:
        scan_like(args.scan, args.repeat)
        return 0
    print(f"normalisation tables and imports: {tables * 1000:.0f} ms once per process")
    chunks = load_chunks(args.corpus, args.mb)
    lowered = [chunk.lower() for chunk in chunks]
    documents = [Document(source="bench", source_type="file", text=chunk) for chunk in chunks]
    megabytes = sum(map(len, chunks)) / 1e6
    print(f"{megabytes:.1f} MB in {len(chunks)} documents of ~{CHUNK // 1000} KB (CPU seconds)")
    sizes = [int(size) for size in args.sizes.split(",")]
    print("\n# mixed keywords from the corpus vocabulary (more keywords, more mentions)")
    print(HEADER)
    mixed = [report(chunks, lowered, documents, make_rules(chunks, size), args.repeat) for size in sizes]
    print("\n# the smallest set above plus absent made-up names (same mentions, more keywords)")
    print(HEADER)
    base = make_rules(chunks, sizes[0])
    scaled = [report(chunks, lowered, documents, absent_rules(base, size), args.repeat) for size in sizes]
    print()
    for size, (seconds, raw, _) in zip(sizes, mixed, strict=True):
        print(f"mixed, {size} keywords: matcher / ahocorasick-rs throughput = {raw / seconds:.2f}")
    # What more mentions cost: the mixed run minus the run with as many keywords but only
    # the smallest set's mentions, per extra mention (evaluating it, its evidence, and
    # the scan of the common words its keyword needs).
    for size, (seconds, _, mentions), (same, _, few) in zip(sizes, mixed, scaled, strict=True):
        if mentions > few:
            cost = (seconds - same) / (mentions - few) * 1e6
            print(f"mixed, {size} keywords: {cost:.0f} us CPU per mention beyond the {few}")
    if len(sizes) > 1:
        ratio = mixed[-1][0] / mixed[0][0]
        print(f"mixed: time at {sizes[-1]} keywords / time at {sizes[0]} = {ratio:.2f}x")
        ratio = scaled[-1][0] / scaled[0][0]
        print(f"absent names: time at {sizes[-1]} keywords / time at {sizes[0]} = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
