"""The operator configurations the fidelity measurements run, one home each (two meanings)."""

from __future__ import annotations

from teleimp_env.operator import OperatorConfig

#: The sEMG without sensor noise or electrode drift; the motion keeps its tremor, motor noise and
#: endpoint scatter (envelope quality and fatigue read the signal, not the movement).
CLEAN_EMG = OperatorConfig(emg_noise=False, electrode_drift=False)
#: Every noise source off: the movement and the sEMG are the deterministic model (timing and
#: motion measures compare against closed forms).
NOISE_FREE = OperatorConfig(
    tremor=False, motor_noise=False, endpoint_scatter=False, emg_noise=False, electrode_drift=False
)
