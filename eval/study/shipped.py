"""The shipped checkpoints as study rows: ``shipped-cv``, ``shipped-kf``, ``shipped-sindy``, ``shipped-lstm``.

A checkpoint of ``assets/checkpoints/`` (or a given file) is read with its predictor class's
``load``, exactly as ``teleimp_env.agents.make`` reads it for a stack, and evaluated on the test
split through the offline path (:func:`~teleimp_env.eval.study.offline.predict_samples`). It is
**not** retrained per generator or fold: the row answers "how does the model the benchmark ships
do here". Its lineage (:class:`~teleimp_env.agents.lineage.Lineage`, stored in the checkpoint)
says which subjects it was fitted and selected on; a checkpoint that has seen a subject of the
test split, or that records no lineage, gets no number (the row says why), because the study
reports errors only on subjects no model saw. A missing or unreadable checkpoint also makes the
row "not available".
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from teleimp_env.agents.predictors.kinds import PREDICTOR_CLASSES, TRAINED_KINDS, predictor_class
from teleimp_env.eval.study.agent_rows import AgentRow
from teleimp_env.eval.study.base import FamilyUnavailable
from teleimp_env.eval.study.data import StudyData


def load_shipped(kind: str, checkpoint: str | Path | None = None):
    """``(predictor, path)``: the checkpoint of ``kind`` read by its class's ``load``.

    Raises:
        FamilyUnavailable: the predictor cannot be imported, or the file is missing or unreadable.
    """
    from teleimp_env.agents.checkpoint import default_checkpoint

    try:
        cls = predictor_class(kind)
    except ImportError as exc:
        class_name = PREDICTOR_CLASSES[kind][1]
        raise FamilyUnavailable(f"not available: {class_name} cannot be imported ({exc})") from None
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint(kind)
    if not path.is_file():
        where = f"assets/checkpoints/{path.name}" if checkpoint is None else str(path)
        raise FamilyUnavailable(f"not available: no {kind} checkpoint at {where}")
    try:
        return cls.load(path), path
    except Exception as exc:  # a checkpoint being rewritten, or of another format version
        raise FamilyUnavailable(f"not available: cannot load {path.name} ({exc})") from None


class ShippedRow(AgentRow):
    """A shipped checkpoint evaluated as it is (see the module docstring).

    Args:
        kind: ``"cv"``, ``"kf"``, ``"sindy"`` or ``"lstm"``.
        checkpoint: a checkpoint file (default: the shipped one).
    """

    evaluates_train = False

    def __init__(self, kind: str, checkpoint: str | Path | None = None) -> None:
        if kind not in TRAINED_KINDS:
            raise ValueError(f"unknown shipped kind {kind!r}; valid: {', '.join(TRAINED_KINDS)}")
        self.kind = kind
        self.family = f"shipped-{kind}"
        self.checkpoint = checkpoint

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> ShippedRow:
        """Load the checkpoint and check its lineage against the test split (nothing is fitted)."""
        predictor, path = load_shipped(self.kind, self.checkpoint)
        lineage = getattr(predictor, "lineage_", None)
        if lineage is None:
            raise FamilyUnavailable(
                f"not available: {path.name} records no lineage, so it cannot be shown to be held out"
            )
        seen = sorted(lineage.seen_subjects & set(data.test.subjects))
        if seen:
            raise FamilyUnavailable(
                f"not available: {path.name} was fitted or selected on test subject(s) {seen}"
            )
        self.predictor_ = predictor
        self.fit_subjects_ = tuple(lineage.fit_subjects)
        self.selection_subjects_ = tuple(lineage.selection_subjects)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.note = f"{path.name} sha256 {digest}, trained on `{lineage.generator}` sEMG, not retrained"
        return self

    def n_params(self) -> int:
        p = self.predictor_
        if self.kind == "lstm":
            return int(sum(t.numel() for t in p.net_.parameters() if t.requires_grad))
        if self.kind == "sindy":
            return int(sum(p.term_counts().values()))
        names = ("accel_scale_", "crossover_s_", "jerk_psd_", "pos_noise_", "vel_noise_", "accel_tau_s_")
        return int(sum(np.size(getattr(p, n)) for n in (*names, "stiffness_rms_") if hasattr(p, n)))
