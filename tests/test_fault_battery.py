"""One real `mentions scan` against every misbehaviour at once, next to healthy feeds.

Asserts per source: mentions from the healthy ones, the failure reason named on stderr for
the others; no traceback; exit 1; wall time within the bound that follows from the config;
peak RSS of the scan process bounded (os.wait4 gives that one child's rusage).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from tests.conftest import REPO
from tests.faultserver import FaultServer

TIMEOUT = 2.0
RETRIES = 1
# request_bound for this config: robots + every attempt + the waits between them
REQUEST_BOUND = TIMEOUT * (RETRIES + 2) + RETRIES * TIMEOUT + 1.0
PEAK_RSS_LIMIT = 300 * 1024 * 1024  # bytes; a gzip bomb read whole would be 1 GiB

# name -> (path, robots mode)
HEALTHY = {
    "ok-plain": ("/feed/plain", "none"),
    "ok-gzip": ("/gzip-ok", "none"),
    "ok-gzip-twice": ("/gzip-twice-ok", "none"),
    "ok-deflate-raw": ("/deflate-raw", "none"),
    "ok-deflate-zlib": ("/deflate-zlib", "none"),
    "ok-http10": ("/http10", "none"),
    "ok-redirects": ("/chain/3", "none"),
    "ok-relative-redirect": ("/relative/a/b", "none"),
    "ok-wrong-type": ("/wrong-type", "none"),
    "ok-robots-404": ("/feed/robots-404", "missing"),
    "ok-after-503": ("/flaky/503/1?k={k}", "none"),
    "ok-after-reset": ("/flaky-reset?k={k}", "none"),
    "ok-after-429": ("/429/1?k={k}", "none"),
}
# name -> (path, robots mode, reason named on stderr)
FAILING = {
    "drip": ("/drip", "none", "timeout"),
    "drip-headers": ("/drip-headers", "none", "timeout"),
    "hang-headers": ("/hang-headers", "none", "timeout"),
    "hang-body": ("/hang-body", "none", "timeout"),
    "reset": ("/reset", "none", "connection failed"),
    "reset-mid-body": ("/reset-mid-body", "none", "connection failed"),
    "short": ("/short", "none", "protocol error"),
    "close-early": ("/close-before-headers", "none", "protocol error"),
    "http-500": ("/always/500", "none", "http status"),
    "http-404": ("/always/404", "none", "http status"),
    "rate-limited-day": ("/429/86400?k={k}", "none", "rate-limited"),
    "rate-limited-date": ("/429-date/tomorrow?k={k}", "none", "rate-limited"),
    "redirect-loop": ("/loop/a", "none", "redirect"),
    "redirect-11": ("/chain/11", "none", "redirect"),
    "redirect-ftp": ("/to-ftp", "none", "redirect"),
    "redirect-no-url": ("/to-bad-url", "none", "redirect"),
    "gzip-bomb": ("/gzip-bomb", "none", "too large"),
    "double-gzip": ("/double-gzip", "none", "too large"),
    "bad-gzip": ("/bad-gzip", "none", "invalid compression"),
    "truncated-gzip": ("/truncated-gzip", "none", "invalid compression"),
    "brotli-unasked": ("/brotli", "none", "invalid compression"),
    "huge": ("/huge", "none", "too large"),
    "huge-chunked": ("/huge-chunked", "none", "too large"),
    "chunked-garbage": ("/chunked-garbage", "none", "protocol error"),
    "empty": ("/empty", "none", "empty response"),
    "html-for-feed": ("/html-for-feed", "none", "not a feed"),
    "cloudflare-403": ("/cf-403", "none", "bot challenge"),
    "cloudflare-503": ("/cf-503", "none", "bot challenge"),
    "ddos-guard": ("/ddos-guard", "none", "bot challenge"),
    "captcha": ("/captcha", "none", "bot challenge"),
    "robots-disallow": ("/feed", "disallow", "robots.txt"),
    "robots-500": ("/feed", "error", "robots.txt"),
    "robots-hang": ("/feed", "hang", "robots.txt"),
    "long-header": ("/long-header", "none", "protocol error"),
    "garbage": ("/garbage", "none", "protocol error"),
    "nothing-listening": ("http://127.0.0.1:9/feed", "", "connection failed"),
    "tls-to-plain": ("https://127.0.0.1:{port}/feed", "", "connection failed"),
}


def _config(server: FaultServer, path: Path) -> Path:
    key = uuid.uuid4().hex
    lines = [
        "version: 1",
        "http:",
        f"  timeout: {TIMEOUT}",
        f"  retries: {RETRIES}",
        "  delay: 0",
        "  per_host: 8",
        "  concurrency: 32",
        "  max_bytes: 1MB",
        "keywords:",
        "  - name: acme",
        "    terms: [Acme]",
        "sources:",
    ]
    everything = {name: (p, mode) for name, (p, mode) in HEALTHY.items()}
    everything.update({name: (p, mode) for name, (p, mode, _) in FAILING.items()})
    for name, (location, mode) in everything.items():
        location = location.format(k=key, port=server.ports["none"])
        url = location if location.startswith("http") else server.url(location, mode)
        lines += [f"  - name: {name}", f"    feed: '{url}'"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _run_measured(args: list[str], cwd: Path, limit: float) -> tuple[int, str, str, float, int]:
    """Run a child; (exit code, stdout, stderr, wall seconds, peak RSS bytes of that child)."""
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(args, cwd=cwd, stdout=stdout, stderr=stderr, env=env)
        watchdog = threading.Timer(limit, child.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            watchdog.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped by us, not by Popen
    wall = time.monotonic() - started
    return child.returncode, out.read_text(), err.read_text(), wall, usage.ru_maxrss * 1024


def test_fault_battery(fault_server: FaultServer, tmp_path: Path) -> None:
    config = _config(fault_server, tmp_path / "battery.yaml")
    bound = 3 * REQUEST_BOUND + 10  # a few rounds of queueing for slots, plus start-up
    code, stdout, stderr, wall, peak = _run_measured(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--no-state",
         "--format", "jsonl", "-v"],
        tmp_path,
        limit=bound + 30,
    )
    record = f"fault battery: exit {code}, wall {wall:.1f} s (bound {bound:.0f} s), peak RSS {peak / 2**20:.0f} MiB"
    print(record)  # pytest -s shows it; benchmarks/FETCH.md records it

    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr[-3000:]
    assert code == 1, stderr[-3000:]
    mentions = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    sources_with_mentions = {m["source"] for m in mentions}
    assert sources_with_mentions == set(HEALTHY), stderr[-3000:]
    for name, (_, _, reason) in FAILING.items():
        lines = [line for line in stderr.splitlines() if f"source '{name}' failed" in line]
        assert lines, f"{name}: not named on stderr\n{stderr[-3000:]}"
        assert f"failed: {reason}" in lines[0], f"{name}: {lines[0]}"
    for name in HEALTHY:
        assert f"source '{name}' failed" not in stderr
    assert "s3cret" not in stderr
    assert wall < bound, record
    assert peak < PEAK_RSS_LIMIT, record
