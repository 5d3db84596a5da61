"""``teleimp train``: record datasets, fit a predictor, calibrate it, save its checkpoint.

Stands above the predictors (:mod:`teleimp_env.agents.training.pipeline` imports them); the
datasets and the calibration it uses live below them, in :mod:`teleimp_env.agents.data`.
"""
