"""Standard streams a scan can trust: a failed write says which output failed and why.

A full disk or a closed stdout used to surface as an OSError deep inside a writer, a table or
a `print`, and came out as an internal error. `GuardedOutput` wraps stdout (and `-o FILE`) so
that every write failure becomes OutputError naming the output, wherever the write happened.
A closed pipe stays BrokenPipeError: SPEC ends that quietly with exit 0. Typer and Rich catch
it first and exit 1 themselves (a `--help` or a table into `| head`), so the guard also
remembers it (`is_reader_gone`): the last error boundary still ends such a run with exit 0.

Into a pipe, stdout goes through a `CountedPipe`: it counts the bytes the pipe took, and asks
the kernel how many of them are still unread. When the reader goes away, what it left in the
pipe was written but never read (`mentions.unread` tells which lines that was).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import stat
import sys
from typing import IO, TYPE_CHECKING, Any, cast

from mentions.errors import OutputError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class GuardedOutput:
    """A text stream that turns a failed write or flush into OutputError; the rest passes through."""

    # Shared by every guarded output: whoever catches the BrokenPipeError, the exit reads it.
    has_closed_pipe = False

    def __init__(self, stream: IO[str] | None, where: str) -> None:
        self._stream = stream
        self._where = where
        # A file's size after its last whole flush; None for pipes and terminals.
        self._fd, self._whole = _regular_file(stream)
        self.pipe = _counted_pipe(stream)

    def write(self, text: str) -> int:
        if self._stream is None:
            raise OutputError(f"cannot write to {self._where}: it is closed")
        # try/except in place, not a context manager: a scan writes and flushes each of its
        # lines, and a generator-based `with` per call cost 0.2 s of a 40,000-line scan.
        try:
            return self._stream.write(text)
        except OSError as error:
            raise self._named(error) from None

    def flush(self) -> None:
        if self._stream is not None:
            try:
                self._stream.flush()
                if self._fd is not None:
                    self._whole = os.fstat(self._fd).st_size
            except OSError as error:
                raise self._named(error) from None

    def isatty(self) -> bool:
        return self._stream is not None and self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)

    def _named(self, error: OSError) -> Exception:
        """A closed pipe stays itself (and is remembered); another failure names the output,
        and a file loses the part of a line that got into it."""
        if isinstance(error, BrokenPipeError):
            GuardedOutput.has_closed_pipe = True
            return error
        self._cut_partial_line()
        return OutputError(f"cannot write to {self._where}: {error.strerror or error}")

    def _cut_partial_line(self) -> None:
        """A full disk took part of a line: cut the file back to its last whole line, and send
        what is left in the buffer nowhere. The part stayed, the next run's line was glued to
        it (a JSON Lines file with a broken line, a CSV row of 15 cells, a JSON array no run
        could continue), and that mention, recorded or not, had no readable line."""
        if self._fd is None or self._whole is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._whole)
        with contextlib.suppress(OSError):  # even if the cut failed: nothing more of the line
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._fd)
            os.close(devnull)
        self._fd = None


def _regular_file(stream: IO[str] | None) -> tuple[int | None, int | None]:
    """The descriptor of `stream` and its size, if it is a regular file (else None, None)."""
    try:
        number = stream.fileno() if stream is not None else None
        if number is None:
            return None, None
        status = os.fstat(number)
    except (AttributeError, OSError, ValueError):  # no descriptor (a StringIO), or a closed one
        return None, None
    return (number, status.st_size) if stat.S_ISREG(status.st_mode) else (None, None)


_write_to_file = io.FileIO.write


class CountedPipe(io.FileIO):
    """The write end of a pipe that counts the bytes the pipe took (`taken`), and can tell
    how many of them its reader left unread (`unread`)."""

    # A slot and FileIO's own write, not super(): a scan flushes each line through here,
    # and that halved the 0.34 us a line the count cost.
    __slots__ = ("taken",)

    def __init__(self, descriptor: int, mode: str = "w", closefd: bool = True) -> None:
        super().__init__(descriptor, mode, closefd=closefd)
        self.taken = 0

    def write(self, b: ReadableBuffer, /) -> int:
        count = _write_to_file(self, b)
        if count:  # None: a non-blocking pipe was full
            self.taken += count
        return count

    def unread(self) -> int | None:
        """The bytes still in the pipe (Linux's FIONREAD, which still answers on the write end
        once the reader closed its end); None where the kernel does not say."""
        try:
            import fcntl
            import termios

            answer = fcntl.ioctl(self.fileno(), termios.FIONREAD, b"\0\0\0\0")
        except (ImportError, AttributeError, OSError, ValueError):
            return None
        return int.from_bytes(answer, sys.byteorder, signed=True)


def _counted_pipe(stream: IO[str] | None) -> CountedPipe | None:
    raw = getattr(getattr(stream, "buffer", None), "raw", None)
    return raw if isinstance(raw, CountedPipe) else None


def stdout_pipe() -> CountedPipe | None:
    """The pipe that stdout writes into, or None when stdout is no pipe (a file, a terminal)."""
    return sys.stdout.pipe if isinstance(sys.stdout, GuardedOutput) else None


def guarded(stream: IO[str], where: str) -> IO[str]:
    """`stream` with its write failures named (typed as the stream it stands for)."""
    return cast(IO[str], GuardedOutput(stream, where))


def is_reader_gone() -> bool:
    """Whether a guarded output met a closed pipe: its reader went away (`| head -1`)."""
    return GuardedOutput.has_closed_pipe


def with_a_buffer(stream: IO[str]) -> IO[str]:
    """`stream` with a BufferedWriter under its text, if it writes straight to the descriptor;
    and over a CountedPipe, if the descriptor is a pipe.

    With PYTHONUNBUFFERED (or `python -u`; Docker images often set it) Python hands stdout's
    text to the descriptor at once, and a short write is dropped without an error: a reader
    leaving a pipe mid-write, a full disk, a full non-blocking pipe. The scan then recorded
    mentions whose lines never got out (a 370 KB table into `| head -c 10` recorded all 3,000
    of its mentions). A BufferedWriter writes the rest or raises. Lines still go out at once:
    the writers flush each one, and every line ends the buffering."""
    if not isinstance(stream, io.TextIOWrapper):
        return stream
    is_unbuffered = isinstance(stream.buffer, io.RawIOBase)
    is_pipe = _is_pipe(stream)
    if not (is_unbuffered or is_pipe):
        return stream
    # Its own descriptor object: the original stays intact (and empty: nothing was written yet).
    raw = (CountedPipe if is_pipe else io.FileIO)(stream.fileno(), "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding=stream.encoding, errors=stream.errors,
                            line_buffering=is_unbuffered or stream.line_buffering)


def _is_pipe(stream: IO[str]) -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return False


def in_utf8_or_replacing(stream: IO[str]) -> IO[str]:
    """stdout as UTF-8 into a pipe or file, and at a terminal of another encoding, replacing
    what that encoding cannot show.

    In a C, latin-1 or `PYTHONIOENCODING=ascii` locale, the first `…` of a snippet (or any
    name in Greek) raised UnicodeEncodeError: every scan of such a cron host ended in an
    internal error, nothing written. JSON Lines, CSV and JSON are UTF-8 whatever the locale
    (SPEC), so whatever reads them gets every character; a person at such a terminal sees `?`
    for what it cannot show."""
    if not isinstance(stream, io.TextIOWrapper) or codecs.lookup(stream.encoding).name == "utf-8":
        return stream
    try:
        if stream.isatty():
            stream.reconfigure(errors="replace")
        else:
            stream.reconfigure(encoding="utf-8", errors="strict")
    except (OSError, ValueError):  # closed, or written to already: as it is
        pass
    return stream


def prepare_standard_streams() -> None:
    """Occupy closed standard descriptors with /dev/null, and guard stdout.

    Without this, the next file opened (the state database, say) would get number 1 or 2
    when stdout or stderr was closed (`mentions scan >&-`), and what was meant for the
    terminal would be written into it. Output meant for a closed stdout is an error, not
    silently lost; messages for a closed stderr are lost.
    """
    for number in (0, 1, 2):
        try:
            os.fstat(number)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
    stdout = in_utf8_or_replacing(sys.stdout)
    sys.stdout = guarded(with_a_buffer(stdout), "standard output")  # None when it was closed
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - as long as the process
    sys.stderr = cast(IO[str], LossyMessages(sys.stderr))


class LossyMessages:
    """stderr that drops what it cannot write instead of raising.

    A message nobody can read (stderr a closed pipe: `mentions check 2>&1 | true`, or a full
    disk under `2>>log`) must not change how the command ends: Click turns a failed write into
    exit 1, so a config error ended with 1 ("a source failed") instead of 2. The rest passes
    through (`isatty`, `encoding`, `fileno`)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):  # ValueError: the stream was closed
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def stdin_bytes() -> IO[bytes]:
    """stdin's bytes; at a terminal, after a line on stderr saying that it waits for them.

    `mentions match -e Acme` without a file, or a `file: -` source, typed at a terminal,
    otherwise sat silent until Ctrl-D, looking hung."""
    if sys.stdin is not None and sys.stdin.isatty():
        print("mentions: reading standard input (type the text, then Ctrl-D)", file=sys.stderr, flush=True)
    return sys.stdin.buffer


def discard_unwritten_output() -> None:
    """Drop what a failed write left in stdout's buffer: the exit would try it again and print."""
    try:
        number = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, number)
    os.close(devnull)
