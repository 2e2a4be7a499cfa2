"""A self-contained HTML report of a probe: latency-versus-scale charts and the tables.

One chart per query and transaction: p50, p95 and p99 latency at each
scale (log-log axes when the scales span more than a factor of 3), with the
line that latency would follow if it grew as the rows do, from the smallest
scale's p50. Charts are drawn by matplotlib into inline SVG, as the
scenario report does, so the file can be attached as it is.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

from datagen import __version__
from datagen.atomic import atomic_write_bytes
from datagen.probes.outcome import ProbeResult
from datagen.probes.report import scale_lines
from datagen.probes.results import Latency


def _series(result: ProbeResult, kind: str, name: str) -> list[tuple[float, Latency, int]]:
    points = []
    for scale in result.scales:
        items = scale.queries if kind == "query" else scale.transactions
        for item in items:
            if item.name == name and item.latency.count:
                points.append((scale.scale, item.latency, scale.total_rows))
    return points


def chart_svg(title: str, points: list[tuple[float, Latency, int]], salt: str) -> str:
    """Latency percentiles against scale, with the rows-proportional line."""
    # matplotlib: heavy, imported only when a chart is drawn, not for the CLI's start-up
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after use("Agg"): no display needed

    scales = [p[0] for p in points]
    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=96)
    for label, color in (("p50", "#4c78a8"), ("p95", "#f58518"), ("p99", "#e45756")):
        values = [getattr(p[1], label) or 0 for p in points]
        axes.plot(scales, values, marker="o", color=color, label=label)
    base = points[0]
    if base[1].p50 and base[2]:
        proportional = [base[1].p50 * rows / base[2] for _, _, rows in points]
        axes.plot(scales, proportional, linestyle=":", color="#777", label="p50 × rows ratio")
    if max(scales) / min(scales) > 3:
        axes.set_xscale("log")
        axes.set_yscale("log")
    axes.set_xlabel("scale (×)")
    axes.set_ylabel("latency (ms)")
    axes.set_title(title, fontsize=11)
    axes.legend(fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"datagen-probe-{salt}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def render(result: ProbeResult) -> str:
    """The report's HTML."""
    names = [("query", q.name) for q in result.probe.queries.values()]
    names += [("transaction", t.name) for t in result.probe.transactions.values()]
    charts = []
    for kind, name in names:
        points = _series(result, kind, name)
        if len(points) >= 2:
            charts.append(f"<figure>{chart_svg(f'{kind} {name}', points, name)}</figure>")
        elif points:
            charts.append(f"<p>{html.escape(kind)} {html.escape(name)}: one scale measured.</p>")
    tables = "\n".join(
        "<pre>" + html.escape("\n".join(scale_lines(result, scale))) + "</pre>"
        for scale in result.scales
    )
    comparison = "".join(
        f"<tr><td>{html.escape(e.kind)}</td><td>{html.escape(e.name)}</td>"
        f"<td class=n>{e.scale:g}×</td>"
        f"<td class=n>{'-' if e.latency_ratio is None else f'×{e.latency_ratio:.2f}'}</td>"
        f"<td class=n>{'-' if e.rows_ratio is None else f'×{e.rows_ratio:.2f}'}</td>"
        f"<td>{'<br>'.join(html.escape(f) for f in e.flags)}</td></tr>"
        for e in result.comparison
    )
    failures = "".join(f"<li>{html.escape(line)}</li>" for line in result.failures())
    title = f"Probe {html.escape(result.probe.name)}"
    state = "interrupted: partial results" if result.interrupted else "complete"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222 }}
table {{ border-collapse: collapse; margin: 1em 0 }}
td, th {{ padding: .25em .8em; border-bottom: 1px solid #ddd; text-align: left }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums }}
pre {{ font-size: 12px; overflow-x: auto; background: #f7f7f7; padding: .8em }}
figure {{ margin: 1.5em 0 }} svg {{ max-width: 100%; height: auto }}
.meta {{ color: #666 }} .bad {{ color: #b00 }}
</style></head><body>
<h1>{title}</h1>
<p class=meta>{html.escape(result.database)} at {html.escape(result.target)} · scenario
{html.escape(result.probe.scenario)} · seed {result.seed} · {result.clients} clients ·
{state} · Data Generator {__version__}</p>
{f'<h2 class=bad>Failures</h2><ul class=bad>{failures}</ul>' if failures else ''}
<h2>Latency against scale</h2>
{"".join(charts) or "<p>Nothing was timed.</p>"}
<h2>Across scales</h2>
<table><tr><th>kind</th><th>name</th><th>scale</th><th>p50 latency ratio</th>
<th>rows ratio</th><th>flags</th></tr>{comparison}</table>
<h2>Each scale</h2>
{tables}
</body></html>
"""


def write_html(result: ProbeResult, target: Path) -> Path:
    atomic_write_bytes(Path(target), render(result).encode("utf-8"))
    return Path(target)
