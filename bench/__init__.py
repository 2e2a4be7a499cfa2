"""Benchmarks: each prints figures as ratios against a baseline of the same run."""
