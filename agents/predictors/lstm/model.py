"""The LSTM intent network (torch, sequence mode, used for training and offline evaluation).

Per packet the input is 14 numbers: the 8 sEMG envelopes, hand position (3) and velocity (3),
standardised with the training set's mean and spread. Layers, in order:

1. **channel attention** over the envelopes: ``a = σ(W₂ tanh(W₁ e + b₁) + b₂)``, ``e ← e ⊙ a``;
2. dropout mask on the 14 inputs, a 48-unit LSTM, a mask on its output, a second 48-unit LSTM;
3. **temporal attention** over the last ``att_window`` outputs of the second layer (default 64
   packets = 128 ms of history at the 2-ms packet period; fewer at the start of a sequence):
   ``score = vᵀ tanh(W_a h + b_a)``, ``ctx = Σ softmax(score) h``;
4. a mask on ``φ = [h, ctx]`` (96), then two heads that also take the normalised horizon
   ``τ = horizon / horizon_scale``:
   * position: ``Δpos = horizon·v_scale·o₁₋₃`` (m) and ``σ = horizon·v_scale·softplus(o₄₋₆) + σ₀``;
   * stiffness: ``K = k_scale·softplus(o + softplus⁻¹(K_sent / k_scale))`` (N/m, always
     positive), anchored on the newest packet's sent stiffness estimate ``K_sent`` the way the
     position is anchored on the newest position: the master's estimate is calibrated per
     subject, which a population network cannot infer from the envelopes alone.

Dropout masks are drawn once per sequence and held across time (variational dropout), from a
``torch.Generator`` the caller owns; :meth:`IntentNet.masks` draws them. Parameters are
initialised from a ``torch.Generator`` too (:func:`init_parameters`), never the global RNG.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL


@dataclass(frozen=True)
class NetConfig:
    """Architecture and output scaling of :class:`IntentNet`."""

    hidden: int = 48
    """LSTM units per layer."""
    channel_hidden: int = 16
    """Units of the channel-attention MLP."""
    att_window: int = 64
    """Packets the temporal attention looks back over, the current one included (64 = 128 ms at
    the 2-ms packet period). The torch model and the numpy streaming twin
    (:class:`~teleimp_env.agents.predictors.lstm.inference.IntentStepper`, a ring buffer of this
    many hidden states) both read it from here."""
    att_hidden: int = 32
    """Units of the temporal-attention score MLP."""
    head_hidden: int = 32
    """Units of each head's hidden layer."""
    dropout: float = 0.1
    """MC-Dropout probability (inputs, between layers, before the heads)."""
    horizon_scale: float = 0.5
    """s; the horizon is fed to the heads as ``horizon / horizon_scale``."""
    v_scale: float = 0.05
    """m/s; scale of the position head's mean velocity output."""
    k_scale: float = 500.0
    """N/m; scale of the stiffness head."""
    sigma_floor: float = 1e-5
    """m; smallest position standard deviation."""

    def __post_init__(self) -> None:
        for name in ("hidden", "channel_hidden", "att_window", "att_hidden", "head_hidden"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"NetConfig.{name} must be an int >= 1, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"NetConfig.dropout must be in [0, 1), got {self.dropout!r}")

    def as_dict(self) -> dict:
        return asdict(self)


#: Inputs per packet: the envelopes, then hand position and velocity (:func:`network_inputs`).
N_INPUTS = 14
#: sEMG envelopes per packet, the first ``N_EMG`` inputs (the channel attention's).
N_EMG = 8


def network_inputs(packets: np.ndarray) -> np.ndarray:
    """The raw (not yet standardised) network inputs of packets: ``(…, 20) → (…, 14)`` float64,
    ``[envelopes (8), hand position (3, m), hand velocity (3, m/s)]``, the one layout the network,
    its training and its streaming twin share."""
    return np.concatenate(
        (packets[..., EMG_ENVELOPE], packets[..., HAND_POS], packets[..., HAND_VEL]), axis=-1
    )


class IntentNet(nn.Module):
    """See the module docstring. Shapes: B sequences, L packets."""

    def __init__(self, config: NetConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or NetConfig()
        self.ch1 = nn.Linear(N_EMG, c.channel_hidden)
        self.ch2 = nn.Linear(c.channel_hidden, N_EMG)
        self.lstm1 = nn.LSTM(N_INPUTS, c.hidden, batch_first=True)
        self.lstm2 = nn.LSTM(c.hidden, c.hidden, batch_first=True)
        self.att = nn.Linear(c.hidden, c.att_hidden)
        self.att_v = nn.Linear(c.att_hidden, 1, bias=False)
        self.pos1 = nn.Linear(2 * c.hidden + 1, c.head_hidden)
        self.pos2 = nn.Linear(c.head_hidden, 6)
        self.k1 = nn.Linear(2 * c.hidden + 1, c.head_hidden)
        self.k2 = nn.Linear(c.head_hidden, 3)
        self.register_buffer("in_mean", torch.zeros(N_INPUTS))
        self.register_buffer("in_scale", torch.ones(N_INPUTS))

    # ------------------------------------------------------------------ masks
    def masks(self, batch: int, generator: torch.Generator | None, active: bool = True):
        """Dropout masks ``(m_in (B,14), m_mid (B,H), m_head (B,2H))``, already scaled by 1/(1−p).

        ``active=False`` (or ``dropout == 0``) gives all-ones masks (deterministic network).
        """
        c = self.config
        sizes = (N_INPUTS, c.hidden, 2 * c.hidden)
        if not active or c.dropout <= 0.0:
            return tuple(torch.ones(batch, n) for n in sizes)
        keep = 1.0 - c.dropout
        return tuple(
            (torch.rand(batch, n, generator=generator) < keep).to(torch.float32) / keep for n in sizes
        )

    # ------------------------------------------------------------------ sequence forward
    def encode(self, raw: torch.Tensor, masks) -> torch.Tensor:
        """Raw inputs (B, L, 14) → head features φ (B, L, 2H), masks applied."""
        m_in, m_mid, m_head = masks
        x = (raw - self.in_mean) / self.in_scale
        emg = x[..., :N_EMG]
        gate = torch.sigmoid(self.ch2(torch.tanh(self.ch1(emg))))
        x = torch.cat((emg * gate, x[..., N_EMG:]), dim=-1) * m_in[:, None, :]
        h1, _ = self.lstm1(x)
        h2, _ = self.lstm2(h1 * m_mid[:, None, :])
        ctx = self.attend(h2)
        return torch.cat((h2, ctx), dim=-1) * m_head[:, None, :]

    def scores(self, h: torch.Tensor) -> torch.Tensor:
        """Temporal-attention scores (…, H) → (…)."""
        return self.att_v(torch.tanh(self.att(h)))[..., 0]

    def attend(self, h2: torch.Tensor) -> torch.Tensor:
        """Context (B, L, H) over each step's last ``att_window`` outputs of ``h2`` (B, L, H).

        Fewer than ``att_window`` outputs at the sequence start (the missing ones score −∞, as
        in the streaming twin's empty ring-buffer slots). Computed as a sum over the
        ``att_window`` lags of shifted views, so memory stays O(B·L·H) for whole-episode
        sequences (plus the (B, L, att_window) attention weights).
        """
        t_win = self.config.att_window
        b, length, hid = h2.shape
        s_pad = torch.cat((torch.full((b, t_win - 1), -math.inf), self.scores(h2)), dim=1)
        h_pad = torch.cat((torch.zeros(b, t_win - 1, hid), h2), dim=1)
        alpha = torch.softmax(torch.stack([s_pad[:, j : j + length] for j in range(t_win)], dim=-1), dim=-1)
        ctx = alpha[..., 0, None] * h_pad[:, :length]
        for j in range(1, t_win):
            ctx = ctx + alpha[..., j, None] * h_pad[:, j : j + length]
        return ctx

    def heads(self, phi: torch.Tensor, horizon_s: torch.Tensor, k_anchor: torch.Tensor):
        """Head outputs for features φ (…, 2H), horizons (…) in s and sent stiffness (…, 3) N/m.

        Returns:
            (delta_pos (…, 3) m, pos_std (…, 3) m, stiffness (…, 3) N/m).
        """
        c = self.config
        tau = (horizon_s / c.horizon_scale)[..., None]
        z = torch.cat((phi, tau), dim=-1)
        o = self.pos2(F.relu(self.pos1(z)))
        h = horizon_s[..., None] * c.v_scale
        delta = h * o[..., :3]
        std = h * F.softplus(o[..., 3:]) + c.sigma_floor
        k = c.k_scale * F.softplus(self.k2(F.relu(self.k1(z))) + inverse_softplus(k_anchor / c.k_scale))
        return delta, std, k

    def forward(self, raw: torch.Tensor, horizon_s: torch.Tensor, k_anchor: torch.Tensor, masks):
        """(B, L, 14) inputs, (B, L) horizons, (B, L, 3) sent stiffness → heads (see :meth:`heads`)."""
        return self.heads(self.encode(raw, masks), horizon_s, k_anchor)


def inverse_softplus(y: torch.Tensor) -> torch.Tensor:
    """x with softplus(x) = y, for y > 0 (clamped at 1e-3): log(expm1(y))."""
    y = torch.clamp(y, min=1e-3)
    return y + torch.log(-torch.expm1(-y))


def init_parameters(net: IntentNet, generator: torch.Generator) -> None:
    """Initialise every parameter from ``generator``: U(±1/√fan_in), LSTM forget-gate bias +1."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.startswith("lstm"):
                bound = 1.0 / math.sqrt(net.config.hidden)
            else:
                module = net.get_submodule(name.rsplit(".", 1)[0])
                bound = 1.0 / math.sqrt(module.in_features)
            nn.init.uniform_(p, -bound, bound, generator=generator)
        for lstm in (net.lstm1, net.lstm2):
            hid = net.config.hidden
            lstm.bias_ih_l0[hid : 2 * hid] += 1.0
