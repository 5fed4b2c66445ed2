"""The journal: SQLite in WAL mode, one writer, group commits off the Trio thread."""
