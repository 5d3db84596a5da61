"""Tests for teleimp_env.network.channel: delay lines, jitter, loss, reordering, trace replay, parsing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teleimp_env.network.channel import (
    JITTER_KINDS,
    DelayLine,
    JitterSpec,
    LinkSpec,
    LossSpec,
    load_delay_trace,
    parse_jitter,
    parse_loss,
)

DT = 0.002  # s, control / packet period


def _line(spec: LinkSpec, seed: int = 0, width: int = 2) -> DelayLine:
    line = DelayLine(spec, width)
    line.reset(np.random.default_rng(seed))
    return line


def _run(line: DelayLine, n_steps: int, n_send: int | None = None) -> list[tuple[int, int]]:
    """Send packet k (payload [k, t_send]) at step k < n_send; return (deliver step, k) pairs."""
    n_send = n_steps if n_send is None else n_send
    out = []
    for step in range(n_steps):
        t = step * DT
        if step < n_send:
            line.send(t, np.array([step, t]))
        for row in line.deliver(t):
            out.append((step, int(row[0])))
    return out


def _loss_pattern(spec: LossSpec, n: int, seed: int = 1) -> np.ndarray:
    line = _line(LinkSpec(loss=spec), seed)
    x = np.zeros(2)
    return np.array([not line.send(k * DT, x) for k in range(n)])


def _delays(jitter: JitterSpec, n: int, delay_ms: float = 0.0, seed: int = 2) -> np.ndarray:
    line = _line(LinkSpec(delay_ms=delay_ms, jitter=jitter), seed)
    x = np.zeros(2)
    out = np.empty(n)
    for k in range(n):
        assert line.send(k * DT, x)
        out[k] = line.last_delay_ms
    return out


def _burst_lengths(lost: np.ndarray) -> np.ndarray:
    padded = np.concatenate([[False], lost, [False]]).astype(np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


# ---------------------------------------------------------------- constant delay


@pytest.mark.parametrize("delay_ms", [2.0, 4.0, 50.0, 100.0, 250.0, 0.6 * 500])
def test_constant_delay_arrives_exactly_at_send_plus_delay(delay_ms: float) -> None:
    line = _line(LinkSpec(delay_ms=delay_ms))
    got = _run(line, 300, n_send=150)
    lag = round(delay_ms / 1000 / DT)
    assert got == [(k + lag, k) for k in range(150)]
    assert line.n_delivered == 150 and line.n_lost == 0 and line.n_discarded_stale == 0


def test_delay_between_periods_arrives_at_next_step_not_before() -> None:
    line = _line(LinkSpec(delay_ms=3.0))  # 1.5 periods -> step k + 2
    got = _run(line, 40, n_send=30)
    assert got == [(k + 2, k) for k in range(30)]


def test_zero_delay_delivers_at_send_time() -> None:
    line = _line(LinkSpec())
    got = _run(line, 50)
    assert got == [(k, k) for k in range(50)]
    assert line.age(49 * DT) == pytest.approx(0.0)


def test_age_of_information_and_stats() -> None:
    line = DelayLine(LinkSpec(delay_ms=20.0), 3)
    line.reset(np.random.default_rng(0))
    assert line.age(0.0) == math.inf and line.newest_t_send == -math.inf
    assert line.deliver(0.0).shape == (0, 3)
    line.send(0.0, np.ones(3))
    line.send(DT, 2 * np.ones(3))
    assert line.deliver(0.0199).shape == (0, 3)
    rows = line.deliver(0.020)
    np.testing.assert_array_equal(rows, np.ones((1, 3)))
    assert line.newest_t_send == 0.0
    assert line.age(0.021) == pytest.approx(0.021)
    assert (line.n_sent, line.n_delivered, line.n_in_flight) == (2, 1, 1)
    rows = line.deliver(1.0)
    np.testing.assert_array_equal(rows, 2 * np.ones((1, 3)))
    line.reset(np.random.default_rng(0))
    assert (line.n_sent, line.n_delivered, line.n_in_flight) == (0, 0, 0)
    assert line.age(1.0) == math.inf


def test_payload_is_copied_and_validated() -> None:
    line = DelayLine(LinkSpec(), 3)
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="reset"):
        line.send(0.0, x)
    line.reset(np.random.default_rng(0))
    line.send(0.0, x)
    x[:] = 0.0
    np.testing.assert_array_equal(line.deliver(0.0), [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        line.send(DT, np.zeros(4))
    with pytest.raises(ValueError, match="width"):
        DelayLine(LinkSpec(), 0)


# ---------------------------------------------------------------- loss


def test_bernoulli_loss_rate_within_4_sigma() -> None:
    n, p = 20000, 0.1
    line = _line(LinkSpec(loss=LossSpec("bernoulli", p=p)), seed=3)
    lost = sum(not line.send(k * DT, np.zeros(2)) for k in range(n))
    assert abs(lost - n * p) <= 4 * math.sqrt(n * p * (1 - p))
    assert line.n_lost == lost and line.n_sent == n
    line.deliver(n * DT)
    assert line.n_delivered == n - lost


def test_zero_loss_kinds_lose_nothing() -> None:
    assert not _loss_pattern(LossSpec(), 2000).any()
    assert not _loss_pattern(LossSpec("bernoulli", p=0.0), 2000).any()


def test_gilbert_elliott_stationary_rate_and_bursts() -> None:
    spec = LossSpec("gilbert_elliott", p_good_to_bad=0.02, p_bad_to_good=0.25)
    lost = _loss_pattern(spec, 100_000)
    stationary = 0.02 / (0.02 + 0.25)
    assert spec.stationary_loss() == pytest.approx(stationary)
    assert lost.mean() == pytest.approx(stationary, abs=0.01)
    bursts = _burst_lengths(lost)
    assert bursts.mean() == pytest.approx(1 / 0.25, rel=0.1)
    # Bernoulli loss at the same rate has runs of ~1 / (1 - p) ≈ 1.08 packets.
    bern = _loss_pattern(LossSpec("bernoulli", p=stationary), 100_000)
    assert _burst_lengths(bern).mean() < 1.2


def test_gilbert_elliott_partial_loss_in_both_states() -> None:
    spec = parse_loss(("gilbert_elliott", 0.1, 0.3, 0.05, 0.6))
    pi_bad = 0.1 / (0.1 + 0.3)
    expected = (1 - pi_bad) * 0.05 + pi_bad * 0.6
    assert spec.stationary_loss() == pytest.approx(expected)
    assert _loss_pattern(spec, 100_000).mean() == pytest.approx(expected, abs=0.01)


def test_gilbert_elliott_starts_good() -> None:
    # Never leaves the good state, which never loses.
    spec = LossSpec("gilbert_elliott", p_good_to_bad=0.0, p_bad_to_good=0.5)
    assert not _loss_pattern(spec, 5000).any()


# ---------------------------------------------------------------- jitter


def test_jitter_delays_nonnegative_and_means() -> None:
    n, s = 20000, 10.0
    for kind in JITTER_KINDS[1:]:
        d = _delays(JitterSpec(kind, s, 3.0 if kind != "uniform" and kind != "normal" else 2.0), n)
        assert (d >= 0).all(), kind
    uni = _delays(JitterSpec("uniform", s), n, delay_ms=50.0)
    assert uni.min() >= 50.0 and uni.max() <= 50.0 + s
    assert uni.mean() - 50.0 == pytest.approx(s / 2, rel=0.03)
    assert _delays(JitterSpec("gamma", s, 3.0), n).mean() == pytest.approx(s, rel=0.03)
    half = _delays(JitterSpec("normal", s), n).mean()
    assert half == pytest.approx(s * math.sqrt(2 / math.pi), rel=0.03)
    # Lomax(alpha=3): mean s / (alpha - 1), P(J > x) = (1 + x / s) ** -alpha.
    par = _delays(JitterSpec("pareto", s, 3.0), n)
    assert par.mean() == pytest.approx(s / 2, rel=0.08)
    assert (par > s).mean() == pytest.approx(2.0**-3, abs=0.01)
    assert (_delays(JitterSpec(), 100, delay_ms=7.0) == 7.0).all()


def test_jittered_packet_arrives_at_its_drawn_delay() -> None:
    line = _line(LinkSpec(delay_ms=30.0, jitter=JitterSpec("gamma", 20.0, 2.0)), seed=5)
    for k in range(50):
        t = k * 1.0  # far apart: no reordering
        line.send(t, np.array([k, t]))
        arrival = t + line.last_delay_ms / 1000
        assert line.deliver(arrival - 1e-6).shape == (0, 2)
        np.testing.assert_array_equal(line.deliver(arrival), [[k, t]])


def test_reordering_discards_stale_and_send_times_increase() -> None:
    spec = LinkSpec(delay_ms=50.0, jitter=JitterSpec("uniform", 40.0))
    line = _line(spec, seed=7, width=2)
    t_sends = []
    n = 5000
    for step in range(n + 100):
        t = step * DT
        if step < n:
            line.send(t, np.array([step, t]))
        rows = line.deliver(t)
        t_sends.extend(rows[:, 1])
        if len(rows):
            assert line.newest_t_send == rows[-1, 1]
    t_sends = np.array(t_sends)
    assert line.n_discarded_stale > 0.1 * n
    assert (np.diff(t_sends) > 0).all()
    assert line.n_in_flight == 0
    assert line.n_delivered + line.n_discarded_stale + line.n_lost == line.n_sent == n
    assert len(t_sends) == line.n_delivered


def test_equal_arrival_times_ordered_by_send_time() -> None:
    # In floating point 0.0 + 0.013 > 0.002 + 0.011; the two arrivals must still tie, and the
    # older packet must not be discarded as stale.
    line = _line(LinkSpec(trace=(13.0, 11.0)))
    line.send(0.0, np.array([0.0, 0.0]))  # arrives 0.013
    line.send(DT, np.array([1.0, DT]))  # arrives 0.013
    np.testing.assert_array_equal(line.deliver(0.013)[:, 0], [0.0, 1.0])
    assert line.n_discarded_stale == 0


# ---------------------------------------------------------------- trace replay


def test_trace_replay_from_csv(tmp_path) -> None:
    f = tmp_path / "trace.csv"
    f.write_text("# recorded link\ndelay_ms\n10\n4.0\n-1   # lost\n\n0\n6,\n")
    trace = load_delay_trace(f)
    assert trace == (10.0, 4.0, -1.0, 0.0, 6.0)
    # The trace overrides delay, jitter and loss.
    spec = LinkSpec(delay_ms=100.0, jitter=5.0, loss=0.5, trace=trace)
    line = _line(spec)
    sent_delays = []
    for k in range(10):
        ok = line.send(k * DT, np.array([k, k * DT]))
        assert ok == (k not in (2, 7))
        sent_delays.append(line.last_delay_ms)
    expected = [10, 4, math.nan, 0, 6] * 2
    np.testing.assert_array_equal(sent_delays, expected)
    delivered = []
    for step in range(20):
        for row in line.deliver(step * DT):
            delivered.append((step, int(row[0])))
    # Packet 0 (arrives at 10 ms) is older than packets 1 and 3 (both arrive at 6 ms): stale.
    assert delivered == [(3, 1), (3, 3), (7, 4), (8, 6), (8, 8), (12, 9)]
    assert (line.n_lost, line.n_discarded_stale, line.n_delivered) == (2, 2, 6)
    # Reset restarts the trace at its first entry.
    line.reset(np.random.default_rng(9))
    line.send(0.0, np.zeros(2))
    assert line.last_delay_ms == 10.0


def test_trace_file_errors_name_file_and_line(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("delay_ms\n1\n2\nabc\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 4"):
        load_delay_trace(bad)
    neg = tmp_path / "neg.csv"
    neg.write_text("1\n-2\n")
    with pytest.raises(ValueError, match=r"neg\.csv, line 2.*-1"):
        load_delay_trace(neg)
    empty = tmp_path / "empty.csv"
    empty.write_text("delay_ms\n# nothing\n")
    with pytest.raises(ValueError, match="empty"):
        load_delay_trace(empty)
    with pytest.raises(ValueError, match="trace"):
        LinkSpec(trace=())
    with pytest.raises(ValueError, match=r"trace\[1\]"):
        LinkSpec(trace=(1.0, -3.0))


# ---------------------------------------------------------------- determinism


def _sequence(seed: int) -> list[tuple[int, int]]:
    spec = LinkSpec(
        delay_ms=40.0,
        jitter=JitterSpec("pareto", 5.0, 2.5),
        loss=parse_loss(("gilbert_elliott", 0.05, 0.3, 0.01, 0.9)),
    )
    return _run(_line(spec, seed), 3000)


def test_same_seed_same_sequence_different_seed_differs() -> None:
    a, b, c = _sequence(11), _sequence(11), _sequence(12)
    assert a == b
    assert a != c


# ---------------------------------------------------------------- parsing


def test_parse_jitter_forms() -> None:
    assert parse_jitter(None) == JitterSpec() == parse_jitter(0) == parse_jitter("none")
    assert parse_jitter(5) == JitterSpec("uniform", 5.0)
    assert parse_jitter(("gamma", 8.0)) == JitterSpec("gamma", 8.0, 2.0)
    assert parse_jitter(["pareto", 8, 3]) == JitterSpec("pareto", 8.0, 3.0)
    assert parse_jitter({"kind": "normal", "scale_ms": 2}) == JitterSpec("normal", 2.0)
    spec = JitterSpec("uniform", 1.0)
    assert parse_jitter(spec) is spec
    assert LinkSpec(jitter=5.0, loss=0.1) == LinkSpec(
        jitter=JitterSpec("uniform", 5.0), loss=LossSpec("bernoulli", p=0.1)
    )


def test_parse_loss_forms() -> None:
    assert parse_loss(None) == LossSpec() == parse_loss(0) == parse_loss("none")
    assert parse_loss(0.2) == LossSpec("bernoulli", p=0.2) == parse_loss(("bernoulli", 0.2))
    ge = parse_loss(("gilbert_elliott", 0.01, 0.2))
    assert ge == LossSpec("gilbert_elliott", p_good_to_bad=0.01, p_bad_to_good=0.2)
    ge5 = parse_loss(("gilbert_elliott", 0.01, 0.2, 0.001, 0.8))
    assert (ge5.loss_good, ge5.loss_bad) == (0.001, 0.8)
    assert parse_loss({"kind": "bernoulli", "p": 0.3}) == LossSpec("bernoulli", p=0.3)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: parse_jitter("cauchy"), ["jitter", "uniform", "pareto"]),
        (lambda: parse_jitter(("cauchy", 3.0)), ["jitter", "uniform", "pareto"]),
        (lambda: parse_jitter(-1.0), ["jitter", ">= 0"]),
        (lambda: parse_jitter(("gamma", -1.0)), ["jitter.scale_ms", ">= 0"]),
        (lambda: parse_jitter(("pareto", 5.0, 1.0)), ["jitter.shape", "> 1"]),
        (lambda: parse_jitter({"kind": "uniform", "scale": 1}), ["jitter", "scale_ms"]),
        (lambda: JitterSpec("uniform", 1.0, shape=3.0), ["jitter.shape", "not used"]),
        (lambda: LinkSpec(delay_ms=-1.0), ["delay_ms", "[0, 5000]"]),
        (lambda: LinkSpec(delay_ms=6000.0), ["delay_ms", "[0, 5000]"]),
        (lambda: LinkSpec(delay_ms=math.nan), ["delay_ms", "[0, 5000]"]),
        (lambda: parse_loss(1.5), ["loss", "[0, 1)"]),
        (lambda: parse_loss(("bernoulli", 1.5)), ["loss.p", "[0, 1)"]),
        (lambda: LossSpec("bernoulli", p=1.0), ["loss.p", "[0, 1)"]),
        (lambda: parse_loss(("gilbert_elliott", 0.1, 0.0)), ["loss.p_bad_to_good", "(0, 1]"]),
        (lambda: parse_loss(("gilbert_elliott", 1.2, 0.5)), ["loss.p_good_to_bad", "[0, 1]"]),
        (lambda: parse_loss(("burst", 0.1)), ["loss", "gilbert_elliott"]),
        (lambda: parse_loss(("bernoulli",)), ["loss", "bernoulli"]),
        (lambda: LossSpec(p=0.1), ["loss.p", "not used"]),
    ],
)
def test_bad_config_errors_name_parameter_and_range(call, words: list[str]) -> None:
    with pytest.raises(ValueError) as exc:
        call()
    for w in words:
        assert w in str(exc.value), (w, str(exc.value))
