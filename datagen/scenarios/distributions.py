"""Named distributions of per-parent counts, sampled with numpy's seeded Generator.

Every distribution draws non-negative integers (how many children a parent
has), rounded and clamped to ``[min, max]``. They are sampled with
``numpy.random.Generator`` (PCG64) seeded from ``derive_seed``, so the same
seed gives the same counts on every machine and with any number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from datagen.errors import InputError

PARAMETERS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("mu", "sigma"),
    "poisson": ("lam",),
    "zipf": ("a",),
    "weighted": ("values", "weights"),
}
"""The parameters each distribution needs (besides the optional min/max clamps)."""


LARGEST = 2**31  # children of one parent at the most, whatever the distribution draws


@dataclass(frozen=True)
class Distribution:
    """A named distribution with its parameters and optional clamps."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    low: int | None = None  # the ``min`` clamp
    high: int | None = None  # the ``max`` clamp

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` counts: rounded, clamped, as int64."""
        # Capped before the cast: a huge draw (lognormal's tail) must not wrap to a negative.
        raw = np.clip(self._raw(rng, size), 0, LARGEST)
        counts = np.rint(raw).astype(np.int64)
        low = 0 if self.low is None else self.low
        clipped: np.ndarray = np.clip(counts, low, self.high)
        return clipped

    def _raw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        p = self.params
        if self.kind == "fixed":
            return np.full(size, p["value"], dtype=np.float64)
        if self.kind == "uniform":
            return rng.integers(int(p["low"]), int(p["high"]), size=size, endpoint=True)
        if self.kind == "normal":
            return rng.normal(float(p["mean"]), float(p["sd"]), size=size)
        if self.kind == "lognormal":
            return rng.lognormal(float(p["mu"]), float(p["sigma"]), size=size)
        if self.kind == "poisson":
            return rng.poisson(float(p["lam"]), size=size)
        if self.kind == "zipf":
            # numpy's zipf has no upper bound; cap before casting (max clamps anyway).
            return np.minimum(rng.zipf(float(p["a"]), size=size), LARGEST)
        if self.kind == "weighted":
            weights = np.asarray(p["weights"], dtype=np.float64)
            return rng.choice(np.asarray(p["values"]), size=size, p=weights / weights.sum())
        raise InputError(f"unknown distribution {self.kind!r}; known: {', '.join(PARAMETERS)}")

    def describe(self) -> str:
        """``lognormal(mu=1.6, sigma=1.1) in [1, 400]``."""
        args = ", ".join(f"{name}={_short(self.params[name])}" for name in PARAMETERS[self.kind])
        clamp = ""
        if self.low is not None or self.high is not None:
            low = "0" if self.low is None else str(self.low)
            high = "∞" if self.high is None else str(self.high)
            clamp = f" in [{low}, {high}]"
        return f"{self.kind}({args}){clamp}"


def _short(value: Any) -> str:
    if isinstance(value, list) and len(value) > 6:
        return "[" + ", ".join(map(str, value[:6])) + ", …]"
    return str(value)


def check(kind: str, params: Mapping[str, Any]) -> str | None:
    """What is wrong with these parameters (beyond the JSON Schema), or None."""
    if kind == "uniform" and params["low"] > params["high"]:
        return "uniform needs low <= high"
    if kind == "normal" and params["sd"] < 0:
        return "normal needs sd >= 0"
    if kind == "lognormal" and params["sigma"] < 0:
        return "lognormal needs sigma >= 0"
    if kind == "poisson" and params["lam"] < 0:
        return "poisson needs lam >= 0"
    if kind == "zipf" and params["a"] <= 1:
        return "zipf needs a > 1"
    if kind == "weighted":
        values, weights = params["values"], params["weights"]
        if len(values) != len(weights) or not values:
            return "weighted needs as many weights as values (at least one)"
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            return "weighted needs weights >= 0 with a positive sum"
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
            return "weighted values are counts: integers >= 0"
    return None


def from_mapping(data: Mapping[str, Any]) -> Distribution:
    """A Distribution from its YAML mapping (already validated by the JSON Schema)."""
    kind = str(data["type"])
    params = {name: data[name] for name in PARAMETERS[kind]}
    return Distribution(kind, params, data.get("min"), data.get("max"))
