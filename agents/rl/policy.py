"""A saved stable-baselines3 policy as a tournament controller.

:func:`save_policy` writes the SB3 ``.zip`` and adds one member, ``teleimp_env.json``, with what
the policy was trained with (algorithm, residual settings, feature version, lineage), so
:class:`SB3Controller` rebuilds the same observation and action transformations at test time.
A ``.zip`` path is a stack name: ``agents.make("runs/ppo.zip")``, ``--stacks naive,runs/ppo.zip``.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from teleimp_env.agents.protocol import act_on
from teleimp_env.agents.rl.actor import MlpActor
from teleimp_env.agents.rl.features import N_FEATURES, remote_features
from teleimp_env.agents.rl.wrappers import ResidualConfig, apply_residual

#: Name of the archive member holding the teleimp settings.
META_MEMBER = "teleimp_env.json"
#: Version of the settings' layout (and of the feature vector it implies).
META_FORMAT = 1
_ALGORITHMS = ("PPO", "A2C", "SAC", "TD3", "DDPG")
#: A member every SB3 ``model.save`` archive has (the model's attributes, serialised as JSON).
_SB3_MEMBER = "data"
#: Length of a zip end-of-central-directory record without its comment, bytes.
_EOCD_SIZE = 22


def _sb3() -> Any:
    try:
        import stable_baselines3
    except ImportError as err:
        raise ImportError(
            "SB3 policies need the [rl] extra (stable-baselines3): pip install 'teleimp-env[rl]'"
        ) from err
    return stable_baselines3


def save_policy(model: Any, path: str | Path, residual: ResidualConfig, **meta: Any) -> Path:
    """Save an SB3 ``model`` trained on :func:`~teleimp_env.agents.rl.envs.make_rl_env` to ``path``
    (.zip) with its settings (``meta``: e.g. ``lineage=``, ``notes=``, JSON-ready)."""
    path = Path(path)
    if path.suffix != ".zip":
        raise ValueError(f"path must end in .zip, got {str(path)!r}")
    algorithm = type(model).__name__
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"unsupported SB3 algorithm {algorithm!r}; supported: {', '.join(_ALGORITHMS)}")
    model.save(path)
    info = {"format": META_FORMAT, "algorithm": algorithm, "n_features": N_FEATURES,
            "residual": residual.to_dict(), **meta}  # fmt: skip
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(META_MEMBER, json.dumps(info, indent=1, sort_keys=True))
    return path


def _ends_with_zip_directory(path: Path) -> bool:
    """Whether the file ends with a zip end-of-central-directory record (a truncated file does not).

    An SB3 archive stores PyTorch zips as members, so a truncated one still opens as a zip: the
    reader finds an inner archive's directory. Only the outer record sits at the very end.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - _EOCD_SIZE - 0xFFFF))  # the record plus the longest archive comment
        tail = fh.read()
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < _EOCD_SIZE:
        return False
    comment = int.from_bytes(tail[pos + 20 : pos + 22], "little")
    return pos + _EOCD_SIZE + comment == len(tail)


def read_settings(path: str | Path) -> dict[str, Any]:
    """The teleimp settings stored in a policy archive.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: naming the file: a directory, not a zip, a truncated or corrupt archive, a zip
            that is not an SB3 policy, an SB3 policy without the settings, or settings of another
            format.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory, not an SB3 .zip policy file")
    if not path.is_file():
        raise FileNotFoundError(f"no SB3 policy at {str(path)!r}")
    corrupt = f"{str(path)!r} is truncated or corrupt (not a complete SB3 .zip policy)"
    try:
        with zipfile.ZipFile(path) as archive:
            if not _ends_with_zip_directory(path):
                raise ValueError(f"{corrupt}: the zip directory at its end is missing; save or copy it again")
            names = set(archive.namelist())
            if _SB3_MEMBER not in names:
                raise ValueError(
                    f"{str(path)!r} is a zip archive but not an SB3 policy (it has no {_SB3_MEMBER!r} member)"
                )
            if META_MEMBER not in names:
                raise ValueError(
                    f"{str(path)!r} has no {META_MEMBER}: save it with "
                    "teleimp_env.agents.rl.policy.save_policy so the observation and action settings it "
                    "was trained with travel with it"
                )
            bad = archive.testzip()  # CRC of every member: a damaged policy fails here, not in SB3
            if bad is not None:
                raise ValueError(f"{corrupt}: member {bad!r} fails its CRC check")
            info = json.loads(archive.read(META_MEMBER))
    except zipfile.BadZipFile as err:
        raise ValueError(
            f"{str(path)!r} is not a zip archive: truncated, corrupt or not an SB3 .zip policy ({err})"
        ) from None
    except (EOFError, zlib.error) as err:
        raise ValueError(f"{corrupt}: {type(err).__name__}: {err}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{str(path)!r}: {META_MEMBER} is not UTF-8 JSON ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r}: {META_MEMBER} is not valid JSON ({err})") from None
    if not isinstance(info, dict):
        raise ValueError(f"{str(path)!r}: {META_MEMBER} must hold a JSON object, got {type(info).__name__}")
    if info.get("format") != META_FORMAT or info.get("n_features") != N_FEATURES:
        raise ValueError(
            f"{str(path)!r} was saved with settings format {info.get('format')} and "
            f"{info.get('n_features')} features; this version reads format {META_FORMAT} with {N_FEATURES}"
        )
    return info


class SB3Controller:
    """A residual SB3 policy on top of its base stack (the controller protocol).

    Args:
        path: the policy archive written by :func:`save_policy`.
        make_base: builds the base stack by name (``teleimp_env.agents.make``).
        seed: seed of the base stack (the policy acts deterministically).
        env: the env the controller drives (its facts configure the base stack).
        name: label in logs (default: the file name without ``.zip``).

    ``agents.make("path/to/policy.zip", env=env)`` builds one.
    """

    privileged = False

    def __init__(
        self,
        path: str | Path,
        make_base: Callable[..., Any],
        seed: int | None = None,
        env: Any = None,
        name: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.settings = read_settings(self.path)
        self.residual = ResidualConfig(**self.settings["residual"])
        algorithm = getattr(_sb3(), self.settings["algorithm"])
        self.model = algorithm.load(self.path, device="cpu")
        # numpy twin of the deterministic actor (BLAS-independent rounding); None: torch's predict
        self.actor = MlpActor.from_policy(self.model.policy, self.model.action_space)
        self.lineage_ = self.settings.get("lineage")
        self.name = name or self.path.stem
        self.base = make_base(self.residual.base, seed=seed, env=env)
        self._features = np.zeros(N_FEATURES, dtype=np.float32)
        self.reset(seed)

    @property
    def decision(self) -> Any:
        """The base stack's decision this step (what the residual corrects)."""
        return getattr(self.base, "decision", None)

    @property
    def workcell_keys(self) -> tuple[str, ...]:
        """The work-cell ``info`` keys the base stack reads (an ``+eo`` base's fixture)."""
        return tuple(getattr(self.base, "workcell_keys", ()))

    @property
    def workcell_required(self) -> bool:
        """Whether the base stack needs them (an ``+eo`` base also runs without)."""
        return bool(getattr(self.base, "workcell_required", True))

    def reset(self, seed: int | None = None) -> None:
        """Start an episode."""
        self.base.reset(seed=seed)
        self._step = 0
        self._residual = np.zeros(6)

    def act(self, obs: dict[str, np.ndarray], info: dict | None = None) -> np.ndarray:
        """The (9,) action: the base stack's, corrected by the residual (renewed every
        ``action_repeat`` steps, as in training)."""
        base_action = act_on(self.base, obs, info)
        if self._step % self.residual.action_repeat == 0:
            remote_features(obs, out=self._features)
            if self.actor is not None:
                self._residual = self.actor(self._features)
            else:
                self._residual, _ = self.model.predict(self._features, deterministic=True)
        self._step += 1
        return apply_residual(base_action, self._residual, self.residual)
