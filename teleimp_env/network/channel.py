"""The network between operator and robot: one-way delay lines.

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
from collections import deque

import numpy as np

from teleimp_env.network.link_spec import (
    ARRIVAL_EPS_S,
    JITTER_KINDS,
    LOSS_KINDS,
    MAX_DELAY_MS,
    JitterSpec,
    LinkSpec,
    LossSpec,
    load_delay_trace,
    parse_jitter,
    parse_loss,
)

__all__ = [
    "ARRIVAL_EPS_S",
    "JITTER_KINDS",
    "LOSS_KINDS",
    "MAX_DELAY_MS",
    "DelayLine",
    "JitterSpec",
    "LinkSpec",
    "LossSpec",
    "load_delay_trace",
    "parse_jitter",
    "parse_loss",
]


class DelayLine:
    """One direction of the network; payloads are fixed-width float64 rows.

    Usage per control step: ``send(t, row)`` once, then ``deliver(t)`` to get what has arrived.
    Times are seconds; a packet sent at ``t_send`` with a drawn delay ``d`` ms arrives at
    ``t_send + d / 1000`` and is returned by the first ``deliver(t_now)`` with
    ``t_now >= arrival - 1e-9``. Packets in flight are ordered by ``(arrival, t_send, send
    counter)``, with arrival rounded to whole nanoseconds, so arrival times equal up to float
    rounding come out in send-time order. While packets are sent in that order (constant delay,
    non-decreasing send times) they sit in a FIFO (O(1) per packet); the first one that would
    overtake a packet in flight moves them all into a heap (O(log n) per packet) until the line
    drains. Both give the same order.

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
        self._shape = (self._width,)
        # The (frozen) spec's fields, looked up once rather than per packet.
        self._trace = spec.trace
        self._loss = spec.loss
        self._jitter = spec.jitter
        #: Neither loss nor jitter: every packet gets ``delay_ms`` and nothing is drawn.
        self._fixed = spec.loss.kind == "none" and spec.jitter.kind == "none"
        self._empty = np.zeros((0, self._width), dtype=np.float64)
        self._empty.flags.writeable = False
        self._rng: np.random.Generator | None = None
        # In-flight packets as (arrival, t_send, send counter, row); at most one of the two holds
        # any (see the class docstring): the FIFO while sends come in arrival order, else the heap.
        self._fifo: deque[tuple[float, float, int, np.ndarray]] = deque()
        self._heap: list[tuple[float, float, int, np.ndarray]] = []
        self._clear()

    def _clear(self) -> None:
        self._fifo.clear()
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
        loss = self._loss
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
        jit = self._jitter
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
        row = np.array(payload, dtype=np.float64)  # always a copy: the line's own row
        if row.shape != self._shape:
            raise ValueError(f"payload must have shape ({self._width},), got {row.shape}")
        t_send = float(t_send)
        if not math.isfinite(t_send):
            raise ValueError(f"t_send must be finite, got {t_send!r}")
        self._n_sent += 1
        trace = self._trace
        if trace is not None:
            d = trace[self._trace_pos]
            self._trace_pos = (self._trace_pos + 1) % len(trace)
            lost = d < 0
        elif self._fixed:
            lost, d = False, self._spec.delay_ms + 0.0  # what _draw returns, without the call
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
        item = (arrival, t_send, self._counter, row)
        heap, fifo = self._heap, self._fifo
        if not heap:
            if not fifo:
                fifo.append(item)
                return True
            last = fifo[-1]
            # In order iff (arrival, t_send) >= the last one's (the counter breaks ties upward).
            if arrival > last[0] or (arrival == last[0] and t_send >= last[1]):
                fifo.append(item)
                return True
            heap.extend(fifo)  # sorted, hence already a valid heap
            fifo.clear()
        heapq.heappush(heap, item)
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
        queue = heap if heap else self._fifo
        limit = t_now + ARRIVAL_EPS_S
        if not queue or queue[0][0] > limit:
            return self._empty
        rows = []
        newest = self._newest_t_send
        while queue and queue[0][0] <= limit:
            _, ts, _, row = heapq.heappop(heap) if queue is heap else queue.popleft()
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
        return len(self._heap) + len(self._fifo)

    @property
    def newest_t_send(self) -> float:
        """s. Send time of the newest delivered packet; ``-inf`` if none."""
        return self._newest_t_send

    @property
    def last_delay_ms(self) -> float:
        """ms. One-way delay drawn for the most recent :meth:`send`; NaN if it was lost/none."""
        return self._last_delay_ms
