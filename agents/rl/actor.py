"""The deterministic action of a stable-baselines3 MLP policy, computed in numpy.

``model.predict(obs, deterministic=True)`` runs the policy's torch modules, whose matrix products
go to torch's BLAS (MKL on x86): its rounding depends on the processor's code path, the thread
count and, per MKL's documentation, the operands' memory alignment, so the same observation can
give actions that differ in the last float32 bit between two processes. :class:`MlpActor` holds
the policy's weights as numpy arrays and computes the same function with
:mod:`teleimp_env.products` (numpy's own loops, never BLAS): bit-identical in any process on one
machine, equal to the torch policy to float32 rounding (``tests/agents/rl/test_actor.py``).

Supported: on-policy actor-critic policies (PPO, A2C) with a flattening feature extractor, an
MLP of ``Linear`` layers with ``Tanh``/``ReLU`` activations, a diagonal-Gaussian action head and a
``Box`` action space (the deterministic action is the Gaussian's mean, clipped to the space, as
SB3's ``predict`` does). :meth:`MlpActor.from_policy` returns ``None`` for anything else and the
caller keeps torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from teleimp_env.products import matmul

_ACTIVATIONS = {"Tanh": np.tanh, "ReLU": lambda x: np.maximum(x, np.float32(0.0))}


class MlpActor:
    """``features (F,) float32 → action (A,) float32``, the policy's deterministic action.

    Args:
        layers: ``(weight (F_in, F_out), bias (F_out,), activation name or None)`` per layer, in
            order; the last is the action head.
        low: (A,) lower action bounds.
        high: (A,) upper action bounds.
    """

    def __init__(
        self, layers: list[tuple[np.ndarray, np.ndarray, str | None]], low: np.ndarray, high: np.ndarray
    ) -> None:
        if not layers:
            raise ValueError("layers must hold at least the action head")
        for _, _, activation in layers:
            if activation is not None and activation not in _ACTIVATIONS:
                names = sorted(_ACTIVATIONS)
                raise ValueError(f"activation must be one of {names} or None, got {activation!r}")
        self.layers = [(np.asarray(w, np.float32), np.asarray(b, np.float32), a) for w, b, a in layers]
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)

    @classmethod
    def from_policy(cls, policy: Any, action_space: Any) -> MlpActor | None:
        """The twin of an SB3 ``policy`` (e.g. ``model.policy``), or ``None`` if it is not a supported
        shape (see the module docstring)."""
        try:
            from torch import nn
        except ImportError:  # pragma: no cover - SB3 needs torch
            return None
        supported = (
            type(policy).__name__ == "ActorCriticPolicy"
            and type(getattr(policy, "features_extractor", None)).__name__ == "FlattenExtractor"
            and type(getattr(policy, "action_dist", None)).__name__ == "DiagGaussianDistribution"
            and not getattr(policy, "squash_output", True)
            and type(action_space).__name__ == "Box"
            and isinstance(getattr(policy, "action_net", None), nn.Linear)
        )
        if not supported:
            return None
        modules = [*policy.mlp_extractor.policy_net, policy.action_net]
        layers: list[tuple[np.ndarray, np.ndarray, str | None]] = []
        for module in modules:
            if isinstance(module, nn.Linear):
                weight = module.weight.detach().cpu().numpy().T.copy()
                layers.append((weight, module.bias.detach().cpu().numpy().copy(), None))
            elif type(module).__name__ in _ACTIVATIONS and layers and layers[-1][2] is None:
                w, b, _ = layers[-1]
                layers[-1] = (w, b, type(module).__name__)
            else:
                return None
        return cls(layers, action_space.low, action_space.high)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """The clipped deterministic action (A,) float32 for ``features`` (F,)."""
        x = np.asarray(features, dtype=np.float32)
        for weight, bias, activation in self.layers:
            x = matmul(x, weight) + bias
            if activation is not None:
                x = _ACTIVATIONS[activation](x)
        return np.clip(x, self.low, self.high)
