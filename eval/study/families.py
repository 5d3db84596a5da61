"""The study's predictor families: their names, table order and what each row is.

Rows fitted per generator and fold on the training subjects (model selection, if any, on the
validation subjects):

* agents' predictors, the same classes the shipped stacks run (:mod:`teleimp_env.eval.study.agent_rows`):
  ``naive`` (hold the newest packet), ``cv`` (constant velocity), ``kf`` (Kalman filter with
  Singer prediction), ``sindy`` (sparse polynomial dynamics, thresholds chosen on validation),
  ``lstm`` (the MC-Dropout intent LSTM, best iterate on validation);
* study-only window regressors on the same input windows (:mod:`teleimp_env.eval.study.window_models`,
  :mod:`teleimp_env.eval.study.esn`): ``ridge``, ``esn``, ``mlp``, ``linear``, ``cnn``, ``gru``,
  ``tcn``.

Rows that are **not** retrained (:mod:`teleimp_env.eval.study.shipped`): ``shipped-cv``,
``shipped-kf``, ``shipped-sindy``, ``shipped-lstm``, the checkpoints in ``assets/checkpoints/``
as the stacks load them.
"""

from __future__ import annotations

#: Predictors of :mod:`teleimp_env.agents`, retrained by the study.
AGENT_FAMILIES: tuple[str, ...] = ("naive", "cv", "kf", "sindy", "lstm")
#: Study-only regressors from the input window to every horizon's residual.
WINDOW_FAMILIES: tuple[str, ...] = ("ridge", "esn", "mlp", "linear", "cnn", "gru", "tcn")
#: Shipped checkpoints, evaluated as they are.
SHIPPED_FAMILIES: tuple[str, ...] = ("shipped-cv", "shipped-kf", "shipped-sindy", "shipped-lstm")
#: Every family, in table order (a family's position also seeds it, see ``run``).
FAMILIES: tuple[str, ...] = (*AGENT_FAMILIES, *WINDOW_FAMILIES, *SHIPPED_FAMILIES)
