"""LSTM intent predictor with channel and temporal attention and MC-Dropout.

* :mod:`~teleimp_env.agents.predictors.lstm.model`: the torch network (:class:`IntentNet`,
  :class:`NetConfig`), sequence mode for training and offline evaluation;
* :mod:`~teleimp_env.agents.predictors.lstm.training`: the seeded training loop
  (:class:`TrainConfig`, :func:`train_net`) with the data-derived stiffness-rate penalty;
* :mod:`~teleimp_env.agents.predictors.lstm.inference`: the numpy streaming twin
  (:class:`IntentStepper`) used online;
* :mod:`~teleimp_env.agents.predictors.lstm.predictor`: :class:`LstmPredictor` (the
  :class:`~teleimp_env.agents.base.Predictor`) and :func:`fit_lstm_predictor` (build, train and
  return a fitted predictor from training and validation data and a seed).

Submodules import torch; import them directly (this package module imports nothing).
"""
