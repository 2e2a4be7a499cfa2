"""Scenarios: production-like populations described in YAML.

loader (YAML with lines, includes, JSON Schema) → planning (counts per parent
from distributions, references, natural keys) → rows (per shard, seeded from
(seed, entity, shard)) → populate (a database or files) · digest (verify-target)
· report (HTML).
"""

from pathlib import Path

DEFAULT_SCENARIO_DIR = Path("output/scenarios")
