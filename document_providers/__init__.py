"""Document providers: one module per entity, discovered by scanning this folder."""
