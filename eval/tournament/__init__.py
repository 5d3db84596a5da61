"""Tournaments: specs (TOML), paired expansion, backends, the SQLite store, aggregation."""
