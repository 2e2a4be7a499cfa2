"""Data Generator: reproducible synthetic documents, journeys and populations.

Data flows one way, from producers through one target protocol to targets
(the layers are checked by ``lint-imports``, ``[tool.importlinter]`` in
``pyproject.toml``):

- Definitions. ``DocumentProvider``s (``document_providers/``) declare a
  Mimesis schema for one entity, ``JourneyProvider``s (``journey_providers/``)
  chain documents into timed steps; both register themselves on import
  (:mod:`datagen.documents`, :mod:`datagen.journeys`). Templates compile to
  row builders (:mod:`datagen.schema`, :mod:`datagen.specs`,
  :mod:`datagen.field_factory`, :mod:`datagen.pools`, :mod:`datagen.fields`,
  :mod:`datagen.columns`).
- Producers, each behind the function its command calls: documents
  (:mod:`datagen.generator`), journeys (:mod:`datagen.journey_run`) and
  scenario populations (:mod:`datagen.scenarios`). Work is cut into shards of
  a fixed size (:data:`datagen.seeding.SHARD_SIZE`) whose random state derives
  from (seed, provider, shard index) only, so the output never depends on the
  workers (:mod:`datagen.parallel`, :mod:`datagen.runs`,
  :mod:`datagen.scenarios.runner`), nor where they run: local processes or a
  Dask cluster (:mod:`datagen.engines`, ``--scheduler``).
- Targets (:mod:`datagen.sinks`): :mod:`datagen.sinks.urls` reads every
  ``--to``, :func:`datagen.sinks.open.open_target` gives a
  :class:`datagen.sinks.base.Target` (databases, folders, zips, blobs).
- Runs on disk: a folder's files are written under a temporary name and
  renamed when complete (:mod:`datagen.atomic`), with a manifest
  (:mod:`datagen.manifest`) that ``verify`` regenerates and compares
  (:mod:`datagen.verify`), ``publish`` checks and sends to a target
  (:mod:`datagen.run_files`, :mod:`datagen.publish`) and ``replay`` performs
  on the journeys' own clock (:mod:`datagen.replay`).
- Measuring a database: ``probe`` (:mod:`datagen.probes`) times a service's
  queries at several scales, ``load`` (:mod:`datagen.workloads`) runs a
  workload against it.
- Core: :mod:`datagen.tablespec` (the table model), :mod:`datagen.tables`,
  :mod:`datagen.formats`, :mod:`datagen.ordering`, :mod:`datagen.limits`,
  :mod:`datagen.errors`, :mod:`datagen.types`.
"""

__version__ = "0.4.0"
