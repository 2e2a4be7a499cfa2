"""Targets: where generated records and files go, named by ``--to``.

- :mod:`~datagen.sinks.urls`: the one reader of a ``--to`` string: a folder,
  ``NAME.zip``, ``sqlite:///FILE.db``, ``postgresql://…``,
  ``mysql+pymysql://…``/``mariadb://…``, ``azure://CONTAINER/PREFIX`` or a
  container URL (and, for replay, an ``http(s)://`` endpoint); parsed by
  :mod:`~datagen.sinks.database_urls` and :mod:`~datagen.sinks.blob_urls`,
  kept out of messages by :mod:`~datagen.sinks.redaction`.
- :mod:`~datagen.sinks.open`: ``open_target(to, bulk=…)``, the target for it.
- :mod:`~datagen.sinks.base`: the one protocol, ``Target`` (prepare, write
  rows of one table or add a file's bytes, commit, abort, close; a context
  manager that aborts on an exception), and ``RecordSink`` for databases.
- Databases: :mod:`~datagen.sinks.database` (lifecycle: batches, counts),
  :mod:`~datagen.sinks.table_setup` (creating tables),
  :mod:`~datagen.sinks.backends` (PostgreSQL, MySQL/MariaDB, SQLite),
  :mod:`~datagen.sinks.pg_bulk` and :mod:`~datagen.sinks.sqlite_bulk` (one
  transaction, ``bulk=True``), :mod:`~datagen.sinks.connections`,
  :mod:`~datagen.sinks.reading` (read-back), :mod:`~datagen.sinks.readback`
  (counts checked), :mod:`~datagen.sinks.dialects`, :mod:`~datagen.sinks.rows`,
  :mod:`~datagen.sinks.copy_text`, :mod:`~datagen.sinks.key_upserts`,
  :mod:`~datagen.sinks.constraints`.
- Files: :mod:`~datagen.sinks.files` (hashes only, a run folder being built,
  folder copies, ``NAME.zip``).
- Blobs: :mod:`~datagen.sinks.azure` (the writer),
  :mod:`~datagen.sinks.azure_client`, :mod:`~datagen.sinks.azure_errors`,
  :mod:`~datagen.sinks.azure_upload`.

Replay's step targets (:mod:`datagen.replay.targets`) are adapters over
these, writing timed steps from several threads.
"""
