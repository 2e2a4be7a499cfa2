"""Journey providers: one module per journey, discovered by scanning this folder."""
