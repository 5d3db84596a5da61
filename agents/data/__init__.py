"""Recorded data and what is measured on it, below the predictors (they fit on it and calibrate with it).

* :mod:`~teleimp_env.agents.data.dataset`: :class:`Episode`, :class:`Dataset` and
  :class:`DatasetSpec`, episodes recorded from the env (the packets the operator sent, plus the
  true arm stiffness);
* :mod:`~teleimp_env.agents.data.calibration`: offline evaluation of a predictor on recorded
  episodes and the calibration built on it (95 % spread factors, gate thresholds).

The training pipeline (``teleimp train``, :mod:`teleimp_env.agents.training`) stands above the
predictors and uses both.
"""
