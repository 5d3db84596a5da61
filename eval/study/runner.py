"""Runs the design-space study: record, split by subject, fit every family, score on the test subjects.

For every generator preset the study records operator episodes of the train, validation and test
subjects (:func:`~teleimp_env.eval.study.data.record`), cuts them into samples
(:func:`~teleimp_env.eval.study.data.prepare`), fits every family
(:func:`~teleimp_env.eval.study.models.make_model`) on the training subjects — model selection on
the validation subjects only — and scores it on the test subjects at every horizon
(:func:`~teleimp_env.eval.study.stats.summarise`). Before a row is kept, the subjects its model was
fitted and selected on are checked against the subjects it is scored on; an overlap is a bug and
raises. With ``loso`` every subject of train ∪ test is held out once (validation stays on the
validation subjects).

Modalities (``config.modalities``): the families that learn from the envelopes
(:data:`~teleimp_env.eval.study.families.ENVELOPE_FAMILIES`) are fitted and scored once per
modality, on the fold's episodes with rewritten envelope columns
(:class:`~teleimp_env.agents.data.envelope_inputs.EnvelopeInputs`; ``norm``'s population
statistics from the fold's training episodes only), then cut and standardised as usual; the
other families run once on the packets as sent. Rows are named by
:func:`~teleimp_env.eval.study.families.row_name` (``lstm``, ``lstm·noemg``, ``lstm·norm``).

Reproducibility: :attr:`StudyConfig.seed` is the only seed. Recording uses
``SeedSequence([seed, subject, episode])`` (the same episodes under every generator); each fitted
model draws from ``SeedSequence([seed, generator index, fold, family index])`` where the indices
are positions in the canonical lists (:func:`~teleimp_env.eval.study.families.seed_index`), so a
subset run reproduces its part of a full run; a family's modalities share its seed, so twins
differ in their envelope inputs only. Torch and
BLAS run on ``config.threads`` threads and torch's deterministic-algorithms flag is restored
afterwards. The same seed gives the same tables bit for bit (wall times are kept apart).

Library use::

    from teleimp_env.eval.study.run import StudyConfig, run
    from teleimp_env.eval.study.report import write_outputs
    result = run(StudyConfig.quick(generators=("linear",)))
    write_outputs(result, "out/study")

Command line: :mod:`teleimp_env.eval.study.run` (``teleimp study``).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

import numpy as np
from tqdm import tqdm

from teleimp_env.agents.data.envelope_inputs import MODALITIES, EnvelopeInputs
from teleimp_env.eval.study.ablation import modality_comparisons
from teleimp_env.eval.study.base import FamilyUnavailable, StudyModel
from teleimp_env.eval.study.config import GENERATORS, PACKET_MS, StudyConfig
from teleimp_env.eval.study.data import Layout, StudyData, prepare, record
from teleimp_env.eval.study.esn import ESNParams
from teleimp_env.eval.study.families import reads_envelopes, row_name, seed_index
from teleimp_env.eval.study.models import Budgets, make_model
from teleimp_env.eval.study.result import StudyResult
from teleimp_env.eval.study.sequence import TrainBudget
from teleimp_env.eval.study.sindy_report import sindy_report
from teleimp_env.eval.study.stats import FamilyResult, summarise, unavailable

__all__ = [
    "LeakError",
    "StudyConfig",
    "StudyResult",
    "check_held_out",
    "fit_one",
    "folds",
    "modalities_run",
    "row_jobs",
    "run",
]


class LeakError(RuntimeError):
    """A model was fitted or selected on a subject it is scored on (a bug of the study)."""


def layout_for(config: StudyConfig) -> Layout:
    """The sample layout of ``config`` (packet period 2 ms)."""
    return Layout(
        step=round(config.frame_ms / PACKET_MS),
        window=config.window,
        horizon_steps=tuple(round(h / PACKET_MS) for h in config.horizons_ms),
        dt=PACKET_MS / 1000.0,
    )


def budgets_for(config: StudyConfig) -> Budgets:
    """What the families learn with under ``config``."""
    return Budgets(
        window=TrainBudget(
            epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, hidden=config.hidden
        ),
        esn=ESNParams(units=config.esn_units),
        lstm_iters=config.lstm_iters,
        lstm_samples=config.lstm_samples,
        progress=config.progress,
    )


def folds(
    config: StudyConfig, subjects_of: np.ndarray
) -> list[tuple[str, int | None, np.ndarray, np.ndarray, np.ndarray]]:
    """(fold name, held-out subject, train, validation, test episode masks) per fold."""
    val = np.isin(subjects_of, config.val_subjects)
    if not config.loso:
        train = np.isin(subjects_of, config.train_subjects)
        test = np.isin(subjects_of, config.test_subjects)
        return [("test", None, train, val, test)]
    pool = sorted(set(config.train_subjects) | set(config.test_subjects))
    if len(pool) < 2:
        raise ValueError(
            "--loso needs at least two subjects in --train-subjects and --test-subjects together"
        )
    in_pool = np.isin(subjects_of, pool)
    return [("loso", s, in_pool & (subjects_of != s), val, subjects_of == s) for s in pool]


def _operator_kind(config: StudyConfig) -> str:
    import gymnasium as gym

    import teleimp_env

    env = gym.make(
        teleimp_env.ENV_ID, operator=config.operator, generator=config.generators[0], episode_s=1.0
    )
    name = type(env.unwrapped.operator).__name__
    env.close()
    return name


def check_held_out(model: StudyModel, data: StudyData) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The model's (fitted on, selected on) subjects; :class:`LeakError` if either meets the test split."""
    fitted, selected = model.seen_subjects(data)
    leak = sorted((set(fitted) | set(selected)) & set(data.test.subjects))
    if leak:
        raise LeakError(f"family {model.family!r} was fitted or selected on test subject(s) {leak}")
    return fitted, selected


def fit_one(
    model: StudyModel, data: StudyData, seed: np.random.SeedSequence, base: FamilyResult
) -> tuple[FamilyResult, StudyModel | None]:
    """Fit, check, predict and score one family. A family that cannot run (missing extra or
    checkpoint) or that fails gets a row saying so (and a warning on stderr); the study goes on.
    A leak of test subjects into fitting or selection raises :class:`LeakError`."""
    where = (base.generator, base.fold, base.subject, base.family, base.horizons_ms)
    modality = base.modality
    try:
        t0 = time.perf_counter()
        model.fit(data, seed)
        base.train_s = time.perf_counter() - t0
        base.fit_subjects, base.selection_subjects = check_held_out(model, data)
        t0 = time.perf_counter()
        pred_test = model.predict(data, data.test)
        base.predict_s = time.perf_counter() - t0
        pred_train = model.predict(data, data.train) if model.evaluates_train else None
    except LeakError:
        raise
    except (FamilyUnavailable, ImportError) as exc:
        return unavailable(*where, str(exc), modality), None
    except Exception as exc:  # one broken family must not lose a long study
        print(
            f"teleimp study: warning: family {base.family!r} failed on {base.generator}: {exc!r}",
            file=sys.stderr,
        )
        return unavailable(*where, f"failed: {type(exc).__name__}: {exc}", modality), None
    tr, te = data.train.samples, data.test.samples
    subjects = np.asarray([ep.subject for ep in data.test.episodes])
    summarise(base, pred_test, te.target, te.episode, subjects, pred_train, tr.target, tr.episode)
    base.test_subjects = data.test.subjects
    base.n_params = model.n_params()
    base.note = model.note
    return base, model


@contextlib.contextmanager
def numeric_threads(threads: int | None) -> Iterator[None]:
    """Torch intra-op and BLAS threads fixed to ``threads`` (None: untouched), and torch's
    deterministic-algorithms flag (the LSTM's training turns it on) restored on exit."""
    import torch
    from threadpoolctl import threadpool_limits

    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    limits = threadpool_limits(limits=threads) if threads is not None else contextlib.nullcontext()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        with limits:
            yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)


def row_jobs(config: StudyConfig) -> list[tuple[str, str]]:
    """``(family, modality)`` of every row of a fold, in table order: each family of
    ``config.families``, once per modality if it learns from the envelopes, else once as sent."""
    return [
        (family, modality)
        for family in config.families
        for modality in (config.modalities if reads_envelopes(family) else ("emg",))
    ]


def modalities_run(config: StudyConfig) -> tuple[str, ...]:
    """The modalities whose data a fold needs (canonical order)."""
    needed = {m for _, m in row_jobs(config)}
    return tuple(m for m in MODALITIES if m in needed)


def _modality_data(modality: str, train: list, val: list, test: list, layout: Layout) -> StudyData:
    """The fold's splits with ``modality``'s envelope inputs (``norm`` fitted on ``train``), prepared."""
    inputs = EnvelopeInputs(modality).fit(train)
    return prepare(inputs.episodes(train), inputs.episodes(val), inputs.episodes(test), layout)


def run(config: StudyConfig) -> StudyResult:
    """Run the study described by ``config`` and return its measurements (nothing is written)."""
    t_start = time.perf_counter()
    result = StudyResult(config=config, operator_kind=_operator_kind(config))
    layout = layout_for(config)
    budgets = budgets_for(config)
    subjects = sorted(set(config.train_subjects) | set(config.val_subjects) | set(config.test_subjects))
    with numeric_threads(config.threads):
        for generator in config.generators:
            g_idx = GENERATORS.index(generator)
            episodes = record(
                generator,
                subjects,
                config.episodes_per_subject,
                config.episode_s,
                config.seed,
                config.operator,
                config.progress,
            ).episodes
            subjects_of = np.asarray([ep.subject for ep in episodes])
            for fold, held_out, *masks in folds(config, subjects_of):
                train, val, test = ([e for e, m in zip(episodes, mask, strict=True) if m] for mask in masks)
                datas = {m: _modality_data(m, train, val, test, layout) for m in modalities_run(config)}
                first = next(iter(datas.values()))
                result.samples[(generator, fold, held_out)] = tuple(
                    len(s.samples) for s in (first.train, first.validation, first.test)
                )
                fold_code = 0 if held_out is None else held_out + 1
                desc = generator + ("" if held_out is None else f" (held out: subject {held_out})")
                jobs = row_jobs(config)
                bar = tqdm(jobs, desc=desc, unit="row", disable=not config.progress)
                for family, modality in bar:
                    name = row_name(family, modality)
                    bar.set_postfix_str(name)
                    seed = np.random.SeedSequence([config.seed, g_idx, fold_code, seed_index(family)])
                    row = FamilyResult(generator, fold, held_out, name, config.horizons_ms, modality=modality)
                    row, fitted = fit_one(make_model(family, budgets), datas[modality], seed, row)
                    result.rows.append(row)
                    if family == "sindy" and fitted is not None:
                        report = sindy_report(fitted.predictor_, generator, fold, held_out)
                        report.row = name
                        result.sindy.append(report)
    result.ablation = modality_comparisons(result)
    result.runtime_s = time.perf_counter() - t_start
    return result
