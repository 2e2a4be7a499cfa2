"""Data Generator: reproducible synthetic documents, journeys and populations.

Data flows one way, from producers through one driver to one target protocol
(the layers are checked by ``lint-imports``, ``[tool.importlinter]`` in
``pyproject.toml``):

- Definitions. ``DocumentProvider``s (``document_providers/``) declare a
  Mimesis schema for one entity, ``JourneyProvider``s (``journey_providers/``)
  chain documents into timed steps; both register themselves on import
  (:mod:`datagen.documents`, :mod:`datagen.journeys`). Templates compile to
  row builders (:mod:`datagen.schema`, :mod:`datagen.specs`,
  :mod:`datagen.field_factory`, :mod:`datagen.pools`, :mod:`datagen.fields`,
  :mod:`datagen.columns`); scenarios
  (:mod:`datagen.scenarios`) plan a population of related tables.
- Producers, each behind the function its command calls, yield batches (rows
  of one table, or files) shard by shard: documents (:mod:`datagen.generator`),
  journeys (:mod:`datagen.journey_generator`), scenario populations
  (:mod:`datagen.scenarios.populate`) and runs on disk (:mod:`datagen.publish`,
  which checks them first: :mod:`datagen.run_files`). A shard's random state
  derives from (seed, provider, shard index) only
  (:data:`datagen.seeding.SHARD_SIZE`), so the output never depends on the
  workers nor where they run.
- The driver (:func:`datagen.driver.write`) runs a producer's shards on the
  current engine (:mod:`datagen.engines`: local processes, or a Dask cluster
  with ``--scheduler``; at most a few shards per worker in flight) and writes
  every batch into one target, in order. A run with manifests (documents,
  journeys, a population's tables) goes to a folder, a zip or blobs through
  :func:`datagen.runs.write_run`; every manifest is built by
  :func:`datagen.manifest.build_manifest`. On a Dask cluster the workers
  write database and blob targets themselves (:mod:`datagen.cluster_documents`,
  :mod:`datagen.cluster_files`, ``scenarios.cluster_load``/``cluster_blobs``).
- Targets (:mod:`datagen.sinks`): :mod:`datagen.sinks.urls` reads every
  ``--to``, :func:`datagen.sinks.open.open_target` gives a
  :class:`datagen.sinks.base.Target` (databases, folders, zips, blobs).
- Runs on disk: written under a temporary name and renamed when complete
  (:mod:`datagen.atomic`, whose ``hidden`` is the one rule of which files are
  a run's); ``verify`` regenerates and compares them (:mod:`datagen.verify`),
  ``publish`` sends them to a target, ``replay`` performs journeys on their
  own clock (:mod:`datagen.replay`).
- Measuring a database: ``probe`` (:mod:`datagen.probes`) times a service's
  queries at several scales, ``load`` (:mod:`datagen.workloads`) runs a
  workload against it.
- Core: :mod:`datagen.tablespec` (the table model), :mod:`datagen.tables`,
  :mod:`datagen.formats`, :mod:`datagen.manifest`, :mod:`datagen.ordering`,
  :mod:`datagen.limits`, :mod:`datagen.errors`, :mod:`datagen.types`.
"""

__version__ = "0.4.0"
