"""The HTML report: self-contained, a histogram per per-parent distribution, the counts."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROD = ROOT / "scenarios" / "prod_like.yaml"


def test_report_is_self_contained_with_a_plot_per_distribution(run, tmp_path):
    target = tmp_path / "report.html"
    result = run("report", PROD, "--seed", 7, "--scale", 0.1, "-o", target)
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert page.count("<svg") == 5  # user, engine, pipeline, job per org; job_run per job
    for title in ("user per org", "engine per org", "job_run per job"):
        assert title in page
    assert "requested: lognormal(mu=1.5, sigma=1.0) in [1, 2000]" in page
    assert "<td>org</td><td>org</td><td class=n>0</td><td class=n>200</td>" in page
    assert "<script" not in page and "<link" not in page and "<img" not in page


def test_report_is_reproducible(run, tmp_path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    assert run("report", PROD, "--seed", 3, "--scale", 0.05, "-o", first).exit_code == 0
    assert run("report", PROD, "--seed", 3, "--scale", 0.05, "-o", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
