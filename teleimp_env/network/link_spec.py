"""Network link specifications: jitter, loss, delay traces, and their user-facing parsers.

The distributions and the per-packet draw order are documented in :mod:`teleimp_env.network.channel`,
which implements them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from os import PathLike
from typing import Any

from teleimp_env.validation import check_probability, is_real

#: Jitter distributions accepted by :class:`JitterSpec` (forms in :mod:`teleimp_env.network.channel`).
JITTER_KINDS: tuple[str, ...] = ("none", "uniform", "normal", "gamma", "pareto")
#: Loss models accepted by :class:`LossSpec`.
LOSS_KINDS: tuple[str, ...] = ("none", "bernoulli", "gilbert_elliott")
#: Largest constant one-way delay accepted, ms.
MAX_DELAY_MS = 5000.0
#: Largest jitter scale accepted (``JitterSpec.scale_ms``, or ``jitter`` as a number), ms: the same
#: bound as the constant delay, so a jitter cannot be scaled past any delay the env models.
MAX_JITTER_MS = 5000.0
#: Arrival-time tolerance, s: a packet due at ``t`` is delivered by ``deliver(t - 1e-9)``, so a
#: delay that is a multiple of the control period never misses its slot by rounding.
ARRIVAL_EPS_S = 1e-9


def _check_unused_defaults(obj: Any, prefix: str, used: set[str]) -> None:
    """Reject fields that the chosen kind ignores but that were changed from their default."""
    for f in fields(obj):
        if f.name == "kind" or f.name in used:
            continue
        if getattr(obj, f.name) != f.default:
            raise ValueError(
                f"{prefix}.{f.name}={getattr(obj, f.name)!r} is not used by "
                f"{prefix} kind {obj.kind!r}; leave it at its default {f.default!r}"
            )


def _check_prob(value: Any, name: str, low_open: bool = False, high_open: bool = False) -> None:
    check_probability(name, value, low_open=low_open, high_open=high_open)


@dataclass(frozen=True)
class JitterSpec:
    """Random extra one-way delay, added to the constant delay of a :class:`LinkSpec`.

    Attributes:
        kind: One of :data:`JITTER_KINDS`; the exact distributions are in :mod:`teleimp_env.network.channel`.
        scale_ms: ms, in ``[0, 5000]`` (:data:`MAX_JITTER_MS`). Scale ``s``: uniform upper bound,
            half-normal sigma, gamma mean, or Pareto (Lomax) scale. Must stay 0 for kind ``"none"``.
        shape: Dimensionless. Gamma shape ``k > 0`` or Pareto tail index ``alpha > 1`` (so the mean
            exists); must stay at its default 2.0 for the other kinds.
    """

    kind: str = "none"
    scale_ms: float = 0.0
    shape: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in JITTER_KINDS:
            raise ValueError(f"jitter.kind must be one of {JITTER_KINDS}, got {self.kind!r}")
        if not (
            is_real(self.scale_ms) and math.isfinite(self.scale_ms) and 0 <= self.scale_ms <= MAX_JITTER_MS
        ):
            raise ValueError(
                f"jitter.scale_ms must be a finite number >= 0 and <= {MAX_JITTER_MS:g} ms, "
                f"got {self.scale_ms!r}"
            )
        if not (is_real(self.shape) and math.isfinite(self.shape)):
            raise ValueError(f"jitter.shape must be a finite number, got {self.shape!r}")
        if self.kind != "none" and self.scale_ms <= 0:
            raise ValueError(
                f"jitter kind {self.kind!r} needs jitter.scale_ms > 0 ms (a zero scale means no jitter: "
                f"use kind 'none'), got {self.scale_ms!r}"
            )
        if self.kind == "gamma" and self.shape <= 0:
            raise ValueError(f"jitter.shape (gamma k) must be > 0, got {self.shape!r}")
        if self.kind == "pareto" and self.shape <= 1:
            raise ValueError(f"jitter.shape (pareto alpha) must be > 1, got {self.shape!r}")
        object.__setattr__(self, "scale_ms", float(self.scale_ms))
        object.__setattr__(self, "shape", float(self.shape))
        used = {"none": set(), "uniform": {"scale_ms"}, "normal": {"scale_ms"}}
        _check_unused_defaults(self, "jitter", used.get(self.kind, {"scale_ms", "shape"}))


@dataclass(frozen=True)
class LossSpec:
    """Packet loss model of one link.

    Attributes:
        kind: One of :data:`LOSS_KINDS`.
        p: Bernoulli loss probability per packet, in ``[0, 1)``.
        p_good_to_bad: Gilbert–Elliott probability, per packet, of moving good → bad, ``[0, 1]``.
        p_bad_to_good: Gilbert–Elliott probability, per packet, of moving bad → good, ``(0, 1]``.
            With ``loss_bad = 1`` the mean loss-burst length is ``1 / p_bad_to_good`` packets.
        loss_good: Loss probability in the good state, ``[0, 1]``.
        loss_bad: Loss probability in the bad state, ``[0, 1]``. The stationary loss rate is
            ``(p_bg * loss_good + p_gb * loss_bad) / (p_gb + p_bg)``.

    Fields the chosen kind does not use must keep their defaults.
    """

    kind: str = "none"
    p: float = 0.0
    p_good_to_bad: float = 0.0
    p_bad_to_good: float = 1.0
    loss_good: float = 0.0
    loss_bad: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in LOSS_KINDS:
            raise ValueError(f"loss.kind must be one of {LOSS_KINDS}, got {self.kind!r}")
        _check_prob(self.p, "loss.p", high_open=True)
        _check_prob(self.p_good_to_bad, "loss.p_good_to_bad")
        _check_prob(self.p_bad_to_good, "loss.p_bad_to_good", low_open=True)
        _check_prob(self.loss_good, "loss.loss_good")
        _check_prob(self.loss_bad, "loss.loss_bad")
        for f in fields(self):
            if f.name != "kind":
                object.__setattr__(self, f.name, float(getattr(self, f.name)))
        ge = {"p_good_to_bad", "p_bad_to_good", "loss_good", "loss_bad"}
        used = {"none": set(), "bernoulli": {"p"}, "gilbert_elliott": ge}[self.kind]
        _check_unused_defaults(self, "loss", used)

    def stationary_loss(self) -> float:
        """Long-run fraction of packets lost (0 for ``"none"``)."""
        if self.kind == "bernoulli":
            return self.p
        if self.kind == "gilbert_elliott":
            gb, bg = self.p_good_to_bad, self.p_bad_to_good
            return (bg * self.loss_good + gb * self.loss_bad) / (gb + bg)
        return 0.0


@dataclass(frozen=True)
class LinkSpec:
    """Configuration of one direction of the network.

    Attributes:
        delay_ms: ms, in ``[0, 5000]``. Constant one-way delay.
        jitter: Extra random delay; anything :func:`parse_jitter` accepts is converted.
        loss: Loss model; anything :func:`parse_loss` accepts is converted.
        trace: Per-packet delays in ms (``>= 0``, or ``-1`` = lost), replayed cyclically from the
            first entry after every reset. When given it overrides ``delay_ms``, ``jitter`` and
            ``loss``. Any sequence is converted to a tuple of floats; it must not be empty.
    """

    delay_ms: float = 0.0
    jitter: JitterSpec = field(default_factory=JitterSpec)
    loss: LossSpec = field(default_factory=LossSpec)
    trace: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        d = self.delay_ms
        if not (is_real(d) and math.isfinite(d) and 0 <= d <= MAX_DELAY_MS):
            raise ValueError(f"delay_ms must be in [0, {MAX_DELAY_MS:g}] ms, got {d!r}")
        object.__setattr__(self, "delay_ms", float(d))
        object.__setattr__(self, "jitter", parse_jitter(self.jitter))
        object.__setattr__(self, "loss", parse_loss(self.loss))
        if self.trace is not None:
            object.__setattr__(self, "trace", _validate_trace(self.trace, "trace"))


def _validate_trace(trace: Any, where: str) -> tuple[float, ...]:
    if isinstance(trace, (str, bytes)) or not hasattr(trace, "__len__"):
        raise ValueError(f"{where} must be a sequence of delays in ms (>= 0, or -1 = lost)")
    if len(trace) == 0:
        raise ValueError(f"{where} is empty; it needs at least one delay in ms (or -1 = lost)")
    out = []
    for i, v in enumerate(trace):
        if not (is_real(v) and math.isfinite(v) and (0 <= v <= MAX_DELAY_MS or v == -1)):
            raise ValueError(
                f"{where}[{i}] must be a delay in [0, {MAX_DELAY_MS:g}] ms or -1 (lost), got {v!r}"
            )
        out.append(float(v))
    return tuple(out)


def parse_jitter(value: Any) -> JitterSpec:
    """Build a :class:`JitterSpec` from a user-facing ``jitter`` argument.

    Accepted forms:
        ``None``, ``0`` or ``"none"``: no jitter.
        A number ``s`` in ``(0, 5000]``: uniform jitter ``U[0, s]`` ms.
        ``(kind, scale_ms)`` or ``(kind, scale_ms, shape)`` (tuple or list).
        A dict with keys among ``kind``, ``scale_ms``, ``shape``.
        A :class:`JitterSpec` (returned unchanged).

    Raises:
        ValueError: naming ``jitter`` and the valid kinds / ranges.
    """
    if isinstance(value, JitterSpec):
        return value
    if value is None:
        return JitterSpec()
    if is_real(value):
        if not (math.isfinite(value) and 0 <= value <= MAX_JITTER_MS):
            raise ValueError(
                f"jitter as a number is a uniform scale in ms >= 0 and <= {MAX_JITTER_MS:g}, got {value!r}"
            )
        return JitterSpec() if value == 0 else JitterSpec("uniform", float(value))
    if isinstance(value, str):
        if value == "none":
            return JitterSpec()
        if value in JITTER_KINDS:
            raise ValueError(f"jitter {value!r} needs a scale: pass ({value!r}, scale_ms)")
        raise ValueError(f"jitter kind must be one of {JITTER_KINDS}, got {value!r}")
    if isinstance(value, (tuple, list)) and 1 <= len(value) <= 3:
        if len(value) == 1 and value[0] != "none":
            raise ValueError(f"jitter {value!r} needs a scale: pass (kind, scale_ms[, shape])")
        return JitterSpec(*value)
    if isinstance(value, dict):
        unknown = set(value) - {"kind", "scale_ms", "shape"}
        if unknown:
            raise ValueError(f"jitter dict has unknown keys {sorted(unknown)}; valid: kind, scale_ms, shape")
        return JitterSpec(**value)
    raise ValueError(
        f"jitter must be None, a uniform scale in ms >= 0, (kind, scale_ms[, shape]) with kind in "
        f"{JITTER_KINDS}, a dict or a JitterSpec; got {value!r}"
    )


def parse_loss(value: Any) -> LossSpec:
    """Build a :class:`LossSpec` from a user-facing ``loss`` argument.

    Accepted forms:
        ``None``, ``0`` or ``"none"``: no loss.
        A number ``p`` in ``[0, 1)``: Bernoulli loss with probability ``p``.
        ``("bernoulli", p)``.
        ``("gilbert_elliott", p_good_to_bad, p_bad_to_good[, loss_good[, loss_bad]])``.
        A dict with :class:`LossSpec` field names as keys.
        A :class:`LossSpec` (returned unchanged).

    Raises:
        ValueError: naming ``loss`` and the valid kinds / ranges.
    """
    if isinstance(value, LossSpec):
        return value
    if value is None:
        return LossSpec()
    if is_real(value):
        if not (math.isfinite(value) and 0 <= value < 1):
            raise ValueError(f"loss as a number is a Bernoulli probability in [0, 1), got {value!r}")
        return LossSpec() if value == 0 else LossSpec("bernoulli", p=float(value))
    if isinstance(value, str):
        if value == "none":
            return LossSpec()
        if value in LOSS_KINDS:
            raise ValueError(f"loss {value!r} needs parameters, e.g. ('bernoulli', p)")
        raise ValueError(f"loss kind must be one of {LOSS_KINDS}, got {value!r}")
    if isinstance(value, (tuple, list)) and value:
        kind, args = value[0], tuple(value[1:])
        if kind == "none" and not args:
            return LossSpec()
        if kind == "bernoulli" and len(args) == 1:
            return LossSpec("bernoulli", p=args[0])
        if kind == "gilbert_elliott" and 2 <= len(args) <= 4:
            names = ("p_good_to_bad", "p_bad_to_good", "loss_good", "loss_bad")
            return LossSpec("gilbert_elliott", **dict(zip(names, args, strict=False)))
        if kind not in LOSS_KINDS:
            raise ValueError(f"loss kind must be one of {LOSS_KINDS}, got {kind!r}")
        raise ValueError(
            f"loss tuple {value!r} has the wrong length: use ('bernoulli', p) or "
            "('gilbert_elliott', p_good_to_bad, p_bad_to_good[, loss_good[, loss_bad]])"
        )
    if isinstance(value, dict):
        valid = {f.name for f in fields(LossSpec)}
        unknown = set(value) - valid
        if unknown:
            raise ValueError(f"loss dict has unknown keys {sorted(unknown)}; valid: {sorted(valid)}")
        return LossSpec(**value)
    raise ValueError(
        f"loss must be None, a Bernoulli probability in [0, 1), a tuple with kind in {LOSS_KINDS}, "
        f"a dict or a LossSpec; got {value!r}"
    )


def load_delay_trace(path: str | PathLike[str]) -> tuple[float, ...]:
    """Read a delay trace: a one-column CSV of per-packet one-way delays in ms.

    Blank lines and ``#`` comments (whole-line or trailing) are skipped. The first non-comment
    line may be a header (a name starting with a letter, ``_`` or a quote, e.g. ``delay_ms``).
    Every other line holds one delay ``>= 0`` ms, or ``-1`` for a lost packet.

    Raises:
        ValueError: naming the file and the 1-based line number of a bad value, or if the file is
            not UTF-8 text or holds no delay at all.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()  # the same line splitting as iterating the file
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not a UTF-8 text CSV of delays in ms (byte {err.start}: {err.reason})"
        ) from None
    values: list[float] = []
    seen_data_line = False
    for lineno, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        cells = [c.strip() for c in text.split(",")]
        while cells and not cells[-1]:
            cells.pop()
        first_line, seen_data_line = not seen_data_line, True
        if len(cells) != 1:
            raise ValueError(f"{path}, line {lineno}: expected one column, got {text!r}")
        cell = cells[0]
        try:
            v = float(cell)
        except ValueError:
            if first_line and (cell[0].isalpha() or cell[0] in "_\"'"):
                continue  # header
            raise ValueError(
                f"{path}, line {lineno}: bad delay {cell!r}; expected ms in [0, {MAX_DELAY_MS:g}] "
                "or -1 (lost)"
            ) from None
        if not (math.isfinite(v) and (0 <= v <= MAX_DELAY_MS or v == -1)):
            raise ValueError(
                f"{path}, line {lineno}: bad delay {cell!r}; expected ms in [0, {MAX_DELAY_MS:g}] "
                "or -1 (lost)"
            )
        values.append(v)
    if not values:
        raise ValueError(f"{path}: delay trace is empty (no delay values)")
    return tuple(values)
