"""The learned predictors' shared calibration: spread factors, gate thresholds and lineage.

A learned predictor (``cv``, ``kf``, ``sindy``, ``lstm``) is fitted on training data, then
calibrated on validation data (subjects it was not fitted on): its predicted standard deviations
are scaled so that 95 % intervals cover 95 % of the truth, and the gate's thresholds are chosen
where its predictions stop beating the hold. Both are learned attributes of the predictor (they
end in ``_`` and are saved in its checkpoint), so, as the sklearn contract of
:class:`~teleimp_env.agents.base.Predictor` asks, only the predictor's own methods set them:
:meth:`CalibratedPredictor.calibrate` (measure on validation data, then store) and
:meth:`CalibratedPredictor.set_calibration` (store given values); :meth:`CalibratedPredictor.set_lineage`
records which subjects and seeds the predictor has seen. Checkpoints carry them in their header
(:meth:`CalibratedPredictor.calibration_header`, read back by
:meth:`CalibratedPredictor.restore_calibration`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

from teleimp_env.agents.base import Predictor
from teleimp_env.agents.checkpoint import CheckpointError
from teleimp_env.agents.data.calibration import CALIBRATION_HORIZONS_S, calibrate_gate, calibrate_std
from teleimp_env.agents.data.dataset import Dataset, Episode
from teleimp_env.agents.gate import Gate
from teleimp_env.agents.lineage import Lineage
from teleimp_env.validation import is_real


class CalibratedPredictor(Predictor):
    """A predictor with learned parameters whose spread and gate are calibrated on validation data.

    Learned attributes this class sets (besides the subclass's own):
        std_scale_: float, factor of the predicted position standard deviation (and of the
            stiffness one where :attr:`separate_stiffness_scale` is False); 1 after ``fit``.
        stiffness_std_scale_: float, factor of the predicted stiffness standard deviation (only
            where :attr:`separate_stiffness_scale` is True); 1 after ``fit``.
        gate_: the gate thresholds as a dict (:meth:`~teleimp_env.agents.gate.Gate.to_dict`), or
            ``None`` (the default gate); stored in the checkpoint header.
        lineage_: :class:`~teleimp_env.agents.lineage.Lineage` or ``None``, the subjects and seeds
            fitted and selected on.
    """

    #: Whether the stiffness spread has its own calibration factor (``stiffness_std_scale_``); if
    #: not, ``std_scale_`` scales both spreads.
    separate_stiffness_scale: ClassVar[bool] = True

    def calibrate(
        self, validation: Dataset | Iterable[Episode], horizons_s: Sequence[float] = CALIBRATION_HORIZONS_S
    ) -> Self:
        """Calibrate the spread and the gate on ``validation`` (never the fitting data); returns ``self``.

        First the spread factors, measured with the current factors removed so that 95 %
        intervals cover 95 % of the truth at the horizons ``horizons_s`` (s; see
        :func:`~teleimp_env.agents.data.calibration.calibrate_std`); then the gate thresholds, with
        the new factors in place (:func:`~teleimp_env.agents.data.calibration.calibrate_gate`).
        """
        validation = validation if isinstance(validation, Dataset) else Dataset(validation)
        self._set_spread_factors(1.0, 1.0)
        position_factor, stiffness_factor = calibrate_std(self, validation, horizons_s)
        self._set_spread_factors(position_factor, stiffness_factor)
        self.gate_ = calibrate_gate(self, validation).to_dict()
        return self

    def set_calibration(
        self, std_scale: float, stiffness_std_scale: float | None = None, gate: Gate | None = None
    ) -> Self:
        """Store calibration values found elsewhere (e.g. another run's); returns ``self``.

        Args:
            std_scale: factor (>= 0) of the position standard deviation (of both spreads where
                :attr:`separate_stiffness_scale` is False).
            stiffness_std_scale: factor (>= 0) of the stiffness standard deviation; ``None`` → 1.
                Must be ``None`` where :attr:`separate_stiffness_scale` is False.
            gate: the gate thresholds, or ``None`` for the default gate.
        """
        if stiffness_std_scale is not None and not self.separate_stiffness_scale:
            raise ValueError(
                f"{type(self).__name__} scales both spreads by std_scale: pass no stiffness_std_scale"
            )
        if gate is not None and not isinstance(gate, Gate):
            raise TypeError(f"gate must be a Gate or None, got {type(gate).__name__}")
        self._set_spread_factors(std_scale, 1.0 if stiffness_std_scale is None else stiffness_std_scale)
        self.gate_ = None if gate is None else gate.to_dict()
        return self

    def set_lineage(self, lineage: Lineage | None) -> Self:
        """Record which subjects and seeds the predictor was fitted and selected on; returns ``self``."""
        if lineage is not None and not isinstance(lineage, Lineage):
            raise TypeError(f"lineage must be a Lineage or None, got {type(lineage).__name__}")
        self.lineage_ = lineage
        return self

    def _set_spread_factors(self, position_factor: Any, stiffness_factor: Any) -> None:
        """Set ``std_scale_`` (and ``stiffness_std_scale_`` where separate), each a number >= 0."""
        for name, value in (("std_scale", position_factor), ("stiffness_std_scale", stiffness_factor)):
            if not (is_real(value) and value >= 0.0):  # NaN fails the comparison
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        self.std_scale_ = float(position_factor)
        if self.separate_stiffness_scale:
            self.stiffness_std_scale_ = float(stiffness_factor)

    # ------------------------------------------------------------------ checkpoint header
    def calibration_header(self) -> dict[str, Any]:
        """Checkpoint header entries of the calibration and lineage, in this order: ``std_scale``,
        ``stiffness_std_scale`` (where separate), ``gate`` and ``lineage`` (JSON-friendly)."""
        header: dict[str, Any] = {"std_scale": float(self.std_scale_)}
        if self.separate_stiffness_scale:
            header["stiffness_std_scale"] = float(self.stiffness_std_scale_)
        header["gate"] = getattr(self, "gate_", None)
        lineage = getattr(self, "lineage_", None)
        header["lineage"] = lineage.to_dict() if lineage else None
        return header

    def restore_calibration(self, header: Mapping[str, Any], path: str | Path) -> None:
        """Set the entries written by :meth:`calibration_header` from a checkpoint's ``header``
        (read from ``path``): ``CheckpointError`` if a spread factor is not a number >= 0. The
        ``gate`` entry is kept as stored."""
        keys = ("std_scale", "stiffness_std_scale") if self.separate_stiffness_scale else ("std_scale",)
        for key in keys:
            value = header.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0.0:
                raise CheckpointError(
                    f"{str(path)!r}: header entry {key!r} must be a number >= 0, got {value!r}"
                )
        self.std_scale_ = float(header["std_scale"])
        if self.separate_stiffness_scale:
            self.stiffness_std_scale_ = float(header["stiffness_std_scale"])
        self.gate_ = header.get("gate")
        self.lineage_ = Lineage.from_dict(header.get("lineage"))
