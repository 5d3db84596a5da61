"""The network between operator and robot: one-way delay lines (DESIGN §6).

The env owns two independent :class:`DelayLine` objects: *forward* (operator packets to the
robot) and *backward* (robot state to the operator). Each carries fixed-width float64 rows and
models, per packet:

- a constant one-way delay (``LinkSpec.delay_ms``) plus a non-negative random jitter
  (:class:`JitterSpec`),
- Bernoulli or Gilbert–Elliott (two-state burst) loss (:class:`LossSpec`),
- reordering: packets arrive in order of arrival time, and a packet that arrives after a newer one
  (by send time) has been delivered is discarded as stale and counted,
- or, instead of all three, replay of a recorded trace of per-packet delays (``-1`` = lost).

Units: times passed to :meth:`DelayLine.send` / :meth:`DelayLine.deliver` are seconds of env time;
delays and jitter scales are milliseconds.

Jitter forms (extra delay ``J`` in ms, always ``J >= 0``; ``s = scale_ms``):

- ``none``: ``J = 0``.
- ``uniform``: ``J ~ U[0, s]``; mean ``s / 2``.
- ``normal``: ``J = s * |Z|``, ``Z ~ N(0, 1)`` (half-normal); mean ``s * sqrt(2 / pi)``.
- ``gamma``: ``J ~ Gamma(shape=k, scale=s / k)`` with ``k = shape``; mean ``s``, std
  ``s / sqrt(k)``.
- ``pareto``: ``J = s * L`` with ``L ~ Lomax(alpha)`` (Pareto II, numpy's ``rng.pareto``),
  ``alpha = shape > 1``: ``P(J > x) = (1 + x / s) ** -alpha``; mean ``s / (alpha - 1)``,
  heavy-tailed (infinite variance for ``alpha <= 2``).

Random draws, per packet and in this fixed order (each only if the configured kind uses it; all of
them are drawn even when the packet turns out lost, so the number of draws per packet is
constant):

1. Gilbert–Elliott state transition: one ``rng.random()``; from *good* the link goes *bad* if it
   is ``< p_good_to_bad``, from *bad* it goes *good* if it is ``< p_bad_to_good``. The link starts
   each episode in the good state and transitions *before* the loss draw of the same packet.
2. Loss: one ``rng.random()``; the packet is lost if it is ``< p`` (Bernoulli) or ``<`` the loss
   probability of the current Gilbert–Elliott state.
3. Jitter: one draw from the jitter distribution (``rng.uniform``, ``rng.standard_normal``,
   ``rng.gamma`` or ``rng.pareto``).

Trace replay draws nothing. No global RNG is used anywhere.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field, fields
from numbers import Real
from os import PathLike
from typing import Any

import numpy as np

#: Jitter distributions accepted by :class:`JitterSpec` (forms in the module docstring).
JITTER_KINDS: tuple[str, ...] = ("none", "uniform", "normal", "gamma", "pareto")
#: Loss models accepted by :class:`LossSpec`.
LOSS_KINDS: tuple[str, ...] = ("none", "bernoulli", "gilbert_elliott")
#: Largest constant one-way delay accepted, ms.
MAX_DELAY_MS = 5000.0
#: Arrival-time tolerance, s: a packet due at ``t`` is delivered by ``deliver(t - 1e-9)``, so a
#: delay that is a multiple of the control period never misses its slot by rounding.
ARRIVAL_EPS_S = 1e-9


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


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
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    ok = _is_number(value) and math.isfinite(value)
    if ok:
        ok = (value > 0 if low_open else value >= 0) and (value < 1 if high_open else value <= 1)
    if not ok:
        raise ValueError(f"{name} must be a probability in {lo}0, 1{hi}, got {value!r}")


@dataclass(frozen=True)
class JitterSpec:
    """Random extra one-way delay, added to the constant delay of a :class:`LinkSpec`.

    Attributes:
        kind: One of :data:`JITTER_KINDS`; the exact distributions are in the module docstring.
        scale_ms: ms, ``>= 0``. Scale ``s``: uniform upper bound, half-normal sigma, gamma mean,
            or Pareto (Lomax) scale. Must stay 0 for kind ``"none"``.
        shape: Dimensionless. Gamma shape ``k > 0`` or Pareto tail index ``alpha > 1`` (so the mean
            exists); must stay at its default 2.0 for the other kinds.
    """

    kind: str = "none"
    scale_ms: float = 0.0
    shape: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in JITTER_KINDS:
            raise ValueError(f"jitter.kind must be one of {JITTER_KINDS}, got {self.kind!r}")
        if not (_is_number(self.scale_ms) and math.isfinite(self.scale_ms) and self.scale_ms >= 0):
            raise ValueError(f"jitter.scale_ms must be a finite number >= 0, got {self.scale_ms!r}")
        if not (_is_number(self.shape) and math.isfinite(self.shape)):
            raise ValueError(f"jitter.shape must be a finite number, got {self.shape!r}")
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
        if not (_is_number(d) and math.isfinite(d) and 0 <= d <= MAX_DELAY_MS):
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
        if not (_is_number(v) and math.isfinite(v) and (v >= 0 or v == -1)):
            raise ValueError(f"{where}[{i}] must be a delay in ms >= 0 or -1 (lost), got {v!r}")
        out.append(float(v))
    return tuple(out)


def parse_jitter(value: Any) -> JitterSpec:
    """Build a :class:`JitterSpec` from a user-facing ``jitter`` argument.

    Accepted forms:
        ``None``, ``0`` or ``"none"``: no jitter.
        A number ``s > 0``: uniform jitter ``U[0, s]`` ms.
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
    if _is_number(value):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"jitter as a number is a uniform scale in ms >= 0, got {value!r}")
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
    if _is_number(value):
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
        ValueError: naming the file and the 1-based line number of a bad value, or if the trace
            holds no delay at all.
    """
    values: list[float] = []
    seen_data_line = False
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
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
                    f"{path}, line {lineno}: bad delay {cell!r}; expected ms >= 0 or -1 (lost)"
                ) from None
            if not (math.isfinite(v) and (v >= 0 or v == -1)):
                raise ValueError(f"{path}, line {lineno}: bad delay {cell!r}; expected ms >= 0 or -1 (lost)")
            values.append(v)
    if not values:
        raise ValueError(f"{path}: delay trace is empty (no delay values)")
    return tuple(values)


class DelayLine:
    """One direction of the network; payloads are fixed-width float64 rows.

    Usage per control step: ``send(t, row)`` once, then ``deliver(t)`` to get what has arrived.
    Times are seconds; a packet sent at ``t_send`` with a drawn delay ``d`` ms arrives at
    ``t_send + d / 1000`` and is returned by the first ``deliver(t_now)`` with
    ``t_now >= arrival - 1e-9``. Internally a heap keyed on ``(arrival, t_send, send counter)``
    (O(log n) per packet), with arrival rounded to whole nanoseconds, so arrival times equal up to
    float rounding come out in send-time order.

    Args:
        spec: The link configuration.
        width: Number of float64 values per packet (``>= 1``).
    """

    def __init__(self, spec: LinkSpec, width: int) -> None:
        if not isinstance(spec, LinkSpec):
            raise TypeError(f"spec must be a LinkSpec, got {type(spec).__name__}")
        if not (isinstance(width, (int, np.integer)) and width >= 1):
            raise ValueError(f"width must be an integer >= 1, got {width!r}")
        self._spec = spec
        self._width = int(width)
        self._delay_s = spec.delay_ms * 1e-3
        self._empty = np.zeros((0, self._width), dtype=np.float64)
        self._empty.flags.writeable = False
        self._rng: np.random.Generator | None = None
        self._heap: list[tuple[float, float, int, np.ndarray]] = []
        self._clear()

    def _clear(self) -> None:
        self._heap.clear()
        self._counter = 0
        self._trace_pos = 0
        self._ge_bad = False
        self._n_sent = 0
        self._n_lost = 0
        self._n_discarded_stale = 0
        self._n_delivered = 0
        self._newest_t_send = -math.inf
        self._last_delay_ms = math.nan

    def reset(self, rng: np.random.Generator) -> None:
        """Drop every packet in flight, zero the statistics and take ``rng`` for all later draws.

        The Gilbert–Elliott state restarts in *good*; trace replay restarts at its first entry.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self._rng = rng
        self._clear()

    def _draw(self, rng: np.random.Generator) -> tuple[bool, float]:
        """Return (lost, delay in ms) for one packet, in the documented draw order."""
        loss = self._spec.loss
        lost = False
        if loss.kind == "bernoulli":
            lost = rng.random() < loss.p
        elif loss.kind == "gilbert_elliott":
            u = rng.random()
            if self._ge_bad:
                self._ge_bad = not (u < loss.p_bad_to_good)
            else:
                self._ge_bad = u < loss.p_good_to_bad
            lost = rng.random() < (loss.loss_bad if self._ge_bad else loss.loss_good)
        jit = self._spec.jitter
        kind, s = jit.kind, jit.scale_ms
        if kind == "none":
            extra = 0.0
        elif kind == "uniform":
            extra = rng.uniform(0.0, s)
        elif kind == "normal":
            extra = abs(rng.standard_normal()) * s
        elif kind == "gamma":
            extra = rng.gamma(jit.shape, s / jit.shape)
        else:  # pareto (Lomax)
            extra = s * rng.pareto(jit.shape)
        return bool(lost), self._spec.delay_ms + float(extra)

    def send(self, t_send: float, payload: np.ndarray) -> bool:
        """Put one packet on the line.

        Args:
            t_send: s. Env time of sending.
            payload: (width,) values, copied.

        Returns:
            False if the packet is lost (it is counted and never delivered), else True.
        """
        rng = self._rng
        if rng is None:
            raise RuntimeError("DelayLine.reset(rng) must be called before send()")
        row = np.asarray(payload, dtype=np.float64)
        if row.shape != (self._width,):
            raise ValueError(f"payload must have shape ({self._width},), got {row.shape}")
        t_send = float(t_send)
        if not math.isfinite(t_send):
            raise ValueError(f"t_send must be finite, got {t_send!r}")
        self._n_sent += 1
        trace = self._spec.trace
        if trace is not None:
            d = trace[self._trace_pos]
            self._trace_pos = (self._trace_pos + 1) % len(trace)
            lost = d < 0
        else:
            lost, d = self._draw(rng)
        if lost:
            self._n_lost += 1
            self._last_delay_ms = math.nan
            return False
        self._last_delay_ms = d
        self._counter += 1
        # Arrival rounded to whole ns so that equal delays-plus-send-times tie exactly.
        arrival = round(t_send + d * 1e-3, 9)
        heapq.heappush(self._heap, (arrival, t_send, self._counter, row.copy()))
        return True

    def deliver(self, t_now: float) -> np.ndarray:
        """Take every packet that has arrived by ``t_now`` (s) off the line.

        Returns:
            (n, width) float64 rows in arrival order (ties by send time), ``n >= 0``. A packet
            whose send time is not newer than the newest one already delivered is discarded and
            counted in :attr:`n_discarded_stale`, so delivered send times strictly increase.
            The array is the caller's (a shared read-only empty array when ``n == 0``).
        """
        heap = self._heap
        limit = t_now + ARRIVAL_EPS_S
        if not heap or heap[0][0] > limit:
            return self._empty
        rows = []
        newest = self._newest_t_send
        while heap and heap[0][0] <= limit:
            _, ts, _, row = heapq.heappop(heap)
            if ts <= newest:
                self._n_discarded_stale += 1
                continue
            newest = ts
            rows.append(row)
        self._newest_t_send = newest
        self._n_delivered += len(rows)
        if not rows:
            return self._empty
        if len(rows) == 1:
            return rows[0][None, :]
        return np.stack(rows)

    def age(self, t_now: float) -> float:
        """Age of information, s: ``t_now - newest_t_send`` (``inf`` before any delivery)."""
        return t_now - self._newest_t_send

    @property
    def spec(self) -> LinkSpec:
        """The link configuration."""
        return self._spec

    @property
    def width(self) -> int:
        """Float64 values per packet."""
        return self._width

    @property
    def n_sent(self) -> int:
        """Packets passed to :meth:`send` since the last reset (lost ones included)."""
        return self._n_sent

    @property
    def n_lost(self) -> int:
        """Packets dropped by the loss model or a ``-1`` trace entry."""
        return self._n_lost

    @property
    def n_discarded_stale(self) -> int:
        """Packets that arrived after a newer one had been delivered, and were discarded."""
        return self._n_discarded_stale

    @property
    def n_delivered(self) -> int:
        """Packets returned by :meth:`deliver`."""
        return self._n_delivered

    @property
    def n_in_flight(self) -> int:
        """Packets sent, not lost, not yet arrived (or arrived but not yet taken by deliver)."""
        return len(self._heap)

    @property
    def newest_t_send(self) -> float:
        """s. Send time of the newest delivered packet; ``-inf`` if none."""
        return self._newest_t_send

    @property
    def last_delay_ms(self) -> float:
        """ms. One-way delay drawn for the most recent :meth:`send`; NaN if it was lost/none."""
        return self._last_delay_ms
