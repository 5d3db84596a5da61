"""The shipped LSTM with MC-Dropout as a study row (``lstm-mc``), loaded through the agents API.

The checkpoint ``assets/checkpoints/lstm.npz`` is read with ``LstmPredictor.load`` and used as shipped: it
is **not** retrained per generator or fold (it was trained by ``teleimp train lstm`` on its own data), so
this row answers "how does the network the benchmark ships do here", not "how good can an LSTM with
MC-Dropout get on this generator". It is driven through the public
:class:`teleimp_env.agents.base.Predictor` contract, exactly as a stack drives it: per test episode
``set_rng(generator)`` (a NumPy generator from the study seed and the episode index, which draws the
dropout masks), ``reset()``, then ``update(packet)`` for every packet in order and ``predict(horizon)`` at
each sample's packet (the mean over its MC-Dropout streams). If the module or the checkpoint is missing,
the row says "not available" (never a number).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from teleimp_env.eval.study.base import FamilyUnavailable, StudyModel
from teleimp_env.eval.study.data import Split, StudyData


def hand_rng(predictor: object, rng: np.random.Generator) -> None:
    """Give ``predictor`` the generator its stochastic parts draw from (the ``Predictor.set_rng``
    hook of :mod:`teleimp_env.agents.base`; older versions called it ``seed``)."""
    hook = getattr(predictor, "set_rng", None)
    if not callable(hook):
        hook = getattr(predictor, "seed", None)
    if not callable(hook):
        raise FamilyUnavailable("not available: the LSTM predictor takes no generator (set_rng)")
    hook(rng)


class ShippedLSTM(StudyModel):
    """Adapter of the shipped ``LstmPredictor`` (see the module docstring)."""

    family = "lstm-mc"
    evaluates_train = False

    def __init__(self, checkpoint: str | Path | None = None) -> None:
        """``checkpoint``: an ``LstmPredictor`` checkpoint (default: the shipped one)."""
        self.checkpoint = checkpoint

    def fit(self, data: StudyData, seed: np.random.SeedSequence) -> ShippedLSTM:
        try:
            from teleimp_env.agents.checkpoint import default_checkpoint
            from teleimp_env.agents.predictors.lstm.predictor import LstmPredictor
        except ImportError as exc:
            raise FamilyUnavailable(f"not available: the agents LSTM cannot be imported ({exc})") from None
        path = Path(self.checkpoint) if self.checkpoint is not None else default_checkpoint("lstm")
        if not path.is_file():
            where = f"assets/checkpoints/{path.name}" if self.checkpoint is None else str(path)
            raise FamilyUnavailable(f"not available: no LSTM checkpoint at {where}")
        self.predictor_ = LstmPredictor.load(path)
        self.seed_ = int(seed.generate_state(1, dtype=np.uint32)[0])
        self.note = "shipped checkpoint, not retrained per generator"
        return self

    def predict(self, data: StudyData, split: Split) -> np.ndarray:
        s = split.samples
        layout = data.layout
        horizons = [float(h) for h in layout.horizons_s]
        out = np.zeros((len(s), len(horizons), 6))
        pred = self.predictor_
        for e_idx, ep in enumerate(split.episodes):
            rows = np.flatnonzero(s.episode == e_idx)
            if rows.size == 0:
                continue
            at_packet = dict(zip((s.frame[rows] * layout.step).tolist(), rows.tolist(), strict=True))
            hand_rng(pred, np.random.default_rng(np.random.SeedSequence([self.seed_, e_idx])))
            pred.reset()
            for i in range(max(at_packet) + 1):
                pred.update(ep.packets[i])
                row = at_packet.get(i)
                if row is None:
                    continue
                for k, h in enumerate(horizons):
                    intent = pred.predict(h)
                    out[row, k, :3] = intent.pos
                    out[row, k, 3:] = intent.stiffness
        return out

    def n_params(self) -> int:
        return int(sum(p.numel() for p in self.predictor_.net_.parameters()))
