"""The bounds of every number and date a person can give, stated once.

The command line's option types (``datagen_cli/options.py``), the manifest
reader and the scenario loader all check values against these, so an
extreme value (``--seed 2**64``, ``--scale nan``, ``--speed 1e-300``, a
reference date in year 1) is refused in one line before any work starts, in
the same words wherever it appears, instead of failing deep inside.

The bounds are wide: every value a real run needs is inside them; what is
outside either cannot be stored (a seed beyond 64 bits, a date before year
1), cannot finish (a billion billion documents, a replay slowed 10³⁰⁰ times)
or exhausts the machine (100,000 writer threads).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from datagen.errors import InputError


def _shown(value: Any) -> str:
    """``value`` as a person typed it, cut short (an option may be pasted by mistake)."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


@dataclass(frozen=True)
class Bound:
    """An inclusive range of numbers, whole or not, and how to say it."""

    low: float
    high: float
    whole: bool = True
    low_open: bool = False  # ``low`` itself excluded (a scale must be above 0)
    example: str = ""
    words: str = ""  # says the range when numbers alone would not (a duration)

    def describe(self) -> str:
        if self.words:
            return self.words

        def number(value: float) -> str:
            if self.whole or float(value).is_integer():
                return f"{int(value):,}" if abs(value) < 10**12 else str(int(value))
            return f"{value:g}"

        kind = "a whole number" if self.whole else "a number"
        if self.low_open:
            text = f"{kind} above {number(self.low)} and at most {number(self.high)}"
        else:
            text = f"{kind} from {number(self.low)} to {number(self.high)}"
        return f"{text}, e.g. {self.example}" if self.example else text

    def parse(self, value: Any, shown: str | None = None) -> int | float:
        """``value`` (text or a number) as a number within the bound; ValueError saying why.

        ``shown`` is what the person typed, when ``value`` was converted from it.
        """
        seen = _shown(value if shown is None else shown)
        if isinstance(value, bool):
            raise ValueError(f"{seen} is not {self.describe()}")
        number: int | float
        if isinstance(value, (int, float)):
            number = value
        else:
            text = str(value).strip().replace("_", "")
            try:
                number = int(text) if self.whole else float(text)
            except ValueError:
                raise ValueError(f"{seen} is not {self.describe()}") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"{seen} is not {self.describe()}")
        if self.whole and isinstance(number, float) and not number.is_integer():
            raise ValueError(f"{seen} is not {self.describe()}")
        below = number <= self.low if self.low_open else number < self.low
        if below or number > self.high:
            raise ValueError(f"{seen} is out of range: give {self.describe()}")
        return int(number) if self.whole else float(number)

    def check(self, value: Any, name: str) -> int | float:
        """``parse``, raising InputError naming ``name`` (a keyword or a manifest field)."""
        try:
            return self.parse(value)
        except ValueError as err:
            raise InputError(f"{name}: {err}") from None


MAX_SEED = 2**63 - 1
"""Seeds fit a signed 64-bit integer: JSON readers, databases and numpy all take it."""

SEED = Bound(0, MAX_SEED, example="7")
QUANTITY = Bound(1, 10**9, example="1000")  # documents or journeys of one run; --refs counts
WORKERS = Bound(1, 256, example="4")
SCALE = Bound(0, 10**6, whole=False, low_open=True, example="10 or 0.5")
SPEED = Bound(0.001, 10**6, whole=False, example="60, or 'max'")
CONCURRENCY = Bound(1, 512, example="8")
CLIENTS = Bound(1, 256, example="8")  # a probe's connections at once, each a thread
RETRIES = Bound(0, 100, example="5")
RUNS_PER_HOUR = Bound(0, 3600, whole=False, low_open=True, example="4")  # a batch writer's runs
MAX_DURATION = 365 * 86400.0
"""Schedule seconds in a ``--duration`` or ``--ramp-up``: a year at the most."""
DURATION = Bound(
    0,
    MAX_DURATION,
    whole=False,
    words="a duration from 0 to 365 days, such as 90 (seconds), 90s, 5m, 1h30m or 2d",
)

EARLIEST_DATE = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST_DATE = datetime(2999, 12, 31, tzinfo=timezone.utc)
"""Reference dates: timestamps are drawn up to decades before them, and every
database stores the years between (MySQL's DATETIME starts at year 1000)."""


def parse_date(value: Any) -> datetime:
    """An ISO date or time within the bounds (UTC if no zone is given); ValueError saying why."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"{_shown(value)} is not an ISO date such as 2025-01-01") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        shown = value.isoformat() if isinstance(value, datetime) else value
        raise ValueError(
            f"{_shown(shown)} is out of range: give a date from "
            f"{EARLIEST_DATE:%Y-%m-%d} to {LATEST_DATE:%Y-%m-%d}, e.g. 2025-01-01"
        )
    return parsed


def check_date(value: Any, name: str) -> datetime:
    """``parse_date``, raising InputError naming ``name``."""
    try:
        return parse_date(value)
    except ValueError as err:
        raise InputError(f"{name}: {err}") from None


MAX_ENTRY_BYTES = 16 << 20
"""A journey zip's entry (one document, or the metadata) inflates to this at most."""
MAX_JOURNEY_BYTES = 64 << 20
"""A journey zip, and the sum of its entries' inflated sizes, are this at most: a zip
bomb (a small zip of a huge entry) is refused from the sizes its directory declares,
before anything is inflated."""


def check_inputs(
    *,
    seed: int | None = None,
    quantity: int | None = None,
    reference_date: datetime | None = None,
    workers: int | None = None,
    scale: float | None = None,
    clients: int | None = None,
    retries: int | None = None,
    duration: float | None = None,
) -> None:
    """The library's own check of the values its callers pass (the CLI's types check first)."""
    if seed is not None:
        SEED.check(seed, "seed")
    if quantity is not None:
        QUANTITY.check(quantity, "quantity")
    if reference_date is not None:
        check_date(reference_date, "reference_date")
    if workers is not None:
        WORKERS.check(workers, "workers")
    if scale is not None:
        SCALE.check(scale, "scale")
    if clients is not None:
        CLIENTS.check(clients, "clients")
    if retries is not None:
        RETRIES.check(retries, "retries")
    if duration is not None:
        DURATION.check(duration, "duration")


MAX_ROWS = 10**10
"""An entity's rows at the most (and a scenario run's): more is a mistake (a zipf without max)."""
