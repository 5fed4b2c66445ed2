"""The journal: SQLite in WAL mode, one writer process, group commits."""
