"""Plain functions over the database, one module per concept."""
