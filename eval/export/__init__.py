"""Results out of a tournament folder: ``teleimp export DIR --format csv|parquet|tensorboard``.

* :mod:`~teleimp_env.eval.export.table`: one row per stored episode (cell coordinates, seed,
  timing, every metric) from ``results.sqlite``, read-only;
* :mod:`~teleimp_env.eval.export.steps`: the per-step logs of those episodes as one long table;
* :mod:`~teleimp_env.eval.export.writers`: CSV (stdlib), Parquet (pyarrow, the ``export``
  extra) and TensorBoard scalars (the ``tensorboard`` extra);
* :mod:`~teleimp_env.eval.export.cli`: the command.
"""
