"""Requests per second of Fetcher.get against a local keep-alive server (no internet).

    PYTHONPATH=. python benchmarks/bench_fetch.py [--requests 1000] [--size 50000]

The server runs in a child process (raw asyncio, keep-alive, fixed body) so the numbers are
the client's. Compares a bare aiohttp session (the floor), a plain httpx.AsyncClient (its own
httpcore transport) and Fetcher (httpx on the aiohttp transport, with slots, deadlines and
bounded decoding), at 10 and 100 requests in flight; reports req/s and client CPU ms/request.
This script imports aiohttp first, so every row uses aiohttp's C parser; a scan uses its
Python parser (mentions/fetch/transport.py says why): AIOHTTP_NO_EXTENSIONS=1 measures that.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import multiprocessing
import os
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from mentions.config import HttpConfig
from mentions.fetch import Fetcher


def serve(port_out: multiprocessing.Queue[int], size: int, gzipped: bool, hosts: int) -> None:
    body = (b"<p>Acme " + b"x" * 90 + b"</p>\n") * (size // 100)
    extra = b""
    if gzipped:
        body, extra = gzip.compress(body), b"Content-Encoding: gzip\r\n"
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        for _ in range(hosts):  # one port per "host": a host is name:port to a client
            server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
            port_out.put(server.sockets[0].getsockname()[1])
        await asyncio.sleep(600)  # bounded: the parent terminates us long before

    asyncio.run(main())


async def run_batch(
    get: Callable[[str], Awaitable[int]], urls: list[str], n: int, in_flight: int
) -> int:
    """Run n GETs, at most in_flight at once; the number that failed."""
    gate = asyncio.Semaphore(in_flight)
    failed = 0

    async def one(i: int) -> None:
        nonlocal failed
        async with gate:
            try:
                assert await get(f"{urls[i % len(urls)]}?i={i}") > 0
            except Exception:
                failed += 1

    await asyncio.gather(*(one(i) for i in range(n)))
    return failed


async def measure(kind: str, urls: list[str], n: int, in_flight: int) -> tuple[float, float, int]:
    per_host = max(1, in_flight // len(urls))
    http = HttpConfig(concurrency=in_flight, per_host=per_host, delay=0, robots=False, timeout=120)
    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "httpx":
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(limits=limits, timeout=120) as client:

            async def get(u: str) -> int:
                return len((await client.get(u)).content)

            failed = await run_batch(get, urls, n, in_flight)
    elif kind == "aiohttp":
        connector = aiohttp.TCPConnector(limit=in_flight)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def get(u: str) -> int:
                async with session.get(u) as answer:
                    return len(await answer.read())

            failed = await run_batch(get, urls, n, in_flight)
    else:
        async with Fetcher(http) as fetcher:

            async def get(u: str) -> int:
                return len((await fetcher.get(u)).body)

            failed = await run_batch(get, urls, n, in_flight)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, cpu / n * 1000, failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--gzip", action="store_true", help="serve the body gzip-compressed")
    parser.add_argument("--rounds", type=int, default=1, help="best of N")
    parser.add_argument("--hosts", type=int, default=1, help="spread requests over N ports")
    parser.add_argument("--in-flight", type=int, nargs="+", default=[10, 100])
    parser.add_argument(
        "--clients", nargs="+", default=["aiohttp", "httpx", "fetcher"]
    )
    args = parser.parse_args()
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(ports, args.size, args.gzip, args.hosts), daemon=True
    )
    server.start()
    try:
        urls = [f"http://127.0.0.1:{ports.get(timeout=10)}/page" for _ in range(args.hosts)]
        print(
            f"{args.requests} x {args.size:,} B{' gzip' if args.gzip else ''} over "
            f"{args.hosts} host(s), python {sys.version.split()[0]}, httpx {httpx.__version__}, "
            f"best of {args.rounds}, load average before: {os.getloadavg()[0]:.1f} (2 cores)"
        )
        print(f"{'client':<16} {'in flight':>9} {'req/s':>8} {'CPU ms/req':>11} {'failed':>7}")
        for in_flight in args.in_flight:
            for kind in args.clients:
                results = [
                    asyncio.run(measure(kind, urls, args.requests, in_flight))
                    for _ in range(args.rounds)
                ]
                rate, cpu, failed = max(results)
                print(f"{kind:<16} {in_flight:>9} {rate:>8.0f} {cpu:>11.2f} {failed:>7}")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
