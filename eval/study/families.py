"""The study's predictor families: their names, table order, what each row is, and row names per modality.

Rows fitted per generator and fold on the training subjects (model selection, if any, on the
validation subjects):

* agents' predictors, the same classes the shipped stacks run (:mod:`teleimp_env.eval.study.agent_rows`):
  ``naive`` (hold the newest packet), ``cv`` (constant velocity), ``kf`` (Kalman filter with
  Singer prediction), ``sindy`` (sparse polynomial dynamics, thresholds chosen on validation),
  ``lstm`` (the MC-Dropout intent LSTM, best iterate on validation), ``readout`` (the linear
  read-out ``LinearReadout`` with ``envelopes="raw"``: it reads the envelope columns as the study's
  modality leaves them, standardised by the training population only);
* study-only window regressors on the same input windows (:mod:`teleimp_env.eval.study.window_models`,
  :mod:`teleimp_env.eval.study.esn`): ``ridge``, ``esn``, ``mlp``, ``linear``, ``cnn``, ``gru``,
  ``tcn``.

Rows that are **not** retrained (:mod:`teleimp_env.eval.study.shipped`): ``shipped-cv``,
``shipped-kf``, ``shipped-sindy``, ``shipped-lstm``, the checkpoints in ``assets/checkpoints/``
as the stacks load them.

**Modalities** (``--modalities``, :data:`~teleimp_env.agents.data.envelope_inputs.MODALITIES`):
every family that learns from the envelopes (:data:`ENVELOPE_FAMILIES`) is fitted and scored once
per modality on the train / validation / test episodes with rewritten envelope columns
(:mod:`teleimp_env.agents.data.envelope_inputs`); ``naive``, ``cv`` and ``kf`` never read the
envelopes and the ``shipped-*`` rows are not retrained, so they run once, on the packets as sent.
A row's name is :func:`row_name`: the family for ``emg`` (so a default run's names are the
family names) and ``family·modality`` otherwise (``lstm·noemg``, ``ridge·norm``; U+00B7 MIDDLE
DOT, which no family name contains and which needs no escaping in Markdown or CSV).
``--families`` takes family names only; ``--modalities`` picks the modalities.
"""

from __future__ import annotations

#: Predictors of :mod:`teleimp_env.agents`, retrained by the study.
AGENT_FAMILIES: tuple[str, ...] = ("naive", "cv", "kf", "sindy", "lstm", "readout")
#: Study-only regressors from the input window to every horizon's residual.
WINDOW_FAMILIES: tuple[str, ...] = ("ridge", "esn", "mlp", "linear", "cnn", "gru", "tcn")
#: Shipped checkpoints, evaluated as they are.
SHIPPED_FAMILIES: tuple[str, ...] = ("shipped-cv", "shipped-kf", "shipped-sindy", "shipped-lstm")
#: Every family, in table order.
FAMILIES: tuple[str, ...] = (*AGENT_FAMILIES, *WINDOW_FAMILIES, *SHIPPED_FAMILIES)
#: The families that learn from the envelopes: fitted once per modality.
ENVELOPE_FAMILIES: tuple[str, ...] = ("sindy", "lstm", "readout", *WINDOW_FAMILIES)
#: Seed index of each family (see ``runner``): the family order before ``readout`` was added,
#: new families appended, so that adding a family never changes another family's seed.
SEED_ORDER: tuple[str, ...] = (
    "naive", "cv", "kf", "sindy", "lstm", *WINDOW_FAMILIES, *SHIPPED_FAMILIES, "readout",
)  # fmt: skip
#: Separator of a row name's family and modality.
MODALITY_SEP = "·"


def seed_index(family: str) -> int:
    """The family's index in a row's ``SeedSequence`` (stable across added families)."""
    return SEED_ORDER.index(family)


def reads_envelopes(family: str) -> bool:
    """Whether ``family`` learns from the envelopes (is fitted once per modality)."""
    return family in ENVELOPE_FAMILIES


def row_name(family: str, modality: str = "emg") -> str:
    """``family`` for ``emg``, ``family·modality`` otherwise."""
    return family if modality == "emg" else f"{family}{MODALITY_SEP}{modality}"


def split_row_name(name: str) -> tuple[str, str]:
    """Inverse of :func:`row_name`: ``(family, modality)``."""
    family, _, modality = name.partition(MODALITY_SEP)
    return family, modality or "emg"
