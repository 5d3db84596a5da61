"""The batched kernel of N :class:`~teleimp_env.agents.predictors.lstm.predictor.LstmPredictor` members.

:class:`LstmBatch` holds the :class:`~teleimp_env.agents.predictors.lstm.inference.IntentStepper`
state of all N members stacked along the stream axis: ``N·S`` rows (member i owns rows
``i·S … (i+1)·S − 1``, ``S = n_samples``), each member with its own ring-buffer slot (members receive
different numbers of packets). One :meth:`LstmBatch.update` advances every listed member by one
packet in one pass (one matmul per layer for all their streams); one :meth:`LstmBatch.predict`
evaluates every listed member's heads at its own horizon. Every product goes through
:mod:`teleimp_env.products` on C-contiguous operands laid out as in the single stepper, whose
results are the same row for row however many rows are stacked, so the kernel gives exactly (bit
for bit) the Intents of the members' own ``update``/``predict``.

The members' steppers keep pointing at the kernel's state: after :meth:`LstmBatch.sync` (or the
kernel's construction) member i's stepper arrays are views of its rows of the kernel's arrays, and
the kernel writes in place and keeps the stepper's ``slot``, the member's ``_pos`` and ``_k_sent``
current, so ``member.predict`` still answers for the packets the kernel gave it. A member stepped
on its own (``member.update``) must be re-synchronised (:meth:`LstmBatch.sync`) before the kernel
drives it again, as after a reset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from teleimp_env.agents.base import Intent, PredictorBatch, check_fitted
from teleimp_env.agents.predictors.lstm.inference import IntentStepper, _sigmoid
from teleimp_env.agents.predictors.lstm.model import N_EMG, N_INPUTS, network_inputs
from teleimp_env.agents.predictors.lstm.predictor import _VEL_DELTA, LstmPredictor
from teleimp_env.packet import HAND_POS, STIFFNESS_ESTIMATE
from teleimp_env.products import batched_matmul, matmul, matmul_transposed

#: The stepper's weights (attributes of :class:`IntentStepper`) the members must share.
_WEIGHTS = (
    "in_mean", "in_scale", "ch1_w", "ch1_b", "ch2_w", "ch2_b", "l1_w", "l1_b", "l2_w", "l2_b",
    "att_w", "att_b", "att_v", "hd1_w", "hd1_b", "hd1_tau", "p2_wt", "p2_b", "k2_wt", "k2_b",
)  # fmt: skip
#: The stepper's per-episode state, (S, …) arrays: masks, recurrent state, ring buffers, head input.
_STATE = ("m_in", "m_mid", "m_head", "z1", "z2", "c1", "c2", "h_buf", "s_buf", "head_pre")


class LstmBatch(PredictorBatch):
    """N LSTM predictors of one checkpoint stepped as one (see the module docstring).

    Args:
        members: the N fitted predictors (same network configuration, weights and ``n_samples``;
            their spread calibration factors may differ).

    Raises:
        ValueError: the members differ in ``n_samples``, network configuration or weights.
    """

    def __init__(self, members: Sequence[LstmPredictor]) -> None:
        super().__init__(members)
        members = self.members
        if not members:
            raise ValueError("an LstmBatch needs at least one member predictor")
        for member in members:
            if not isinstance(member, LstmPredictor):
                raise ValueError(f"LstmBatch members must be LstmPredictors, got {type(member).__name__}")
            check_fitted(member, "net_")
        samples = [m.n_samples for m in members]
        if len(set(samples)) != 1:
            raise ValueError(f"LstmBatch members must have equal n_samples, got {samples}")
        first = members[0]
        self.config = first.net
        self.weights = {name: getattr(first._stepper, name) for name in _WEIGHTS}
        self.n_pos_hidden = first._stepper.n_pos_hidden
        self._steppers: list[IntentStepper] = [m._stepper for m in members]
        for i in range(1, len(members)):
            self._check_same(i)
        n, s, c = len(members), samples[0], self.config
        self.n_samples = s
        hid, t_win = c.hidden, c.att_window
        n_head = self.weights["hd1_b"].shape[0]
        f32 = np.float32
        shapes = {
            "m_in": (N_INPUTS,), "m_mid": (hid,), "m_head": (2 * hid,), "z1": (N_INPUTS + hid,),
            "z2": (2 * hid,), "c1": (hid,), "c2": (hid,), "h_buf": (t_win, hid), "s_buf": (t_win,),
            "head_pre": (n_head,),
        }  # fmt: skip
        self.state = {name: np.zeros((n * s, *shape), dtype=f32) for name, shape in shapes.items()}
        self.slot = np.zeros(n, dtype=np.intp)
        self.pos = np.zeros((n, 3))
        self.k_sent = np.zeros((n, 3))
        self.has_packet = np.zeros(n, dtype=bool)
        self.needs_reset = np.zeros(n, dtype=bool)
        self._streams = np.arange(s)
        for i in range(n):
            self._load(i)

    # ------------------------------------------------------------------ members
    def _check_same(self, i: int) -> None:
        """Raise ValueError unless member i's network equals the kernel's (member 0's)."""
        member = self.members[i]
        if member.net != self.config:
            raise ValueError(
                f"LstmBatch members must share one network configuration: member {i} has {member.net}, "
                f"member 0 {self.config}"
            )
        stepper = member._stepper
        for name, value in self.weights.items():
            if not np.array_equal(getattr(stepper, name), value):
                raise ValueError(
                    f"LstmBatch members must share the same weights (one checkpoint): member {i}'s "
                    f"weights {name!r} differ from member 0's"
                )

    def _rows(self, i: int) -> slice:
        s = self.n_samples
        return slice(i * s, (i + 1) * s)

    def _load(self, i: int) -> None:
        """Copy member i's stepper state into the kernel and make the stepper's arrays views of it."""
        member = self.members[i]
        stepper = member._stepper
        if stepper.n_samples == 0:  # never reset: its first update resets it, as the single path does
            self.needs_reset[i] = True
            self.has_packet[i] = False
            return
        if stepper.n_samples != self.n_samples:
            raise ValueError(
                f"LstmBatch member {i}'s stepper runs {stepper.n_samples} streams, expected {self.n_samples}"
            )
        rows = self._rows(i)
        for name in _STATE:
            block = self.state[name][rows]
            value = getattr(stepper, name)
            if value is None:  # head_pre before the first packet
                block.fill(0.0)
            else:
                block[...] = value
            setattr(stepper, name, block)
        self.slot[i] = stepper.slot
        self.needs_reset[i] = False
        self.has_packet[i] = member._pos is not None
        if member._pos is not None:
            self.pos[i] = member._pos
            self.k_sent[i] = member._k_sent

    def sync(self, index: int) -> None:
        """Member ``index`` was reset (or stepped on its own): re-read its state (masks included)."""
        stepper = self.members[index]._stepper
        if stepper is not self._steppers[index]:  # refitted or reloaded: check the weights again
            self._check_same(index)
            self._steppers[index] = stepper
        self._load(index)

    # ------------------------------------------------------------------ update
    def update(self, index: np.ndarray, rows: np.ndarray) -> None:
        """Advance member ``index[j]``'s streams by the packet ``rows[j]`` (20,), all in one pass."""
        index = np.asarray(index, dtype=np.intp).reshape(-1)
        if index.size == 0:
            return
        rows = np.asarray(rows, dtype=np.float64).reshape(index.size, -1)
        if self.needs_reset[index].any():
            for i in index[self.needs_reset[index]].tolist():
                self.members[i].reset()
                self.sync(i)
        first = int(index[0])
        if index[-1] - first + 1 == index.size and (index.size == 1 or np.all(np.diff(index) == 1)):
            self._advance(index, rows, slice(first * self.n_samples, (first + index.size) * self.n_samples))
        else:
            if np.unique(index).size != index.size:
                raise ValueError("LstmBatch.update takes at most one packet per member per call")
            self._advance(index, rows, (index[:, None] * self.n_samples + self._streams).reshape(-1))
        # the members' own bookkeeping, as LstmPredictor.update keeps it
        pos = np.array(rows[:, HAND_POS])
        k_sent = np.array(rows[:, STIFFNESS_ESTIMATE])
        self.pos[index] = pos
        self.k_sent[index] = k_sent
        self.has_packet[index] = True
        slots = self.slot[index].tolist()
        for j, i in enumerate(index.tolist()):
            member = self.members[i]
            member._pos = pos[j]
            member._k_sent = k_sent[j]
            member._stepper.slot = slots[j]

    def _advance(self, index: np.ndarray, rows: np.ndarray, sel: slice | np.ndarray) -> None:
        """:meth:`IntentStepper.step` for the streams ``sel`` (a slice: views, in place; an index
        array: gathered, then scattered back) of members ``index``."""
        w, c, st, s = self.weights, self.config, self.state, self.n_samples
        hid, m = c.hidden, index.size
        gathered = not isinstance(sel, slice)
        x = ((network_inputs(rows).astype(np.float32) - w["in_mean"]) / w["in_scale"]).astype(np.float32)
        emg = np.ascontiguousarray(x[:, :N_EMG])
        channel = np.tanh(matmul(emg, w["ch1_w"]) + w["ch1_b"])
        x[:, :N_EMG] = emg * _sigmoid(matmul(channel, w["ch2_w"]) + w["ch2_b"])
        z1, z2, c1, c2 = st["z1"][sel], st["z2"][sel], st["c1"][sel], st["c2"][sel]
        n_in = x.shape[1]
        np.multiply(st["m_in"][sel].reshape(m, s, n_in), x[:, None, :], out=z1.reshape(m, s, -1)[:, :, :n_in])
        h1, c1_new = IntentStepper._cell(matmul(z1, w["l1_w"]) + w["l1_b"], c1, hid)
        z1[:, n_in:] = h1
        np.multiply(h1, st["m_mid"][sel], out=z2[:, :hid])
        h2, c2_new = IntentStepper._cell(matmul(z2, w["l2_w"]) + w["l2_b"], c2, hid)
        z2[:, hid:] = h2
        if gathered:
            st["z1"][sel], st["z2"][sel], st["c1"][sel], st["c2"][sel] = z1, z2, c1_new, c2_new
            streams = sel
        else:
            c1[...], c2[...] = c1_new, c2_new
            streams = np.arange(sel.start, sel.stop)
        slots = np.repeat(self.slot[index], s)
        st["h_buf"][streams, slots] = h2
        st["s_buf"][streams, slots] = matmul(np.tanh(matmul(h2, w["att_w"]) + w["att_b"]), w["att_v"])
        self.slot[index] = (self.slot[index] + 1) % c.att_window
        s_buf, h_buf = st["s_buf"][sel], st["h_buf"][sel]
        e = np.exp(s_buf - s_buf.max(axis=1, keepdims=True))
        ctx = batched_matmul(e, h_buf) / e.sum(axis=1, keepdims=True)
        phi = np.concatenate((h2, ctx), axis=1) * st["m_head"][sel]
        head_pre = matmul(phi, w["hd1_w"]) + w["hd1_b"]
        if gathered:
            st["head_pre"][sel] = head_pre
        else:
            st["head_pre"][sel][...] = head_pre

    # ------------------------------------------------------------------ predict
    def predict(self, index: np.ndarray, horizons_s: np.ndarray) -> list[Intent]:
        """Each member's :meth:`LstmPredictor.predict` at its own horizon, all heads in one pass."""
        index = np.asarray(index, dtype=np.intp).reshape(-1)
        if index.size == 0:
            return []
        missing = index[~self.has_packet[index]]
        if missing.size:
            raise RuntimeError(
                "LstmPredictor.predict called before any packet was given to update() "
                f"(batch member {int(missing[0])})"
            )
        c, w, s, m = self.config, self.weights, self.n_samples, index.size
        h = np.asarray(horizons_s, dtype=np.float64).reshape(m)
        h = np.where(h < 0.0, 0.0, h)  # max(h, 0.0), as the single path takes it
        taus = np.stack((h, h + _VEL_DELTA), axis=1).astype(np.float32)[:, :, None, None]  # (M, 2, 1, 1)
        head_pre = self.state["head_pre"].reshape(len(self.members), s, -1)[index][:, None]  # (M, 1, S, F)
        hidden = np.maximum(head_pre + (taus / c.horizon_scale) * w["hd1_tau"], 0.0)  # (M, 2, S, F)
        n_p = self.n_pos_hidden
        o = matmul_transposed(hidden[..., :n_p], w["p2_wt"]) + w["p2_b"]
        hv = taus * c.v_scale
        delta = hv * o[..., :3]
        std = hv * np.logaddexp(0.0, o[..., 3:]) + c.sigma_floor
        y = np.maximum(self.k_sent[index].astype(np.float32) / c.k_scale, 1e-3)[:, None, None, :]
        ko = matmul_transposed(hidden[..., n_p:], w["k2_wt"]) + w["k2_b"] + (y + np.log(-np.expm1(-y)))
        k = c.k_scale * np.logaddexp(0.0, ko)
        pos, pos_std, stiff, stiff_std = _moments(delta[:, 0], std[:, 0], k[:, 0])
        vel = (delta[:, 1] - delta[:, 0]).mean(axis=1) / _VEL_DELTA
        members = self.members
        f64 = np.float64
        scales = np.array([[members[i].std_scale_, members[i].stiffness_std_scale_] for i in index.tolist()])
        pos = self.pos[index] + pos.astype(f64)
        vel = vel.astype(f64)
        stiff = stiff.astype(f64)
        pos_std = pos_std.astype(f64) * scales[:, :1]
        stiff_std = stiff_std.astype(f64) * scales[:, 1:]
        return [
            Intent(pos=pos[j], vel=vel[j], stiffness=stiff[j], pos_std=pos_std[j], stiffness_std=stiff_std[j])
            for j in range(m)
        ]


def _moments(delta: np.ndarray, std: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`~teleimp_env.agents.predictors.lstm.predictor._moments` of every member at once:
    streams on axis 1 of (M, S, 3) arrays, the same reductions in the same order."""
    n = delta.shape[1]
    pos = np.add.reduce(delta, axis=1) / n
    dev = delta - pos[:, None]
    pos_var = np.add.reduce(dev * dev, axis=1) / n
    pos_std = np.sqrt(pos_var + np.add.reduce(std * std, axis=1) / n)
    k_mean = np.add.reduce(k, axis=1) / n
    k_dev = k - k_mean[:, None]
    return pos, pos_std, k_mean, np.sqrt(np.add.reduce(k_dev * k_dev, axis=1) / n)


__all__ = ["LstmBatch"]
