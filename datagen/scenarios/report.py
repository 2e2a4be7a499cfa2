"""A self-contained HTML report of a planned scenario: counts and distribution plots.

For every entity built ``per`` parent, a histogram of the planned number of
children per parent row (what ``populate`` writes) is drawn beside the
requested distribution (its clamped probabilities, estimated from 200,000
draws with a fixed seed). Plots are rendered by matplotlib to inline SVG, so
the file needs nothing else to be read.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np

from datagen import __version__
from datagen.atomic import atomic_write_bytes
from datagen.scenarios.planning import EntityPlan, Plan, parent_stats
from datagen.seeding import derive_seed

REFERENCE_DRAWS = 200_000
MAX_BARS = 60


def expected_probabilities(entity: EntityPlan, upto: int) -> np.ndarray:
    """P(count = k) for k in ``[0, upto]`` under the requested (clamped) distribution."""
    assert entity.distribution is not None
    rng = np.random.default_rng(derive_seed("report", entity.name))
    draws = entity.distribution.sample(rng, REFERENCE_DRAWS)
    frequencies: np.ndarray = np.bincount(np.minimum(draws, upto), minlength=upto + 1)
    return frequencies / REFERENCE_DRAWS


def histogram_svg(entity: EntityPlan, plan: Plan) -> str:
    """The SVG of ``entity``'s children-per-parent histogram against the requested one."""
    import matplotlib  # heavy: only when a report draws a histogram

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # heavy: as above

    counts = entity.counts
    assert counts is not None and entity.distribution is not None
    upto = int(min(max(counts.max(initial=0), 1), np.percentile(counts, 99.5) + 1, 10_000))
    observed: np.ndarray = np.bincount(np.minimum(counts, upto), minlength=upto + 1) / max(
        len(counts), 1
    )
    expected: np.ndarray = expected_probabilities(entity, upto)
    values: np.ndarray = np.arange(upto + 1)
    width = 1.0
    if upto + 1 > MAX_BARS:  # group into bins of equal width
        width = float(np.ceil((upto + 1) / MAX_BARS))
        bins = (values // width).astype(int)
        observed = np.bincount(bins, weights=observed)
        expected = np.bincount(bins, weights=expected)
        values = np.arange(len(observed)) * width
    figure, axes = plt.subplots(figsize=(7.5, 3.2), dpi=96)
    axes.bar(values, observed, width=width * 0.9, align="edge", color="#4c78a8", label="planned")
    axes.step(
        np.append(values, values[-1] + width),
        np.append(expected, expected[-1]),
        where="post",
        color="#e45756",
        linewidth=1.6,
        label=f"requested: {entity.distribution.describe()}",
    )
    parent = entity.parent or "parent"
    notes = [f"bins of {width:g}"] if width > 1 else []
    if upto < counts.max(initial=0):
        notes.append(f"the last bar holds {upto} or more")
    axes.set_xlabel(f"{entity.name} per {parent}" + (f" ({'; '.join(notes)})" if notes else ""))
    axes.set_ylabel(f"share of {parent}s")
    axes.set_title(f"{entity.name} per {parent} ({len(counts):,} {parent}s)", fontsize=11)
    axes.legend(fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.StringIO()
    # A salt per plot: ids (clip paths) are reproducible and distinct between the inline SVGs.
    with matplotlib.rc_context({"svg.hashsalt": f"datagen-{entity.name}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: inline SVG


def render(plan: Plan) -> str:
    """The report's HTML."""
    scenario = plan.scenario
    rows = []
    for entity in plan.entities.values():
        how = "records" if entity.records and not entity.generated else ""
        if entity.parent and entity.distribution:
            stats = parent_stats(entity)
            how = (
                f"per {entity.parent}: {entity.distribution.describe()} "
                f"(min {stats['min']}, mean {stats['mean']:.2f}, max {stats['max']})"
            )
        elif entity.generated:
            how = "count"
        rows.append(
            f"<tr><td>{html.escape(entity.name)}</td><td>{html.escape(entity.provider)}</td>"
            f"<td class=n>{len(entity.records):,}</td><td class=n>{entity.generated:,}</td>"
            f"<td class=n>{entity.total:,}</td><td>{html.escape(how)}</td></tr>"
        )
    plots = [
        f"<figure>{histogram_svg(entity, plan)}</figure>"
        for entity in plan.entities.values()
        if entity.parent and entity.distribution is not None and entity.children is not None
    ]
    title = f"Scenario {html.escape(scenario.name)}"
    files = ", ".join(html.escape(f) for f in scenario.files)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222 }}
table {{ border-collapse: collapse; margin: 1em 0 }}
td, th {{ padding: .25em .8em; border-bottom: 1px solid #ddd; text-align: left }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums }}
figure {{ margin: 1.5em 0 }} svg {{ max-width: 100%; height: auto }}
.meta {{ color: #666 }}
</style></head><body>
<h1>{title}</h1>
<p class=meta>seed {plan.seed} · --scale {plan.scale:g} · reference date
{plan.reference_date.date().isoformat()} · files: {files} · Data Generator {__version__}</p>
<h2>Counts</h2>
<table><tr><th>entity</th><th>table</th><th>records</th><th>generated</th><th>rows</th>
<th>how</th></tr>
{"".join(rows)}
<tr><th colspan=4>total</th><th class=n>{plan.rows:,}</th><th></th></tr></table>
<h2>Distributions per parent</h2>
<p>Bars: the number of children per parent row as planned (what <code>populate</code> writes
with this seed and scale). Line: the requested distribution, clamped to its min and max.</p>
{"".join(plots) or "<p>No entity is built per parent.</p>"}
</body></html>
"""


def write_report(plan: Plan, target: Path) -> Path:
    """Write the report of ``plan`` to ``target`` (atomically)."""
    atomic_write_bytes(Path(target), render(plan).encode("utf-8"))
    return Path(target)
