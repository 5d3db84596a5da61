"""Design-space study (``teleimp study``): predictor families × horizons × generators × subjects.

Which predictor family earns its place at which horizon, and does that survive a realistic sEMG? For every
generator preset (``linear``, ``hard``, ``physiological``) the study records operator episodes at packet
rate (:mod:`teleimp_env.eval.study.data`), fits every family (:mod:`teleimp_env.eval.study.models`) on the
training subjects and scores it on the held-out subjects at every horizon: position error (mm) and
stiffness error (N/m), mean and 95 % CI over test episodes (:mod:`teleimp_env.eval.study.stats`). With
``loso`` every subject of train ∪ test is held out once and per-subject errors are reported.

Reproducibility: :attr:`StudyConfig.seed` is the only seed. Recording uses
``SeedSequence([seed, subject, episode])`` (the same episodes under every generator); each fitted
model draws from ``SeedSequence([seed, generator index, fold, family index])`` where the indices
are positions in the canonical lists, so a subset run reproduces its part of a full run. The same
seed gives the same tables bit for bit (wall times are kept apart, in ``timings.*``).

Library use::

    from teleimp_env.eval.study.run import StudyConfig, run
    from teleimp_env.eval.study.report import write_outputs
    result = run(StudyConfig.quick(generators=("linear",)))
    write_outputs(result, "out/study")

Command line: :func:`add_study_arguments` and :func:`run_study` (wired into ``teleimp study``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from teleimp_env.eval.study.base import FamilyUnavailable, StudyModel
from teleimp_env.eval.study.config import (
    GENERATORS,
    PACKET_MS,
    StudyConfig,
    parse_names,
    parse_numbers,
    parse_subjects,
)
from teleimp_env.eval.study.data import Layout, StudyData, prepare, record
from teleimp_env.eval.study.models import FAMILIES, ESNParams, make_model
from teleimp_env.eval.study.result import SindyReport, StudyResult
from teleimp_env.eval.study.sequence import TrainBudget
from teleimp_env.eval.study.sindy import SindyParams
from teleimp_env.eval.study.stats import FamilyResult, summarise, unavailable

__all__ = ["FAMILIES", "GENERATORS", "StudyConfig", "StudyResult", "add_study_arguments", "run", "run_study"]


def layout_for(config: StudyConfig) -> Layout:
    """The sample layout of ``config`` (packet period 2 ms)."""
    dt = PACKET_MS / 1000.0
    return Layout(
        step=round(config.frame_ms / PACKET_MS),
        window=config.window,
        horizon_steps=tuple(round(h / PACKET_MS) for h in config.horizons_ms),
        dt=dt,
    )


def _folds(
    config: StudyConfig, subjects_of: np.ndarray
) -> list[tuple[str, int | None, np.ndarray, np.ndarray]]:
    """(fold name, held-out subject, train episode mask, test episode mask) per fold."""
    if not config.loso:
        train = np.isin(subjects_of, config.train_subjects)
        test = np.isin(subjects_of, config.test_subjects)
        return [("test", None, train, test)]
    pool = sorted(set(config.train_subjects) | set(config.test_subjects))
    if len(pool) < 2:
        raise ValueError(
            "--loso needs at least two subjects in --train-subjects and --test-subjects together"
        )
    return [("loso", s, subjects_of != s, subjects_of == s) for s in pool]


def _operator_kind(config: StudyConfig) -> str:
    import gymnasium as gym

    import teleimp_env

    env = gym.make(
        teleimp_env.ENV_ID, operator=config.operator, generator=config.generators[0], episode_s=1.0
    )
    name = type(env.unwrapped.operator).__name__
    env.close()
    return name


def _fit_one(
    model: StudyModel, data: StudyData, seed: np.random.SeedSequence, base: FamilyResult
) -> tuple[FamilyResult, StudyModel | None]:
    """Fit, predict and score one family. A family that cannot run (missing extra or checkpoint)
    or that fails gets a row saying so (and a warning on stderr); the study goes on."""
    where = (base.generator, base.fold, base.subject, base.family, base.horizons_ms)
    try:
        t0 = time.perf_counter()
        model.fit(data, seed)
        base.train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred_test = model.predict(data, data.test)
        base.predict_s = time.perf_counter() - t0
        pred_train = model.predict(data, data.train) if model.evaluates_train else None
    except (FamilyUnavailable, ImportError) as exc:
        return unavailable(*where, str(exc)), None
    except Exception as exc:  # one broken family must not lose a long study
        print(
            f"teleimp study: warning: family {base.family!r} failed on {base.generator}: {exc!r}",
            file=sys.stderr,
        )
        return unavailable(*where, f"failed: {type(exc).__name__}: {exc}"), None
    tr, te = data.train.samples, data.test.samples
    subjects = np.asarray([ep.subject for ep in data.test.episodes])
    summarise(base, pred_test, te.target, te.episode, subjects, pred_train, tr.target, tr.episode)
    base.n_params = model.n_params()
    base.note = getattr(model, "note", "")
    return base, model


def run(config: StudyConfig) -> StudyResult:
    """Run the study described by ``config`` and return its measurements (nothing is written)."""
    import torch

    t_start = time.perf_counter()
    result = StudyResult(config=config, operator_kind=_operator_kind(config))
    layout = layout_for(config)
    budget = TrainBudget(
        epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, hidden=config.hidden
    )
    esn = ESNParams(units=config.esn_units)
    subjects = sorted(set(config.train_subjects) | set(config.test_subjects))
    old_threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        for generator in config.generators:
            g_idx = GENERATORS.index(generator)
            dataset = record(
                generator,
                subjects,
                config.episodes_per_subject,
                config.episode_s,
                config.seed,
                config.operator,
                config.progress,
            )
            episodes = dataset.episodes
            subjects_of = np.asarray([ep.subject for ep in episodes])
            for fold, held_out, train_mask, test_mask in _folds(config, subjects_of):
                data = prepare(
                    [e for e, m in zip(episodes, train_mask, strict=True) if m],
                    [e for e, m in zip(episodes, test_mask, strict=True) if m],
                    layout,
                )
                result.samples[(generator, fold, held_out)] = (
                    len(data.train.samples),
                    len(data.test.samples),
                )
                fold_code = 0 if held_out is None else held_out + 1
                desc = f"{generator}" + ("" if held_out is None else f" (held out: subject {held_out})")
                bar = tqdm(config.families, desc=desc, unit="family", disable=not config.progress)
                for family in bar:
                    bar.set_postfix_str(family)
                    seed = np.random.SeedSequence([config.seed, g_idx, fold_code, FAMILIES.index(family)])
                    model = make_model(family, budget, esn=esn, sindy=SindyParams())
                    row = FamilyResult(generator, fold, held_out, family, config.horizons_ms)
                    row, fitted = _fit_one(model, data, seed, row)
                    result.rows.append(row)
                    if family == "sindy" and fitted is not None:
                        dyn = fitted.dyn_
                        result.sindy.append(
                            SindyReport(generator, fold, held_out, dyn.term_counts(), dyn.equations())
                        )
    finally:
        if config.threads is not None:
            torch.set_num_threads(old_threads)
    result.runtime_s = time.perf_counter() - t_start
    return result


# ---------------------------------------------------------------------------------- command line
def add_study_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``teleimp study`` flags to ``parser`` (values are validated by :func:`config_from_args`)."""
    d = StudyConfig()
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI preset: 1 episode of <= 8 s per subject, 15 epochs, small networks (a few minutes)",
    )
    parser.add_argument("--out", default="out/study", help="output directory (default: out/study)")
    parser.add_argument("--seed", type=int, default=d.seed, help="the one seed of the study (default: 0)")
    parser.add_argument("--horizons-ms", default="50,100,200", help="horizons, ms (default: 50,100,200)")
    parser.add_argument(
        "--generators",
        default=",".join(d.generators),
        help=f"generator presets, from {', '.join(GENERATORS)} (default: all)",
    )
    parser.add_argument("--train-subjects", default="0-5", help="training subject ids (default: 0-5)")
    parser.add_argument("--test-subjects", default="6,7", help="held-out subject ids (default: 6,7)")
    parser.add_argument(
        "--loso",
        action="store_true",
        help="leave-one-subject-out over train+test subjects; per-subject errors",
    )
    parser.add_argument(
        "--families", default="all", help=f"families, from {', '.join(FAMILIES)} (default: all)"
    )
    parser.add_argument(
        "--episodes", type=int, default=None, help="episodes per subject (default: 4; quick: 1)"
    )
    parser.add_argument(
        "--episode-s", type=float, default=None, help="episode length, s (default: 12; quick: 8)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs of every PyTorch model (default: 20; quick: 15)"
    )
    parser.add_argument(
        "--operator", default=d.operator, help="operator: physiological (default) or scripted"
    )
    parser.add_argument(
        "--threads", type=int, default=d.threads, help="torch threads while the study runs (default: 1)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    """Build a :class:`StudyConfig` from parsed flags (``ValueError`` names a bad flag)."""
    kwargs = dict(
        seed=args.seed,
        horizons_ms=parse_numbers("--horizons-ms", args.horizons_ms),
        generators=parse_names("--generators", args.generators, GENERATORS),
        train_subjects=parse_subjects("--train-subjects", args.train_subjects),
        test_subjects=parse_subjects("--test-subjects", args.test_subjects),
        loso=bool(args.loso),
        families=parse_names("--families", args.families, FAMILIES),
        operator=args.operator,
        threads=args.threads,
        progress=not args.no_progress,
    )
    for name, flag in (
        ("episodes_per_subject", "episodes"),
        ("episode_s", "episode_s"),
        ("epochs", "epochs"),
    ):
        value = getattr(args, flag)
        if value is not None:
            kwargs[name] = value
    return StudyConfig.quick(**kwargs) if args.quick else StudyConfig(**kwargs)


def run_study(args: argparse.Namespace) -> int:
    """``teleimp study``: run, write Markdown + CSV + plot under ``--out``, print a summary; exit code."""
    from teleimp_env.eval.study.report import markdown_summary, write_outputs

    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"teleimp study: error: {exc}", file=sys.stderr)
        return 2
    result = run(config)
    paths = write_outputs(result, Path(args.out))
    with contextlib.suppress(BrokenPipeError):
        print(markdown_summary(result))
        print(f"\nwrote {', '.join(str(p) for p in paths)} (study took {result.runtime_s:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m teleimp_env.eval.study.run`` entry point (same flags as ``teleimp study``)."""
    parser = add_study_arguments(
        argparse.ArgumentParser(prog="teleimp study", description=__doc__.split("\n")[0])
    )
    return run_study(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
