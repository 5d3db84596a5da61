"""``teleimp train MODEL``: record datasets from the env, fit, calibrate, save a checkpoint.

Pipeline (every step seeded from ``--seed``):

1. record the training pool (default: the 16 training people of
   :data:`~teleimp_env.operator.subjects.TRAIN_SUBJECTS`) and the validation pool (the test pool
   is never used here) with
   :func:`teleimp_env.agents.data.dataset.generate_dataset` (or reuse them from ``--data-cache``);
2. fit the predictor on the training pool (the LSTM keeps its best validation model);
3. with ``--loso K``: subject ``K`` is left out of step 2, then the model is fine-tuned on
   ``--finetune-episodes`` of ``K``'s episodes and validated on the rest of ``K``'s;
4. calibrate the predicted spread (95 % coverage) and the gate on the validation set (the
   predictor's own ``calibrate``);
5. save the checkpoint (default ``assets/checkpoints/<model>.npz``) and print validation errors.

The eval CLI delegates here: ``add_train_arguments(parser)`` then ``run_train(args)`` (exit code);
``train_from_args(args)`` returns the summary dict;
``main_train(argv)`` is the stand-alone entry point (``python -m teleimp_env.agents.training.pipeline lstm``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from teleimp_env.agents.checkpoint import default_checkpoint
from teleimp_env.agents.data.calibration import CALIBRATION_HORIZONS_S, evaluate
from teleimp_env.agents.data.dataset import GENERATORS, Dataset, DatasetSpec, generate_dataset
from teleimp_env.agents.lineage import Lineage
from teleimp_env.agents.predictors.calibrated import CalibratedPredictor
from teleimp_env.agents.predictors.kinds import PREDICTOR_PARAMS, predictor_class
from teleimp_env.operator.subjects import TRAIN_SUBJECTS, VALIDATION_SUBJECTS
from teleimp_env.resources import checkpoint_dir

MODELS = (
    "sindy",
    "lstm",
    "cv",
    "kf",
    "readout",
    "readout-adapt",
    "readout-noemg",
    "readout-rawemg",
    "ppo-residual",
)
#: ms, delays the recording robot is driven at by default.
RECORDING_DELAYS_MS = (50.0, 100.0, 200.0, 300.0)


def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``teleimp train`` arguments to ``parser`` (returns it)."""
    parser.add_argument("model", choices=MODELS, help="predictor to train")
    parser.add_argument(
        "--subjects",
        type=int,
        nargs="+",
        default=list(TRAIN_SUBJECTS),
        help="training pool (default: the 16 training people)",
    )
    parser.add_argument(
        "--val-subjects",
        type=int,
        nargs="+",
        default=list(VALIDATION_SUBJECTS),
        help="validation subjects: selection, spread and gate calibration (default: the validation pool)",
    )
    parser.add_argument("--episodes", type=int, default=8, help="episodes per training subject")
    parser.add_argument("--val-episodes", type=int, default=4, help="episodes per validation subject")
    parser.add_argument(
        "--generator", choices=GENERATORS, default="physiological", help="sEMG generator preset"
    )
    parser.add_argument(
        "--operator",
        choices=("physiological", "scripted"),
        default="physiological",
        help="simulated operator that records the training episodes (default: physiological)",
    )
    parser.add_argument(
        "--delays",
        type=float,
        nargs="+",
        default=None,
        help="one-way delays (ms) the recording robot is driven at (default 50 100 200 300; "
        "ppo-residual: the training delay, default 200)",
    )
    parser.add_argument("--episode-s", type=float, default=12.0, help="episode length, s")
    parser.add_argument("--seed", type=int, default=0, help="the one seed of data, fit and calibration")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="checkpoint path (default, in a source checkout only: assets/checkpoints/MODEL.npz, "
        "replacing the shipped one; required when the package is installed from a wheel)",
    )
    parser.add_argument(
        "--data-cache",
        type=Path,
        default=None,
        help="reuse recorded datasets from this directory (keyed by spec only: clear it if the env changes)",
    )
    parser.add_argument("--iters", type=int, default=None, help="lstm: gradient steps")
    parser.add_argument(
        "--timesteps", type=int, default=None, help="ppo-residual: policy steps (default 120000)"
    )
    parser.add_argument(
        "--optimizer", choices=("stlsq", "lasso"), default="stlsq", help="sindy: sparse regression"
    )
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="+",
        default=None,
        help="sindy: candidate sparsity thresholds (each component picks one on the validation subjects)",
    )
    parser.add_argument(
        "--loso",
        type=int,
        default=None,
        metavar="SUBJECT",
        help="leave SUBJECT out of training, fine-tune and validate on it",
    )
    parser.add_argument(
        "--finetune-episodes", type=int, default=2, help="--loso: SUBJECT's episodes to fine-tune on"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch/BLAS threads (fixed so a seed reproduces the checkpoint)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def _dataset(spec: DatasetSpec, cache: Path | None, progress: bool) -> Dataset:
    if cache is None:
        return generate_dataset(spec, progress=progress)
    key = hashlib.sha256(json.dumps(asdict(spec), sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = Path(cache) / f"dataset-{key}.npz"
    if path.is_file():
        return Dataset.load(path)
    data = generate_dataset(spec, progress=progress)
    data.save(path)
    return data


def _datasets(args: argparse.Namespace) -> tuple[Dataset, Dataset, Dataset | None]:
    """(train, validation, finetune) per the arguments."""
    progress = not args.no_progress
    common = {
        "generator": args.generator,
        "operator": args.operator,
        "delays_ms": tuple(args.delays or RECORDING_DELAYS_MS),
        "episode_s": args.episode_s,
    }
    overlap = set(args.subjects) & set(args.val_subjects)
    if overlap and args.loso is None:
        raise ValueError(
            f"--subjects and --val-subjects overlap on {sorted(overlap)}: selection and calibration "
            "must use subjects the model is not fitted on"
        )
    subjects = tuple(s for s in args.subjects if s != args.loso)
    train = _dataset(
        DatasetSpec(subjects=subjects, episodes_per_subject=args.episodes, seed=args.seed, **common),
        args.data_cache,
        progress,
    )
    if args.loso is None:
        val = _dataset(
            DatasetSpec(
                subjects=tuple(args.val_subjects),
                episodes_per_subject=args.val_episodes,
                seed=args.seed + 1,
                **common,
            ),
            args.data_cache,
            progress,
        )
        return train, val, None
    own = _dataset(
        DatasetSpec(
            subjects=(args.loso,),
            episodes_per_subject=args.finetune_episodes + args.val_episodes,
            seed=args.seed + 1,
            **common,
        ),
        args.data_cache,
        progress,
    )
    n = args.finetune_episodes
    return train, Dataset(own.episodes[n:]), Dataset(own.episodes[:n])


def train_sindy(
    train: Dataset,
    validation: Dataset,
    seed: int = 0,
    finetune: Dataset | None = None,
    progress: bool = True,
    **params: Any,
) -> CalibratedPredictor:
    """Fit, calibrate and return a ``SindyPredictor`` (``params`` go to its constructor).

    With ``finetune`` the model is refitted on ``train`` plus ``finetune`` (SINDy has no
    incremental fit; the new subject's episodes join the regression).
    """
    data = Dataset([*train, *(finetune or [])])
    model = predictor_class("sindy")(seed=seed, **params).fit(data, validation, progress=progress)
    return model.calibrate(validation, CALIBRATION_HORIZONS_S)


def train_lstm(
    train: Dataset,
    validation: Dataset,
    seed: int = 0,
    finetune: Dataset | None = None,
    progress: bool = True,
    n_iter: int | None = None,
) -> CalibratedPredictor:
    """Train, optionally fine-tune, calibrate and return an ``LstmPredictor``."""
    from teleimp_env.agents.predictors.lstm.training import TrainConfig

    cfg = TrainConfig() if n_iter is None else TrainConfig(n_iter=n_iter)
    model = predictor_class("lstm")(train=cfg, seed=seed).fit(train, validation, progress=progress)
    if finetune is not None and len(finetune):
        model.finetune(finetune, validation, n_iter=max(cfg.n_iter // 4, 1), progress=progress)
    return model.calibrate(validation, CALIBRATION_HORIZONS_S)


def train_readout(kind: str, train: Dataset, validation: Dataset) -> CalibratedPredictor:
    """Fit a linear read-out variant (``readout``, ``readout-adapt``, ``readout-noemg``,
    ``readout-rawemg``) on ``train``, calibrate it on ``validation``. ``readout-adapt`` is the
    ``readout`` fit with online adaptation switched on; its spread and gate are calibrated
    without adaptation (conservative: adapting lowers the error)."""
    if kind not in PREDICTOR_PARAMS or not kind.startswith("readout"):
        raise ValueError(f"kind must be a readout variant, got {kind!r}")
    params = dict(PREDICTOR_PARAMS[kind])
    adapt = bool(params.pop("adapt", False))
    model = predictor_class(kind)(**params).fit(train).calibrate(validation, CALIBRATION_HORIZONS_S)
    model.adapt = adapt  # the adaptive twin keeps the pre-trained read-out's spread and gate
    return model


def train_kinematic(kind: str, train: Dataset, validation: Dataset) -> CalibratedPredictor:
    """Fit a kinematic baseline (``cv`` or ``kf``) on ``train``, calibrate it on ``validation``."""
    if kind not in ("cv", "kf"):
        raise ValueError(f"kind must be 'cv' or 'kf', got {kind!r}")
    return predictor_class(kind)().fit(train).calibrate(validation, CALIBRATION_HORIZONS_S)


def run_train(args: argparse.Namespace) -> int:
    """CLI entry for parsed ``args``: run :func:`train_from_args`, print its summary; returns 0,
    or 2 with a one-line error on bad input."""
    import sys

    try:
        train_from_args(args)
    except (ValueError, OSError) as err:
        print(f"teleimp train: error: {err}", file=sys.stderr)
        return 2
    return 0


def output_path(out: Path | None, kind: str, suffix: str = ".npz") -> Path:
    """Where ``teleimp train`` writes: ``out``, or the shipped checkpoint of ``kind``.

    The shipped checkpoint is replaced only in a source checkout (a ``pyproject.toml`` beside
    ``assets/``): an installed package's data is not a place to write, so there ``--out`` is required.
    """
    if out is not None:
        return Path(out)
    path = default_checkpoint(kind).with_suffix(suffix)
    if not (checkpoint_dir().parent.parent / "pyproject.toml").is_file():
        raise ValueError(
            f"--out is required: without it the shipped checkpoint inside the installed package "
            f"({path}) would be replaced"
        )
    return path


def train_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Run the pipeline for parsed ``args``; returns a summary (also printed as JSON).

    Runs on ``args.threads`` torch and BLAS threads (restored afterwards): floating-point sums
    depend on the thread count, so a fixed count is part of what makes a seed reproduce a
    checkpoint bit for bit.
    """
    import torch
    from threadpoolctl import threadpool_limits

    if not isinstance(args.threads, int) or args.threads < 1:
        raise ValueError(f"threads must be an int >= 1, got {args.threads!r}")
    if args.model == "ppo-residual":
        return _run_ppo(args)
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        with threadpool_limits(limits=args.threads):
            return _run(args)
    finally:
        torch.set_num_threads(previous)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    out = output_path(args.out, args.model)  # before any work: a bad --out fails at once
    train, val, finetune = _datasets(args)
    progress = not args.no_progress
    if args.model == "sindy":
        params = {"optimizer": args.optimizer}
        if args.thresholds is not None:
            params["thresholds"] = tuple(args.thresholds)
        model = train_sindy(train, val, args.seed, finetune, progress, **params)
    elif args.model == "lstm":
        model = train_lstm(train, val, args.seed, finetune, progress, n_iter=args.iters)
    elif args.model.startswith("readout"):
        model = train_readout(args.model, Dataset([*train, *(finetune or [])]), val)
    else:
        model = train_kinematic(args.model, Dataset([*train, *(finetune or [])]), val)
    fitted = [*train, *(finetune or [])]
    model.set_lineage(
        Lineage(
            fit_subjects=tuple(sorted({e.subject for e in fitted})),
            fit_seeds=tuple(e.seed for e in fitted),
            selection_subjects=tuple(sorted({e.subject for e in val})),
            selection_seeds=tuple(e.seed for e in val),
            generator=args.generator,
            operator=args.operator,
            seed=args.seed,
            notes={"loso": args.loso, "episodes": len(fitted)},
        )
    )
    path = model.save(out)
    summary = {
        "checkpoint": str(path),
        "gate": model.gate_,
        "std_scale": model.std_scale_,
        "validation": {f"{h:g}s": evaluate(model, val, h).as_dict() for h in CALIBRATION_HORIZONS_S},
    }
    printed = dict(summary)
    if args.model == "sindy":
        summary["equations"] = model.equations(echo=False)
        printed["terms_per_component"] = summary["equations"].splitlines()[-1]
    print(json.dumps(printed, indent=2, default=float))
    return summary


def _run_ppo(args: argparse.Namespace) -> dict[str, Any]:
    """``teleimp train ppo-residual``: the RL recipe of :mod:`teleimp_env.agents.rl.train`."""
    import torch

    from teleimp_env.agents.rl.train import DEFAULT_DELAY_MS, DEFAULT_TIMESTEPS, train_ppo_residual

    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        summary = train_ppo_residual(
            subjects=tuple(args.subjects), val_subjects=tuple(args.val_subjects),
            delay_ms=args.delays[0] if args.delays else DEFAULT_DELAY_MS,
            timesteps=args.timesteps or DEFAULT_TIMESTEPS, seed=args.seed,
            out=output_path(args.out, "ppo-residual", ".zip"),
            progress=not args.no_progress,
        )  # fmt: skip
    finally:
        torch.set_num_threads(previous)
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=2, default=float))
    return summary


def main_train(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m teleimp_env.agents.training.pipeline sindy|lstm [options]``."""
    parser = add_train_arguments(
        argparse.ArgumentParser(prog="teleimp train", description=__doc__.split("\n")[0])
    )
    return run_train(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main_train())
