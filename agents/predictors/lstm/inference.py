"""One-packet-at-a-time inference of :class:`~teleimp_env.agents.predictors.lstm.model.IntentNet` in numpy.

A control step must cost well under a millisecond; torch spends tens of microseconds of
dispatch overhead per operator at these tiny sizes, numpy a few. :class:`IntentStepper` runs
``S`` MC-Dropout streams in one batch (each stream keeps its own masks for the whole episode),
advancing the recurrent state by one packet per :meth:`step`, and evaluates the heads at any
horizon from features cached at the last step. The temporal attention keeps a ring buffer of
the last ``NetConfig.att_window`` second-layer outputs and their scores per stream, so a step
costs O(att_window) (one (S, W) softmax and one batched (S, W) by (S, W, H) product) on top of
the O(1) recurrent cells. It computes in float32, like the torch network, and reproduces its
sequence forward (tested to float32 precision). Its products go through
:mod:`teleimp_env.products` (numpy's own loops, never BLAS), so its actions do not depend on the
BLAS kernel or thread count in force.
"""

from __future__ import annotations

import numpy as np

from teleimp_env.agents.predictors.lstm.model import N_EMG, NetConfig
from teleimp_env.products import batched_matmul, matmul, matmul_transposed


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class IntentStepper:
    """Numpy twin of :class:`~teleimp_env.agents.predictors.lstm.model.IntentNet` for streaming use.

    Args:
        weights: the network's ``state_dict`` as numpy arrays (names as in torch).
        config: the network's :class:`~teleimp_env.agents.predictors.lstm.model.NetConfig`.
    """

    def __init__(self, weights: dict[str, np.ndarray], config: NetConfig) -> None:
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.config = config
        hid = config.hidden
        self.in_mean, self.in_scale = w["in_mean"], w["in_scale"]
        self.ch1_w, self.ch1_b = w["ch1.weight"].T.copy(), w["ch1.bias"]
        self.ch2_w, self.ch2_b = w["ch2.weight"].T.copy(), w["ch2.bias"]
        # Fused [input, recurrent] weights: one matmul per layer and step.
        self.l1_w = np.concatenate((w["lstm1.weight_ih_l0"], w["lstm1.weight_hh_l0"]), axis=1).T.copy()
        self.l1_b = w["lstm1.bias_ih_l0"] + w["lstm1.bias_hh_l0"]
        self.l2_w = np.concatenate((w["lstm2.weight_ih_l0"], w["lstm2.weight_hh_l0"]), axis=1).T.copy()
        self.l2_b = w["lstm2.bias_ih_l0"] + w["lstm2.bias_hh_l0"]
        self.att_w, self.att_b = w["att.weight"].T.copy(), w["att.bias"]
        self.att_v = w["att_v.weight"][0]
        # Both heads' first layers fused; the horizon column is added at predict time.
        self.hd1_w = np.concatenate((w["pos1.weight"], w["k1.weight"]))[:, : 2 * hid].T.copy()
        self.hd1_b = np.concatenate((w["pos1.bias"], w["k1.bias"]))
        self.hd1_tau = np.concatenate((w["pos1.weight"][:, -1], w["k1.weight"][:, -1]))
        self.n_pos_hidden = w["pos1.bias"].shape[0]
        # The output layers in torch's (out, in) layout: few outputs, one dot product each.
        self.p2_wt, self.p2_b = w["pos2.weight"].copy(), w["pos2.bias"]
        self.k2_wt, self.k2_b = w["k2.weight"].copy(), w["k2.bias"]
        self.n_samples = 0

    def reset(self, masks: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Start an episode with per-stream masks ``(m_in (S,14), m_mid (S,H), m_head (S,2H))``."""
        m_in, m_mid, m_head = (np.asarray(m, dtype=np.float32) for m in masks)
        s, hid, t_win = len(m_in), self.config.hidden, self.config.att_window
        self.m_in, self.m_mid, self.m_head = m_in, m_mid, m_head
        self.n_samples = s
        n_in = m_in.shape[1]
        # [masked input | h] buffers of the two layers (the fused matmuls' left operands).
        self.z1 = np.zeros((s, n_in + hid), dtype=np.float32)
        self.z2 = np.zeros((s, 2 * hid), dtype=np.float32)
        self.c1 = np.zeros((s, hid), dtype=np.float32)
        self.c2 = np.zeros((s, hid), dtype=np.float32)
        # Ring buffers of the last att_window outputs h2 (S, W, H) and their attention scores
        # (S, W); empty slots score -inf (no weight), like the torch model's sequence start.
        self.h_buf = np.zeros((s, t_win, hid), dtype=np.float32)
        self.s_buf = np.full((s, t_win), -np.inf, dtype=np.float32)
        self.slot = 0
        self.head_pre: np.ndarray | None = None

    @staticmethod
    def _cell(gates: np.ndarray, c: np.ndarray, hid: int) -> tuple[np.ndarray, np.ndarray]:
        sig = _sigmoid(gates)
        c_new = sig[:, hid : 2 * hid] * c + sig[:, :hid] * np.tanh(gates[:, 2 * hid : 3 * hid])
        return sig[:, 3 * hid :] * np.tanh(c_new), c_new

    def step(self, raw: np.ndarray) -> None:
        """Advance every stream by one packet; ``raw`` (14,) = [envelopes (8), pos (3), vel (3)].

        O(att_window) per call (the softmax and weighted sum over the ring buffer).
        """
        hid = self.config.hidden
        x = ((np.asarray(raw, dtype=np.float32) - self.in_mean) / self.in_scale).astype(np.float32)
        emg = x[:N_EMG]
        channel = np.tanh(matmul(emg, self.ch1_w) + self.ch1_b)
        x[:N_EMG] = emg * _sigmoid(matmul(channel, self.ch2_w) + self.ch2_b)
        z1, z2 = self.z1, self.z2
        n_in = len(x)
        np.multiply(self.m_in, x, out=z1[:, :n_in])
        h1, self.c1 = self._cell(matmul(z1, self.l1_w) + self.l1_b, self.c1, hid)
        z1[:, n_in:] = h1
        np.multiply(h1, self.m_mid, out=z2[:, :hid])
        h2, self.c2 = self._cell(matmul(z2, self.l2_w) + self.l2_b, self.c2, hid)
        z2[:, hid:] = h2
        self.h_buf[:, self.slot] = h2
        self.s_buf[:, self.slot] = matmul(np.tanh(matmul(h2, self.att_w) + self.att_b), self.att_v)
        self.slot = (self.slot + 1) % self.config.att_window
        e = np.exp(self.s_buf - self.s_buf.max(axis=1, keepdims=True))
        ctx = batched_matmul(e, self.h_buf) / e.sum(axis=1, keepdims=True)
        phi = np.concatenate((h2, ctx), axis=1) * self.m_head
        self.head_pre = matmul(phi, self.hd1_w) + self.hd1_b

    def heads(
        self, horizons_s: np.ndarray, k_anchor: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Head outputs at horizons (k,) s, given the newest sent stiffness (3,) N/m.

        Returns:
            (delta (k,S,3) m, std (k,S,3) m, stiffness (k,S,3) N/m).
        """
        c = self.config
        h = np.asarray(horizons_s, dtype=np.float32)[:, None, None]
        hidden = np.maximum(self.head_pre + (h / c.horizon_scale) * self.hd1_tau, 0.0)
        n_p = self.n_pos_hidden
        o = matmul_transposed(hidden[..., :n_p], self.p2_wt) + self.p2_b
        hv = h * c.v_scale
        delta = hv * o[..., :3]
        std = hv * np.logaddexp(0.0, o[..., 3:]) + c.sigma_floor
        y = np.maximum(np.asarray(k_anchor, dtype=np.float32) / c.k_scale, 1e-3)
        ko = matmul_transposed(hidden[..., n_p:], self.k2_wt) + self.k2_b + (y + np.log(-np.expm1(-y)))
        return delta, std, c.k_scale * np.logaddexp(0.0, ko)
