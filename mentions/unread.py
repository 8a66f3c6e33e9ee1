"""Which of the last lines a scan wrote into a pipe were never read, once the reader went away.

A pipe keeps what was written until the reader takes it: 64 KiB by default on Linux, up to
/proc/sys/fs/pipe-max-size (1 MiB by default). A reader that goes away (`| head -1`, a
consumer that crashed) leaves those bytes behind: written, as far as the scan could tell,
yet never read. Recorded, their mentions were never reported again.

    CountedPipe: bytes taken, bytes unread ─▶ RecentLines: bytes -> mentions ─▶ State.withdraw

`RecentLines` keeps, for about the last MiB of lines, which mention each line was, whether it
was new in this run, and where the line ended in the bytes the pipe took. Told how many bytes
the pipe still holds, it names the new mentions whose lines were not read whole.
"""

from __future__ import annotations

from collections import deque

from mentions.streams import CountedPipe

# Lines further back than this cannot still be in a pipe, unless root raised pipe-max-size.
RECENT_BYTES = 1 << 20


class RecentLines:
    """The mentions of the last lines written into `pipe`, and where each line ended."""

    def __init__(self, pipe: CountedPipe) -> None:
        self._pipe = pipe
        self._lines: deque[tuple[str, int, bool]] = deque()  # (mention id, end, is new)

    def add(self, mention_id: str, is_new: bool) -> None:
        """Note the line of `mention_id`, just written and flushed (`is_new`: not in the state
        before this run, so it may be withdrawn)."""
        end = self._pipe.taken
        lines = self._lines
        lines.append((mention_id, end, is_new))
        # At most one out per line in: one comparison a line, and the deque never holds
        # more lines than the fullest MiB of them.
        if lines[0][1] < end - RECENT_BYTES:
            lines.popleft()

    def unread(self) -> list[str]:
        """The new mentions whose lines the reader left in the pipe, whole or in part (a line
        cut across what it read was not read whole); none when the kernel does not say."""
        left = self._pipe.unread()
        if not left:
            return []
        read_to = self._pipe.taken - left
        found = []
        for mention_id, end, is_new in reversed(self._lines):
            if end <= read_to:
                break
            if is_new:
                found.append(mention_id)
        found.reverse()
        return found
