"""Study datasets: recorded operator episodes turned into (input window, future truth) samples.

Recording reuses :mod:`teleimp_env.agents.data.dataset` (the packet the operator *sent* each control
period plus the true arm stiffness; the robot is driven by the naive hold so the operator sees a delayed
robot). The study then works on two clocks:

* **packets** at the control rate (500 Hz, ``dt`` = 2 ms): targets are read here, so a horizon
  ``h`` is ``h / dt`` packets after the input packet;
* **frames**: every ``step``-th packet (default 10 ms). Model inputs are windows of the
  ``window`` newest frames, and samples are taken at every frame whose full window and every
  horizon lie inside the episode.

Frame features (:data:`FRAME_FEATURES`, 17 columns): hand position (m), hand velocity (m/s),
8 sEMG envelopes (MVC-normalised), the master-side stiffness estimate (N/m). Window features make
the position relative to the newest frame (in mm) so that no model can memorise where the hole
was; every feature is then standardised with statistics of the training samples only.

The prediction target of sample ``n`` at horizon ``k`` is the truth ``horizon[k]`` after the
input packet: hand position (m) and true stiffness (N/m), a (6,) vector. The *base* of a sample
is what the newest packet says about now: hand position and stiffness estimate (the naive hold).

Three splits by subject (:func:`prepare`): **train** (everything is fitted on it, every
standardisation included), **validation** (model selection only: SINDy's thresholds, the LSTM's
best iterate) and **test** (scored only). Subjects never appear in two splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from teleimp_env.agents.data.dataset import Dataset, DatasetSpec, Episode, generate_dataset
from teleimp_env.packet import EMG_ENVELOPE, HAND_POS, HAND_VEL, STIFFNESS_ESTIMATE

#: Columns of a frame (raw units as in the packet).
FRAME_FEATURES: tuple[str, ...] = (
    "x",
    "y",
    "z",
    "vx",
    "vy",
    "vz",
    *(f"e{i}" for i in range(8)),
    "Kx_est",
    "Ky_est",
    "Kz_est",
)
#: Slices into a frame row.
F_POS, F_VEL, F_EMG, F_K = slice(0, 3), slice(3, 6), slice(6, 14), slice(14, 17)
#: Target / base components: position (m) then stiffness (N/m).
TARGET_NAMES: tuple[str, ...] = ("x", "y", "z", "Kx", "Ky", "Kz")


def record(
    generator: str,
    subjects: Sequence[int],
    episodes_per_subject: int,
    episode_s: float,
    seed: int,
    operator: str = "physiological",
    progress: bool = True,
) -> Dataset:
    """Record ``episodes_per_subject`` episodes per subject (the agents' ``generate_dataset``).

    Episode ``k`` of subject ``s`` uses the env seed drawn from ``SeedSequence([seed, s, k])``,
    whatever the generator, so the same episodes (task geometry, operator noise) are recorded
    under every generator.
    """
    spec = DatasetSpec(
        subjects=tuple(int(s) for s in subjects),
        episodes_per_subject=episodes_per_subject,
        generator=generator,
        operator=operator,
        episode_s=episode_s,
        seed=seed,
    )
    return generate_dataset(spec, progress=progress)


def frames_of(episode: Episode, step: int) -> np.ndarray:
    """Every ``step``-th packet of an episode as a frame: (n_frames, 17), see :data:`FRAME_FEATURES`."""
    p = episode.packets[::step]
    return np.concatenate(
        (p[:, HAND_POS], p[:, HAND_VEL], p[:, EMG_ENVELOPE], p[:, STIFFNESS_ESTIMATE]), axis=1
    )


def truth_of(episode: Episode) -> np.ndarray:
    """Ground truth at every packet: (T, 6) = hand position (m), true stiffness (N/m)."""
    return np.concatenate((episode.packets[:, HAND_POS], episode.true_stiffness), axis=1)


@dataclass(frozen=True)
class Layout:
    """How packets become samples.

    Attributes:
        step: packets per frame (frame period = ``step·dt``).
        window: frames per input window (the newest is the input packet's frame).
        horizon_steps: packets from the input packet to each target, one per horizon.
        dt: s, packet period.
    """

    step: int
    window: int
    horizon_steps: tuple[int, ...]
    dt: float

    @property
    def frame_dt(self) -> float:
        """Frame period, s."""
        return self.step * self.dt

    @property
    def horizons_s(self) -> np.ndarray:
        """(H,) horizons, s."""
        return np.asarray(self.horizon_steps, dtype=np.float64) * self.dt


def sample_frames(n_packets: int, layout: Layout) -> np.ndarray:
    """Frame indices ``j`` usable as samples of an episode of ``n_packets`` packets.

    ``j`` needs ``window - 1`` earlier frames and its packet ``j·step`` needs every horizon to land
    inside the episode: ``j·step + max(horizon_steps) <= n_packets - 1``.
    """
    last = (n_packets - 1 - max(layout.horizon_steps)) // layout.step
    first = layout.window - 1
    return np.arange(first, last + 1) if last >= first else np.zeros(0, dtype=np.intp)


@dataclass(frozen=True)
class SampleSet:
    """All samples of a list of episodes (``n`` samples, ``H`` horizons, window ``L``).

    Attributes:
        windows: (n, L, 17) float64 window features before standardisation (position relative to
            the newest frame in mm, velocity m/s, envelopes, stiffness estimate N/m).
        base: (n, 6) the newest packet's hand position (m) and stiffness estimate (N/m).
        target: (n, H, 6) truth at each horizon: hand position (m) and true stiffness (N/m).
        episode: (n,) index of the sample's episode in the list it was built from.
        frame: (n,) frame index of the sample within its episode.
        subject: (n,) subject id of the sample's episode.
    """

    windows: np.ndarray
    base: np.ndarray
    target: np.ndarray
    episode: np.ndarray
    frame: np.ndarray
    subject: np.ndarray

    def __len__(self) -> int:
        return len(self.base)


def window_features(frames: np.ndarray, js: np.ndarray, window: int) -> np.ndarray:
    """Windows ending at frames ``js``: (n, window, 17) with position relative to the newest, in mm."""
    idx = js[:, None] + np.arange(-window + 1, 1)[None, :]
    w = frames[idx].copy()
    w[..., F_POS] = 1000.0 * (w[..., F_POS] - w[:, -1:, F_POS])
    return w


def build_samples(episodes: Sequence[Episode], layout: Layout) -> SampleSet:
    """Cut every episode into samples (see :class:`SampleSet`); episodes too short give none."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("w", "b", "t", "e", "f", "s")}
    hs = np.asarray(layout.horizon_steps)
    for e_idx, ep in enumerate(episodes):
        if abs(ep.dt - layout.dt) > 1e-9:
            raise ValueError(f"episode {e_idx} has packet period {ep.dt} s, the layout expects {layout.dt} s")
        js = sample_frames(len(ep), layout)
        if js.size == 0:
            continue
        frames = frames_of(ep, layout.step)
        truth = truth_of(ep)
        packets = js * layout.step
        parts["w"].append(window_features(frames, js, layout.window))
        parts["b"].append(np.concatenate((frames[js][:, F_POS], frames[js][:, F_K]), axis=1))
        parts["t"].append(truth[packets[:, None] + hs[None, :]])
        parts["e"].append(np.full(js.size, e_idx))
        parts["f"].append(js)
        parts["s"].append(np.full(js.size, ep.subject))
    if not parts["w"]:
        raise ValueError(
            "no samples: every episode is shorter than the input window plus the longest horizon "
            f"({(layout.window - 1) * layout.frame_dt + max(layout.horizons_s):.3f} s); "
            "use a longer --episode-s or shorter --horizons-ms"
        )
    return SampleSet(
        windows=np.concatenate(parts["w"]),
        base=np.concatenate(parts["b"]),
        target=np.concatenate(parts["t"]),
        episode=np.concatenate(parts["e"]).astype(np.intp),
        frame=np.concatenate(parts["f"]).astype(np.intp),
        subject=np.concatenate(parts["s"]).astype(np.intp),
    )


@dataclass(frozen=True)
class Standardiser:
    """Per-column mean and standard deviation (a zero spread is replaced by 1)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, axes: tuple[int, ...]) -> Standardiser:
        """Statistics of ``x`` over ``axes`` (kept as size-1 dimensions for broadcasting)."""
        mean = x.mean(axis=axes, keepdims=True)
        std = x.std(axis=axes, keepdims=True)
        return cls(mean, np.where(std > 1e-12, std, 1.0))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / std``."""
        return (x - self.mean) / self.std

    def invert(self, z: np.ndarray) -> np.ndarray:
        """``z·std + mean``."""
        return z * self.std + self.mean


def residual(target: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Target minus the naive hold, position in mm and stiffness in N/m: (n, H, 6)."""
    r = target - base[:, None, :]
    r[..., :3] *= 1000.0
    return r


def from_residual(r: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Inverse of :func:`residual`: (n, H, 6) residuals (mm, N/m) → absolute (m, N/m)."""
    out = np.array(r, dtype=np.float64)
    out[..., :3] /= 1000.0
    return out + base[:, None, :]


@dataclass(frozen=True)
class Split:
    """One side of a split, with the training split's standardisation applied.

    Attributes:
        episodes: the recorded episodes.
        samples: their samples.
        x: (n, L, 17) float32 standardised windows (training statistics).
    """

    episodes: list[Episode]
    samples: SampleSet
    x: np.ndarray

    @property
    def subjects(self) -> tuple[int, ...]:
        """Sorted distinct subject ids of the episodes."""
        return tuple(sorted({int(e.subject) for e in self.episodes}))


@dataclass(frozen=True)
class StudyData:
    """Train, validation and test splits of one generator, plus the layout and training statistics.

    Attributes:
        layout: see :class:`Layout`.
        train / validation / test: see :class:`Split` (fit / select / score).
        x_scale: window-feature standardiser (fitted on the training windows).
        y_scale: residual-target standardiser, per horizon and component (training samples).
    """

    layout: Layout
    train: Split
    validation: Split
    test: Split
    x_scale: Standardiser
    y_scale: Standardiser

    def y_train(self) -> np.ndarray:
        """(n_train, H·6) float32 standardised residual targets of the training samples."""
        s = self.train.samples
        z = self.y_scale.apply(residual(s.target, s.base))
        return z.reshape(len(s), -1).astype(np.float32)

    def to_absolute(self, z: np.ndarray, split: Split) -> np.ndarray:
        """Standardised residual predictions (n, H·6) → absolute (n, H, 6) (m, N/m)."""
        h = len(self.layout.horizon_steps)
        r = self.y_scale.invert(np.asarray(z, dtype=np.float64).reshape(len(split.samples), h, 6))
        return from_residual(r, split.samples.base)


def prepare(
    train_eps: Sequence[Episode],
    val_eps: Sequence[Episode],
    test_eps: Sequence[Episode],
    layout: Layout,
) -> StudyData:
    """Cut the three splits into samples and standardise them with the training statistics.

    Raises ``ValueError`` if a subject appears in two splits.
    """
    subjects = [{int(e.subject) for e in eps} for eps in (train_eps, val_eps, test_eps)]
    for (a, sa), (b, sb) in (
        (("train", subjects[0]), ("validation", subjects[1])),
        (("train", subjects[0]), ("test", subjects[2])),
        (("validation", subjects[1]), ("test", subjects[2])),
    ):
        if sa & sb:
            raise ValueError(f"the {a} and {b} splits share subject(s) {sorted(sa & sb)}")
    tr = build_samples(train_eps, layout)
    x_scale = Standardiser.fit(tr.windows, axes=(0, 1))
    y_scale = Standardiser.fit(residual(tr.target, tr.base), axes=(0,))

    def split(eps: Sequence[Episode], samples: SampleSet) -> Split:
        return Split(list(eps), samples, x_scale.apply(samples.windows).astype(np.float32))

    return StudyData(
        layout=layout,
        train=split(train_eps, tr),
        validation=split(val_eps, build_samples(val_eps, layout)),
        test=split(test_eps, build_samples(test_eps, layout)),
        x_scale=x_scale,
        y_scale=y_scale,
    )
