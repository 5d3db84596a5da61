"""The built-in stack names (one home; no imports, so every agents module may use them)."""

from __future__ import annotations

#: The built-in stacks; ``oracle`` is privileged (it reads the env's ``info``). Others come from
#: :func:`~teleimp_env.agents.registry.register`, entry points, ``module:attr`` references or a
#: saved SB3 policy's ``.zip`` path.
STACK_NAMES: tuple[str, ...] = (
    "naive", "naive+eo", "cv", "cv+eo", "kf", "kf+eo", "sindy", "sindy+eo", "lstm", "lstm+eo",
    "ppo-residual", "oracle",
    "readout", "readout+eo", "readout-adapt", "readout-noemg", "readout-rawemg",
    "kf+fs", "kf+fs+eo", "sindy+fs", "sindy+fs+eo", "lstm+fs", "lstm+fs+eo",
)  # fmt: skip
#: The modality ablation and per-person adaptation of the linear read-out: the same model with
#: per-person normalised envelopes, adapted online, without envelopes, and with raw envelopes.
ABLATION_STACKS: tuple[str, ...] = ("readout", "readout-adapt", "readout-noemg", "readout-rawemg")
#: Suffix of a stack wrapped in the energy observer (``"lstm+eo"``).
EO_SUFFIX = "+eo"
#: Suffix of a stack whose prediction is checked on a twin first (``"lstm+fs"``, before ``+eo``).
FS_SUFFIX = "+fs"
#: The built-in foresight stacks (``agents.foresight``).
FORESIGHT_STACKS: tuple[str, ...] = tuple(n for n in STACK_NAMES if FS_SUFFIX in n)
#: Built-in stacks that are saved SB3 residual policies (``assets/checkpoints/<name>.zip``).
POLICY_STACKS: tuple[str, ...] = ("ppo-residual",)


def is_policy_path(name: str) -> bool:
    """True if ``name`` names a saved SB3 policy file (it ends in ``.zip``)."""
    return name.endswith(".zip")
