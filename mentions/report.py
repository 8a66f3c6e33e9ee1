"""`mentions report`: what the state says about the last weeks, as numbers and terminal charts.

    state ─load_records()─▶ [Record] ─build_report()─▶ Report ─▶ render_terminal() / render_html()

A mention's day is the local day of its publication (or of its discovery, when the source
gives no date); a date published without a time is the day it names (`dates.is_date_only`).
A mention that `scan --seed` found without a date has no day: the seed took in a source's
whole backlog at once, and counted on the seed's day it made a burst that never happened
(and every later day looked quiet beside it). Such mentions count nowhere; the report says
how many it left out, as it does for mentions dated in the future.
A spike is a day whose count exceeds the mean + 3σ of the 14 days before it *and* reaches
`MIN_SPIKE`, so a single mention after a quiet fortnight is not an alarm. The days before a
keyword's first mention are no quiet days (nobody listened yet): the 14 shrink to those since
then, and a day with fewer than `MIN_HISTORY` of them is not judged.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from rich.console import Group, RenderableType
from rich.text import Text

from mentions.console import clean_text
from mentions.dates import (
    EARLIEST,
    day_of,
    instant_of,
    is_date_only,
    parse_date,
    rfc3339,
    seconds_before,
)
from mentions.state import State, read_rows

SPIKE_WINDOW = 14
SPIKE_SIGMAS = 3.0
MIN_SPIKE = 3
MIN_HISTORY = 7  # days of a keyword's data a day needs before it to be judged
SPARK = "▁▂▃▄▅▆▇█"
NO_AUTHOR = "(unknown)"


@dataclass(frozen=True, slots=True)
class Record:
    """The part of a recorded mention a report needs."""

    keyword: str
    tags: tuple[str, ...]
    source: str
    author: str | None
    title: str
    url: str | None
    moment: datetime  # published, else found
    is_date: bool = False  # published as a date without a time: the day it names (`dates.day_of`)
    is_undated: bool = False  # no published date: `moment` is when it was found
    is_seeded: bool = False  # recorded by `scan --seed`

    @property
    def has_day(self) -> bool:
        """Whether the mention counts on a day: not one a seed found without a date, whose
        `moment` is the seed's, not when it was written."""
        return not (self.is_undated and self.is_seeded)

    def day(self, tz: tzinfo | None = None) -> date:
        """The day the mention counts for in `tz` (default: the local zone)."""
        return day_of(self.moment, tz, is_date=self.is_date)

    def instant(self) -> datetime:
        """When the mention counts as published, to sort by: a date from the start of its day."""
        return instant_of(self.moment, is_date=self.is_date)


@dataclass(frozen=True, slots=True)
class Spike:
    """A day on which a keyword was talked about far more than in the two weeks before."""

    keyword: str
    day: date
    count: int
    mean: float
    sd: float


@dataclass(frozen=True, slots=True)
class Report:
    """Counts over the days `start`..`end` (inclusive), ready to draw."""

    days: tuple[date, ...]
    volume: dict[str, tuple[int, ...]]  # keyword -> one count per day
    share_by: str  # "tag" or "keyword"
    share: tuple[tuple[str, int], ...]
    sources: tuple[tuple[str, int], ...]
    authors: tuple[tuple[str, int], ...]
    spikes: tuple[Spike, ...]
    latest: tuple[Record, ...]
    later: int = 0  # mentions dated after the last day (the CLI's is today): not counted
    seeded_undated: int = 0  # mentions a seed found without a date in the period: on no day

    @property
    def total(self) -> int:
        return sum(sum(counts) for counts in self.volume.values())

    @property
    def daily_totals(self) -> tuple[int, ...]:
        # computed on every call: read it once, not once per day
        return tuple(sum(day) for day in zip(*self.volume.values(), strict=True)) if self.volume else ()


def load_records(state: State, since: datetime, keywords: Sequence[str] = ()) -> list[Record]:
    """Mentions whose day lies after `since` minus the spike window (the history spikes need)."""
    earliest = seconds_before(since, (SPIKE_WINDOW + 1) * 86400)
    where, parameters = _keywords_where([rfc3339(earliest)], keywords)
    return _records(state, where, parameters)


def _keywords_where(parameters: list[object], keywords: Sequence[str]) -> tuple[str, list[object]]:
    """The mentions from a moment on (the first parameter), of `keywords` if any are given."""
    where = "COALESCE(published, found_at) >= ?"
    if keywords:
        where += f" AND keyword IN ({','.join('?' * len(keywords))})"
    return where, parameters + list(keywords)


def _records(state: State, where: str, parameters: Sequence[object]) -> list[Record]:
    sql = ("SELECT keyword, tags, source, author, title, url, published, found_at, is_seeded "
           f"FROM mentions WHERE {where}")
    records = []
    for keyword, tags, source, author, title, url, published, found_at, is_seeded in read_rows(
            state, sql, parameters):
        when = parse_date(str(published if published is not None else found_at))
        if when is None:
            continue
        try:
            tag_list = tuple(str(tag) for tag in json.loads(str(tags)))
        except (ValueError, TypeError):
            tag_list = ()
        records.append(Record(str(keyword), tag_list, str(source), None if author is None else str(author),
                              str(title), None if url is None else str(url), when,
                              published is not None and is_date_only(when), published is None,
                              bool(is_seeded)))
    return records


def first_moments(state: State, keywords: Sequence[str] = ()) -> dict[str, list[tuple[datetime, bool]]]:
    """Where each keyword's data (of `keywords`) begins: the earliest of its mentions published
    on a date alone, published at a time, and found without a date, each with whether it is a
    date alone. Which is the earliest day depends on the reader's zone (a date is the day it
    names, a time its local day), so `build_report` decides; a found_at is never a date. The
    undated mentions of a seed count here though they count on no day: the seed is when
    someone began to listen."""
    sql = ("SELECT keyword, MIN(CASE WHEN published LIKE '%T00:00:00Z' THEN published END), "
           "MIN(CASE WHEN published NOT LIKE '%T00:00:00Z' THEN published END), "
           "MIN(CASE WHEN published IS NULL THEN found_at END) FROM mentions "
           "WHERE COALESCE(published, found_at) >= ?")
    parameters: list[object] = [rfc3339(EARLIEST)]  # older versions could store the year 0001
    if keywords:
        sql += f" AND keyword IN ({','.join('?' * len(keywords))})"
        parameters += list(keywords)
    firsts: dict[str, list[tuple[datetime, bool]]] = {}
    for keyword, on_a_date, at_a_time, found in read_rows(state, sql + " GROUP BY keyword", parameters):
        for value, is_date in ((on_a_date, True), (at_a_time, False), (found, False)):
            moment = parse_date(str(value)) if value is not None else None
            if moment is not None:
                firsts.setdefault(str(keyword), []).append((moment, is_date and is_date_only(moment)))
    return firsts


Begun = Mapping[str, Sequence[tuple[datetime, bool]]]  # keyword -> (moment, is a date alone), `first_moments`


def begun_days(begun: Begun, tz: tzinfo | None = None) -> dict[str, date]:
    """The first day of each keyword's data (`first_moments`), as `tz` (default local) counts days."""
    return {keyword: min(day_of(moment, tz, is_date=is_date) for moment, is_date in moments)
            for keyword, moments in begun.items() if moments}


def build_report(records: Sequence[Record], start: date, end: date, *, tz: tzinfo | None = None,
                 top: int = 10, latest: int = 20,
                 begun: Begun | None = None) -> Report:
    """Volume, share of voice, top sources and authors, spikes; `tz` decides the days (default local).

    `begun`: when each keyword's data begins (`first_moments`); `records` reach back only as
    far as spikes look, so their first says it only when it is recent."""
    days = tuple(start + timedelta(days=offset) for offset in range((end - start).days + 1))
    seeded_undated = sum(1 for record in records if not record.has_day and start <= record.day(tz) <= end)
    counted = [record for record in records if record.has_day]
    per_day: dict[str, Counter[date]] = {}
    for record in counted:
        per_day.setdefault(record.keyword, Counter())[record.day(tz)] += 1
    first_days = {keyword: min(counts) for keyword, counts in per_day.items()}
    first_days.update(begun_days(begun or {}, tz))
    inside = [record for record in counted if start <= record.day(tz) <= end]
    keywords = sorted({record.keyword for record in inside}, key=lambda k: (-sum(
        per_day[k][day] for day in days), k))
    volume = {keyword: tuple(per_day[keyword][day] for day in days) for keyword in keywords}

    has_tags = any(record.tags for record in inside)
    groups: Counter[str] = Counter()
    for record in inside:
        for group in (record.tags or (record.keyword,)) if has_tags else (record.keyword,):
            groups[group] += 1
    sources = Counter(record.source for record in inside)
    authors = Counter((record.author or "").strip() or NO_AUTHOR for record in inside)
    authors.pop(NO_AUTHOR, None)
    newest = sorted(inside, key=Record.instant, reverse=True)[:latest]
    # A date in the future is the source's mistake (a wrong zone, a scheduled post): counted
    # on today it would swell today and could make a spike; left out, the report says so.
    later = sum(1 for record in counted if record.day(tz) > end)
    return Report(
        days=days, volume=volume, share_by="tag" if has_tags else "keyword",
        share=tuple(groups.most_common()), sources=tuple(sources.most_common(top)),
        authors=tuple(authors.most_common(top)), spikes=tuple(find_spikes(per_day, days, first_days)),
        latest=tuple(newest), later=later, seeded_undated=seeded_undated,
    )


def find_spikes(per_day: dict[str, Counter[date]], days: Sequence[date],
                first_days: Mapping[str, date] | None = None) -> list[Spike]:
    """Days above mean + 3σ of the 14 days before (population σ) and at least MIN_SPIKE.

    Only days since the keyword's first day (`first_days`, else its first in `per_day`) count:
    before it nobody listened, and zeros there made the start of the data (a partial first
    day, then a normal one) look like spikes."""
    spikes = []
    first, last = (days[0], days[-1]) if days else (date.max, date.min)
    for keyword, counts in sorted(per_day.items()):
        begun = (first_days or {}).get(keyword) or min(counts)
        # the days with mentions, not every day of the period: a long one has mostly none
        for day, count in list(counts.items()):
            history = min(SPIKE_WINDOW, (day - begun).days)
            if count < MIN_SPIKE or not first <= day <= last or history < MIN_HISTORY:
                continue
            before = [counts[day - timedelta(days=back)] for back in range(1, history + 1)]
            mean, sd = statistics.fmean(before), statistics.pstdev(before)
            if count > mean + SPIKE_SIGMAS * sd:
                spikes.append(Spike(keyword, day, count, mean, sd))
    return sorted(spikes, key=lambda spike: (spike.day, spike.keyword))


def sparkline(values: Sequence[int], width: int) -> str:
    """Values as ▁..█ (a blank for zero), summed into buckets when there are more than `width`."""
    if not values:
        return ""
    size = -(-len(values) // max(1, width))
    buckets = [sum(values[i : i + size]) for i in range(0, len(values), size)]
    peak = max(buckets)
    if peak == 0:
        return " " * len(buckets)
    levels = len(SPARK)
    return "".join(" " if v == 0 else SPARK[min(levels - 1, (v * levels - 1) // peak)] for v in buckets)


def bar(value: int, peak: int, width: int) -> str:
    """A horizontal bar of `width` cells at most, in eighths."""
    if peak <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / peak * width * 8))
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def _day(day: date, report: Report | None = None) -> str:
    """`26 Nov`, or `2026-11-26` in a report of more than a year."""
    if report is not None and len(report.days) > 366:
        return day.isoformat()
    return day.strftime("%d %b")


def render_terminal(report: Report, *, width: int = 80) -> RenderableType:
    """The report as text blocks with sparklines and bars, cut to `width`."""
    notes = [Text(note) for note in notes_text(report)]
    if not report.total:
        empty = Text(f"No mentions recorded from {report.days[0]} to {report.days[-1]}.")
        return Group(empty, *notes) if notes else empty
    label_width = min(24, max(len(name) for name in [*report.volume, "all"]))
    spark_width = max(10, width - label_width - 20)
    blocks: list[RenderableType] = [
        Text(f"Mentions from {report.days[0]} to {report.days[-1]} ({days_text(len(report.days))}): "
             f"{report.total}", style="bold"),
        *notes,
        Text(""),
        Text("Volume per day", style="bold"),
    ]
    totals = report.daily_totals
    peak_day = max(range(len(report.days)), key=totals.__getitem__)
    rows = [*report.volume.items(), ("all", totals)]
    for name, counts in rows:
        line = Text(clean_text(name, single_line=True)[:label_width].ljust(label_width) + "  ",
                    style="bold" if name == "all" else "")
        line.append(sparkline(counts, spark_width), style="cyan")
        line.append(f"  {sum(counts):>5}  max {max(counts)}")
        blocks.append(line)
    first, last = _day(report.days[0], report), _day(report.days[-1], report)
    spark = len(sparkline(totals, spark_width))
    # a short period's sparkline is narrower than its two dates: keep a space between them
    axis = " " * (label_width + 2) + first + ("" if first == last else
                                               last.rjust(max(len(last) + 1, spark - len(first))))
    blocks += [Text(axis, style="dim"),
               Text(f"busiest day: {_day(report.days[peak_day], report)} ({totals[peak_day]})",
                    style="dim")]
    blocks += _ranking(f"Share of voice (by {report.share_by})", report.share, width, percent=True)
    blocks += _ranking("Top sources", report.sources, width)
    blocks += _ranking("Top authors", report.authors, width)
    blocks += [Text(""), Text(f"Spikes (above mean + {SPIKE_SIGMAS:g}σ of the {SPIKE_WINDOW} days before)",
                              style="bold")]
    if not report.spikes:
        blocks.append(Text("none"))
    for spike in report.spikes:
        line = Text("▲ ", style="bold red")
        keyword = clean_text(spike.keyword, single_line=True)
        line.append(f"{_day(spike.day, report)}  {keyword}: {spike.count} "
                    f"mentions (before: {spike.mean:.1f} ± {spike.sd:.1f} a day)")
        blocks.append(line)
    for block in blocks:
        if isinstance(block, Text):
            block.no_wrap, block.overflow = True, "ellipsis"
    return Group(*blocks)


def notes_text(report: Report) -> list[str]:
    """What the counts leave out, one sentence each (`later_text`, `seeded_text`)."""
    return [note for note in (later_text(report), seeded_text(report)) if note]


def seeded_text(report: Report) -> str:
    """"40 mentions recorded by `scan --seed` have no date and are not counted.", or "" when
    there are none."""
    if not report.seeded_undated:
        return ""
    count = ("1 mention recorded by `scan --seed` has no date and is" if report.seeded_undated == 1 else
             f"{report.seeded_undated} mentions recorded by `scan --seed` have no date and are")
    return f"{count} not counted."


def later_text(report: Report) -> str:
    """`2 mentions dated after today are not counted.`, or "" when there are none."""
    if not report.later:
        return ""
    last = "today" if report.days[-1] == local_today() else report.days[-1].isoformat()
    count = f"1 mention dated after {last} is" if report.later == 1 else (
        f"{report.later} mentions dated after {last} are")
    return f"{count} not counted."


def _ranking(title: str, items: Sequence[tuple[str, int]], width: int, *, percent: bool = False
             ) -> list[RenderableType]:
    blocks: list[RenderableType] = [Text(""), Text(title, style="bold")]
    if not items:
        return [*blocks, Text("none")]
    total = sum(count for _, count in items)
    names = [clean_text(name, single_line=True)[:24] for name, _ in items]
    label_width = max(map(len, names))
    bar_width = max(10, min(40, width - label_width - 16))
    peak = max(count for _, count in items)
    for name, (_, count) in zip(names, items, strict=True):
        line = Text(name.ljust(label_width) + "  ")
        line.append(bar(count, peak, bar_width).ljust(bar_width), style="green")
        share = f"{count / total:>5.0%}  " if percent and total else ""
        line.append(f"  {share}{count}")
        blocks.append(line)
    return blocks


def local_today(now: datetime | None = None, tz: tzinfo | None = None) -> date:
    """Today in `tz` (default: the local zone)."""
    moment = now or datetime.now(UTC)
    return moment.astimezone(tz).date() if tz else moment.astimezone().date()


def days_text(count: int) -> str:
    """`1 day`, `30 days`, `40,000 days`."""
    return "1 day" if count == 1 else f"{count:,} days"
