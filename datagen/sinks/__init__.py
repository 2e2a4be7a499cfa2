"""Sinks: where generated records and files go, chosen by the ``--to`` URL.

Two families share one naming scheme:

- record sinks (databases) take batches of records of one kind:
  ``sqlite:///path.db``, ``postgresql://…``, ``mysql+pymysql://…``;
- file sinks take encoded files (``Chunk``s): a folder path, ``name.zip``,
  ``azure://container/prefix``.
"""
