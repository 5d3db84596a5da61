"""Tournaments: specs (TOML), paired expansion, backends, the SQLite store, aggregation."""

#: ``teleimp tournament --batch`` default: episodes of one stack a worker runs together in the
#: vector env, chosen from ``teleimp bench tournament``'s batched-vs-unbatched figure on 2 cores.
DEFAULT_BATCH = 8
