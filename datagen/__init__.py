"""Data Generator: reproducible synthetic documents and user journeys.

The pipeline has three stages, and data flows one way through them:

1. Definitions. A ``DocumentProvider`` (``document_providers/``) declares a
   Mimesis schema for one entity; a ``JourneyProvider``
   (``journey_providers/``) chains documents into timed steps. Both register
   themselves when their module is imported.
2. Generation. Work is cut into shards of a fixed size
   (:data:`datagen.seeding.SHARD_SIZE`); each shard's random state derives
   from (seed, provider, shard index) only, so the output never depends on
   how many workers ran the shards, nor where: local processes or a Dask
   cluster (:mod:`datagen.engines`).
3. Output. Each shard becomes encoded chunks (:mod:`datagen.formats`) that a
   writer appends to files written under a temporary name and renamed when
   complete (:mod:`datagen.atomic`), with a manifest that lets ``verify``
   regenerate and compare (:mod:`datagen.manifest`, :mod:`datagen.verify`).
"""

__version__ = "0.4.0"
