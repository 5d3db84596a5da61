"""Datasets recorded from the env: clean per-step operator packets plus ground truth.

Each :class:`Episode` is one env episode recorded every control period: the packet the operator
*sent* at that step (before the channel; so nothing is lost or late) and the true arm stiffness.
The robot is driven meanwhile by the naive hold at the episode's delay, so the operator sees
(and reacts to) a realistically delayed robot. Everything is reproducible from
:attr:`DatasetSpec.seed`: episode ``k`` of subject ``s`` uses the env seed drawn from
``SeedSequence([seed, s, k])``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import teleimp_env
from teleimp_env.action import STIFFNESS_MAX, STIFFNESS_MIN
from teleimp_env.config import OPERATOR_KINDS
from teleimp_env.operator.subjects import TRAIN_SUBJECTS
from teleimp_env.packet import HAND_POS, PACKET_SIZE, STIFFNESS_ESTIMATE, T_SEND

GENERATORS = ("linear", "hard", "physiological")


@dataclass(frozen=True)
class Episode:
    """One recorded episode (T control steps).

    Attributes:
        packets: (T, 20) the packet sent at each step, env packet layout (t_send, seq, …).
        true_stiffness: (T, 3) N/m, the arm's true endpoint stiffness at each step.
        subject: operator subject id.
        delay_ms: one-way delay the robot was driven at while recording, ms.
        seed: env seed of the episode.
        excitation: (T, 6) the operator's true neural excitation per muscle (privileged, in [0, 1],
            muscle order of ``teleimp_env.operator.subjects.MUSCLES``) recorded from
            ``info["operator_excitation"]`` where the env reports it (finite), else ``None``.
    """

    packets: np.ndarray
    true_stiffness: np.ndarray
    subject: int
    delay_ms: float
    seed: int
    excitation: np.ndarray | None = None

    @property
    def dt(self) -> float:
        """Control period, s."""
        return float(self.packets[1, T_SEND] - self.packets[0, T_SEND]) if len(self.packets) > 1 else 0.002

    def __len__(self) -> int:
        return len(self.packets)


@dataclass(frozen=True)
class DatasetSpec:
    """What to record (every field is validated; a bad one names itself and its valid values)."""

    subjects: tuple[int, ...] = TRAIN_SUBJECTS
    """Operator subject ids (ints >= 0)."""
    episodes_per_subject: int = 6
    """Episodes recorded per subject (>= 1)."""
    generator: str = "physiological"
    """sEMG generator preset: ``"linear"``, ``"hard"`` or ``"physiological"``."""
    operator: str = "physiological"
    """Simulated operator kind (``"physiological"`` or ``"scripted"``)."""
    delays_ms: tuple[float, ...] = (50.0, 100.0, 200.0, 300.0)
    """One-way delays, ms; each episode draws one (the robot is driven by the naive hold)."""
    episode_s: float = 12.0
    """Episode length, s (episodes end earlier on success)."""
    seed: int = 0
    """Master seed of the whole dataset."""
    force_feedback: bool = False
    """Record in bilateral mode."""
    env_kwargs: dict = field(default_factory=dict)
    """Extra ``gym.make`` keyword arguments."""

    def __post_init__(self) -> None:
        subjects = tuple(self.subjects)
        if not subjects or not all(isinstance(s, (int, np.integer)) and s >= 0 for s in subjects):
            raise ValueError(f"subjects must be a non-empty sequence of ints >= 0, got {self.subjects!r}")
        object.__setattr__(self, "subjects", tuple(int(s) for s in subjects))
        if not isinstance(self.episodes_per_subject, int) or self.episodes_per_subject < 1:
            raise ValueError(f"episodes_per_subject must be an int >= 1, got {self.episodes_per_subject!r}")
        if self.generator not in GENERATORS:
            raise ValueError(f"generator must be one of {GENERATORS}, got {self.generator!r}")
        if self.operator not in OPERATOR_KINDS:
            raise ValueError(f"operator must be one of {OPERATOR_KINDS}, got {self.operator!r}")
        delays = tuple(float(d) for d in self.delays_ms)
        if not delays or not all(0.0 <= d <= 5000.0 for d in delays):
            raise ValueError(
                f"delays_ms must be a non-empty sequence of numbers in [0, 5000] ms, got {delays}"
            )
        object.__setattr__(self, "delays_ms", delays)


class Dataset:
    """An ordered collection of :class:`Episode` s (the unit of every fit and evaluation)."""

    def __init__(self, episodes: Iterable[Episode]) -> None:
        self.episodes: list[Episode] = list(episodes)

    def __len__(self) -> int:
        return len(self.episodes)

    def __iter__(self):
        return iter(self.episodes)

    @property
    def subjects(self) -> tuple[int, ...]:
        """Sorted distinct subject ids."""
        return tuple(sorted({e.subject for e in self.episodes}))

    @property
    def n_steps(self) -> int:
        """Total recorded control steps."""
        return sum(len(e) for e in self.episodes)

    def select(self, subjects: Iterable[int] | None = None, exclude: Iterable[int] = ()) -> Dataset:
        """Episodes of ``subjects`` (all if ``None``) minus those of ``exclude``."""
        keep = None if subjects is None else set(subjects)
        drop = set(exclude)
        return Dataset(
            e for e in self.episodes if (keep is None or e.subject in keep) and e.subject not in drop
        )

    def save(self, path: str | Path) -> Path:
        """Write all episodes to one ``.npz`` file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for i, e in enumerate(self.episodes):
            arrays[f"p{i}"] = e.packets
            arrays[f"k{i}"] = e.true_stiffness
            arrays[f"m{i}"] = np.array([e.subject, e.delay_ms, e.seed], dtype=np.float64)
            if e.excitation is not None:
                arrays[f"x{i}"] = e.excitation
        np.savez_compressed(path, n=np.array(len(self.episodes)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Dataset:
        """Read a dataset written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as npz:
            n = int(npz["n"])
            eps = []
            for i in range(n):
                subject, delay, seed = npz[f"m{i}"]
                excitation = npz[f"x{i}"] if f"x{i}" in npz.files else None
                eps.append(
                    Episode(npz[f"p{i}"], npz[f"k{i}"], int(subject), float(delay), int(seed), excitation)
                )
        return cls(eps)


def episode_seed(master: int, subject: int, index: int) -> tuple[int, np.random.Generator]:
    """The env seed of episode ``index`` of ``subject`` and a generator for its other draws."""
    seq = np.random.SeedSequence([int(master), int(subject), int(index)])
    env_seed = int(seq.generate_state(1, dtype=np.uint32)[0])
    return env_seed, np.random.default_rng(seq.spawn(1)[0])


def _hold_action(obs: dict[str, np.ndarray], out: np.ndarray) -> np.ndarray:
    """Naive hold: newest received command, or hold the robot where it is before any arrived."""
    if obs["packet_mask"][-1] > 0:
        packet = obs["packets"][-1]
        out[:3] = packet[HAND_POS]
        out[3:6] = np.clip(packet[STIFFNESS_ESTIMATE], STIFFNESS_MIN, STIFFNESS_MAX)
    else:
        out[:3] = obs["robot_pos"]
        out[3:6] = 300.0
    out[6:] = 0.0
    return out


def record_episode(env: gym.Env, seed: int, subject: int, delay_ms: float) -> Episode:
    """Run one episode of ``env`` under the naive hold and record the sent packets and truth
    (and the operator's excitation where ``info`` carries a finite ``"operator_excitation"`` at
    every step; the scripted operator, which has no muscles, reports NaN: no excitation)."""
    obs, info = env.reset(seed=seed)
    base = env.unwrapped
    n_max = base.max_steps + 1
    packets = np.zeros((n_max, PACKET_SIZE))
    stiffness = np.zeros((n_max, 3))
    excitation: list[np.ndarray] | None = []
    action = np.zeros(9)
    n = 0

    def keep(info: dict) -> None:
        nonlocal excitation, n
        packets[n] = base.sent_packet()
        stiffness[n] = info["intent_stiffness"]
        u = info.get("operator_excitation")
        if u is None or excitation is None or not np.all(np.isfinite(u)):  # NaN: no muscles
            excitation = None
        else:
            excitation.append(np.array(u, dtype=np.float64))
        n += 1

    while True:
        keep(info)
        if n == n_max:
            break
        obs, _, terminated, truncated, info = env.step(_hold_action(obs, action))
        if terminated or truncated:
            keep(info)
            break
    u_all = None if excitation is None else np.array(excitation)
    return Episode(packets[:n].copy(), stiffness[:n].copy(), subject, delay_ms, seed, u_all)


def generate_dataset(spec: DatasetSpec, progress: bool = True) -> Dataset:
    """Record ``spec.episodes_per_subject`` episodes for each subject of ``spec`` (tqdm bar)."""
    jobs = [(s, k) for s in spec.subjects for k in range(spec.episodes_per_subject)]
    episodes: list[Episode] = []
    envs: dict[tuple[int, float], gym.Env] = {}
    bar = tqdm(
        jobs,
        desc=f"recording {spec.operator} operator, {spec.generator} sEMG",
        unit="ep",
        disable=not progress,
    )
    for subject, k in bar:
        seed, rng = episode_seed(spec.seed, subject, k)
        delay = float(spec.delays_ms[int(rng.integers(len(spec.delays_ms)))])
        key = (subject, delay)
        if key not in envs:
            envs[key] = gym.make(
                teleimp_env.ENV_ID,
                delay_ms=delay,
                operator=spec.operator,
                subject=subject,
                generator=spec.generator,
                episode_s=spec.episode_s,
                force_feedback=spec.force_feedback,
                **spec.env_kwargs,
            )
        episodes.append(record_episode(envs[key], seed, subject, delay))
    for env in envs.values():
        env.close()
    return Dataset(episodes)


def stack_columns(episodes: Sequence[Episode], columns: slice) -> list[np.ndarray]:
    """Per-episode arrays ``packets[:, columns]`` (a list, one (T_i, k) array per episode)."""
    return [e.packets[:, columns] for e in episodes]
