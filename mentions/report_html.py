"""The report as one self-contained HTML file: inline CSS and SVG, no script, no external fetch.

It must open offline from a mail attachment or a shared drive, so nothing is loaded from
elsewhere, and a Content-Security-Policy forbids it anyway. Every string from the state
(titles, authors, source and keyword names) passes `html.escape`, and links are written
only for http(s) URLs, so `javascript:` links and `<script>` in titles stay inert text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from mentions.console import clean_text
from mentions.report import MIN_SPIKE, SPIKE_SIGMAS, SPIKE_WINDOW, Report, days_text, notes_text

COLOURS = ("#0077b6", "#c2185b", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037")
MAX_BARS = 366  # a longer period is drawn in runs of days: a bar per day would be thousands of bars
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:60rem;
padding:0 1rem;color:#1d1d1f;background:#fff}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.muted{color:#666}.chart{margin:.6rem 0 1rem}.chart h3{font-size:.95rem;margin:.2rem 0}
table{border-collapse:collapse;width:100%}td,th{padding:.25rem .5rem;text-align:left;vertical-align:top}
tr:nth-child(even){background:#f6f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums;width:4rem}
.bar{height:.8rem;background:#2e7d32;border-radius:2px}.spike{color:#b00020;font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#666}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}tr:nth-child(even){background:#1c1c1e}
.muted,svg text{color:#aaa;fill:#aaa}}
"""


def text(value: object) -> str:
    """Untrusted text for HTML content or attributes: control codes dropped, markup escaped."""
    return escape(clean_text(str(value), single_line=True), quote=True)


def day_chart(name: str, report: Report, counts: Sequence[int], colour: str) -> str:
    """One SVG bar per day (per run of days beyond MAX_BARS); a <title> in each is the tooltip."""
    width, height, gap = 720, 90, 1
    size = -(-len(counts) // MAX_BARS)  # a bar per day up to a year, then per run of days
    buckets = [(report.days[i], report.days[min(i + size, len(counts)) - 1], sum(counts[i : i + size]))
               for i in range(0, len(counts), size)]
    peak = max(max((count for _, _, count in buckets), default=0), 1)
    step = width / max(1, len(buckets))
    spike_days = {s.day for s in report.spikes if s.keyword == name}
    bars = []
    for index, (first_day, last_day, count) in enumerate(buckets):
        bar_height = 0 if count == 0 else max(2.0, count / peak * (height - 16))
        is_spike = any(first_day <= day <= last_day for day in spike_days)
        fill = "#b00020" if is_spike else colour
        when = first_day.isoformat() + ("" if first_day == last_day else f" to {last_day.isoformat()}")
        bars.append(
            f'<rect x="{index * step:.1f}" y="{height - 14 - bar_height:.1f}" '
            f'width="{max(1.0, step - gap):.1f}" '
            f'height="{bar_height:.1f}" fill="{fill}"><title>{when}: {count}</title></rect>'
        )
    first, last = report.days[0].isoformat(), report.days[-1].isoformat()
    return (
        f'<div class="chart"><h3>{text(name)} <span class="muted">· {sum(counts)} · max {max(counts)}'
        f'</span></h3><svg role="img" aria-label="{text(name)} per day" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="none">{"".join(bars)}'
        f'<text x="0" y="{height - 2}">{first}</text>'
        f'<text x="{width}" y="{height - 2}" text-anchor="end">{last}</text></svg></div>'
    )


def ranking(items: Sequence[tuple[str, int]], *, is_share: bool = False) -> str:
    """A table of names with bars (CSS widths), counts and, for shares, percentages."""
    if not items:
        return '<p class="muted">none</p>'
    total = sum(count for _, count in items) or 1
    peak = max(count for _, count in items) or 1
    rows = []
    for name, count in items:
        share = f'<td class="n">{count / total:.0%}</td>' if is_share else ""
        rows.append(
            f'<tr><td>{text(name)}</td><td style="width:45%"><div class="bar" '
            f'style="width:{count / peak * 100:.1f}%"></div></td>{share}<td class="n">{count}</td></tr>'
        )
    return f"<table>{''.join(rows)}</table>"


def safe_href(url: str | None) -> str | None:
    """An http(s) URL for an href, else None: `javascript:` and `data:` links from feeds stay text."""
    line = clean_text(url or "", single_line=True).strip()
    return line if line.lower().startswith(("http://", "https://")) else None


def render_html(report: Report, *, title: str = "mentions report", now: datetime | None = None) -> str:
    """The whole HTML document."""
    made = (now or datetime.now(UTC)).astimezone().strftime("%Y-%m-%d %H:%M")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{text(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{text(title)}</h1>",
        f'<p class="muted">{report.days[0]} to {report.days[-1]} ({days_text(len(report.days))}) · '
        f"<strong>{report.total}</strong> mentions · made {made}</p>",
    ]
    parts += [f'<p class="muted">{text(note)}</p>' for note in notes_text(report)]
    parts.append("<h2>Volume per day</h2>")
    if report.total:
        for index, (name, counts) in enumerate(report.volume.items()):
            parts.append(day_chart(name, report, counts, COLOURS[index % len(COLOURS)]))
        parts.append(day_chart("all keywords", report, report.daily_totals, "#444"))
    else:
        parts.append('<p class="muted">No mentions recorded in this period.</p>')
    parts += [f"<h2>Share of voice <span class=\"muted\">by {report.share_by}</span></h2>",
              ranking(report.share, is_share=True),
              "<h2>Top sources</h2>", ranking(report.sources),
              "<h2>Top authors</h2>", ranking(report.authors),
              f'<h2>Spikes <span class="muted">above mean + {SPIKE_SIGMAS:g}σ of the {SPIKE_WINDOW} days '
              f"before, at least {MIN_SPIKE}</span></h2>"]
    if report.spikes:
        items = "".join(
            f'<li><span class="spike">▲ {spike.day.isoformat()}</span> {text(spike.keyword)}: {spike.count} '
            f"mentions (before: {spike.mean:.1f} ± {spike.sd:.1f} a day)</li>"
            for spike in report.spikes
        )
        parts.append(f"<ul>{items}</ul>")
    else:
        parts.append('<p class="muted">none</p>')
    parts.append("<h2>Latest mentions</h2>")
    rows = []
    for record in report.latest:
        href = safe_href(record.url)
        shown = text(record.title or "(untitled)")
        attributes = f'href="{escape(href, quote=True)}" rel="noopener noreferrer"' if href else ""
        link = f"<a {attributes}>{shown}</a>" if href else shown
        # a date without a time has no hour to show, and its day is the one it names
        when = record.day().isoformat() if record.is_date else f"{record.moment.astimezone():%Y-%m-%d %H:%M}"
        rows.append(f"<tr><td>{when}</td>"
                    f"<td>{text(record.keyword)}</td><td>{text(record.source)}</td><td>{link}</td></tr>")
    parts.append(f"<table>{''.join(rows)}</table>" if rows else '<p class="muted">none</p>')
    parts.append("</body></html>\n")
    return "\n".join(parts)
