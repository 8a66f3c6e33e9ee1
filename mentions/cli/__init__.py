"""The command-line interface: the entry point and the last error boundary.

Expected errors become one sentence on stderr and the exit code of the spec; nothing below
prints errors or exits. The Typer app (`wiring.py`) and every command module load only when a
command runs: `mentions --version` answers before any of them is imported (cron wrappers and
shell prompts call it often).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any, NoReturn

from mentions import __version__
from mentions.errors import OutputError
from mentions.streams import discard_unwritten_output, is_reader_gone, prepare_standard_streams


def __getattr__(name: str) -> Any:
    # `from mentions.cli import app` (tests, embedding) still works, importing it on first use.
    if name == "app":
        from mentions.cli.wiring import app

        return app
    raise AttributeError(name)


def main() -> None:
    """Entry point of the `mentions` script: the last error boundary."""
    # `timeout`, systemd and container runtimes stop a job with SIGTERM: end like Ctrl-C
    # does, through every `finally` (the state commits what was written), not mid-step.
    signal.signal(signal.SIGTERM, _terminated)
    prepare_standard_streams()
    try:
        if sys.argv[1:] == ["--version"]:
            print(f"mentions {__version__}")
            sys.stdout.flush()
            return
        from mentions.cli.wiring import app

        try:
            app()
        except SystemExit as stop:
            if stop.code not in (EXIT_INTERRUPTED, EXIT_TERMINATED):
                # What stdout still buffers is written here, inside this boundary: left to the
                # interpreter's exit, a closed pipe or a full disk would print a traceback.
                sys.stdout.flush()
            raise
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, _exit_now)  # a second Ctrl-C while exiting: out, quietly
        _leave(EXIT_INTERRUPTED)
    except SystemExit as stop:
        if stop.code in (EXIT_INTERRUPTED, EXIT_TERMINATED):  # Typer turns Ctrl-C into Exit(130)
            _leave(stop.code)
        if is_reader_gone():
            # Typer (`--help`) and Rich (tables) meet a closed pipe before we do and exit 1.
            _end_quietly()
        raise
    except BrokenPipeError:
        _end_quietly()
    except OutputError as error:
        # Mentions not written were not recorded: the next run reports them.
        sys.stderr.write(f"mentions: {error}\n")
        discard_unwritten_output()
        sys.exit(2)
    except Exception as error:
        # Every expected failure is handled below this line with its own sentence; reaching
        # here is a bug in mentions. One line for the user, the traceback only on request.
        if os.environ.get("MENTIONS_DEBUG"):
            raise
        detail = " ".join(str(error).split())[:200]
        sys.stderr.write(
            f"mentions: internal error ({type(error).__name__}: {detail}); "
            "please report it, and set MENTIONS_DEBUG=1 to see where it happened\n"
        )
        sys.exit(2)


EXIT_INTERRUPTED = 128 + signal.SIGINT  # Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # what a shell reports for a job that SIGTERM ended


# `timeout` sends its second SIGTERM right after the first; one later than this is a new request.
TWIN_SIGTERM_SECONDS = 1.0
_terminated_at: float | None = None  # time.monotonic() of the first SIGTERM


def _terminated(signum: int, frame: object) -> None:
    # `timeout` signals the scan, then its whole group: the scan gets SIGTERM twice. A second
    # SystemExit raised mid clean-up (say, while waiting for the worker processes) would cut
    # that clean-up short; one request to stop is enough.
    global _terminated_at
    _terminated_at = time.monotonic()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(EXIT_TERMINATED)


def exit_on_second_interrupt() -> None:
    """From now on, the first Ctrl-C stops the running scan as asyncio does (its task is
    cancelled, every `finally` runs), and a second one ends the process at once, quietly.

    Call it inside the coroutine that `asyncio.run` runs, where asyncio's own handler is set.
    Without it, a second Ctrl-C raised KeyboardInterrupt wherever the clean-up was (joining
    the worker pool's threads, say): a traceback (3 of 12 tries) or a scan that hung.
    What the last second wrote may then be reported again by the next run, never lost.
    """
    first = signal.getsignal(signal.SIGINT)
    if not callable(first):
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, _exit_now)
        first(signum, frame)

    signal.signal(signal.SIGINT, on_interrupt)


class Stopping:
    """The exit code of a stop (Ctrl-C, SIGTERM) that came while the alerts went, else None."""

    def __init__(self) -> None:
        self.code: int | None = None


@contextlib.contextmanager
def sending_alerts(*, is_stopping: bool) -> Iterator[Stopping]:
    """Within, the alerts go: a first Ctrl-C or SIGTERM lets them finish (its exit code is
    kept in what this yields), a second ends the process at once and says they are lost.

    The mentions they announce are recorded and will never be new again: their alerts go now
    or never, each within its notifier's timeout. `is_stopping`: a stop came before (the
    scan was stopped), so the next one is the second. The twin of the SIGTERM that stopped
    the scan (`timeout` signals the scan, then its group) is no second request: ignored.
    """
    stopping = Stopping()

    def on_stop(signum: int, frame: object) -> None:
        global _terminated_at
        first = _terminated_at
        if signum == signal.SIGTERM and first is not None and time.monotonic() - first < TWIN_SIGTERM_SECONDS:
            return
        if is_stopping or stopping.code is not None:
            with contextlib.suppress(OSError):  # os.write: the interrupted code may be mid-print
                os.write(2, b"mentions: stopped at once: the alerts not sent yet are lost\n")
            _exit_at_once(128 + signum)
        stopping.code = 128 + signum
        if signum == signal.SIGTERM:
            _terminated_at = time.monotonic()

    import threading

    if threading.current_thread() is not threading.main_thread():  # embedded: no signals here
        yield stopping
        return
    previous = {number: signal.signal(number, on_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for number, handler in previous.items():
            if handler is not None:  # None: a handler set from C, which Python cannot put back
                signal.signal(number, handler)


def _leave(code: int) -> NoReturn:
    """End an interrupted command now that its clean-up ran (what was written is recorded).

    A worker process may still be deep in one parse: a user's regex that backtracks for
    minutes, which no signal can cut short (workers ignore them, see `workers`). The
    interpreter's exit would wait for it; it is killed instead, and the exit skips that wait.
    """
    multiprocessing = sys.modules.get("multiprocessing")
    if not (multiprocessing and multiprocessing.active_children()):
        sys.exit(code)
    _exit_at_once(code)


def _exit_at_once(code: int) -> NoReturn:
    """Kill the worker processes, flush what is written, and exit without waiting for anything."""
    multiprocessing = sys.modules.get("multiprocessing")
    for child in multiprocessing.active_children() if multiprocessing else []:
        child.kill()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe: nothing can reach it; a stream caught mid-write: RuntimeError.
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            stream.flush()
    os._exit(code)


def _end_quietly() -> NoReturn:
    """The reader of stdout went away (`mentions scan | head -1`): SPEC makes that exit 0.

    What stdout still buffers could reach no one; left there, the exit would try it again."""
    discard_unwritten_output()
    sys.exit(0)


def _exit_now(signum: int, frame: object) -> None:
    os._exit(EXIT_INTERRUPTED)
