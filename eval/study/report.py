"""Writes a :class:`~teleimp_env.eval.study.result.StudyResult`: Markdown, CSV and an error-vs-horizon plot.

Files under the output directory:

* ``study.md`` — the splits and which subjects every row was fitted / selected / scored on; per
  generator a table (position error mm and stiffness error N/m per horizon, mean [95 % CI] over
  test episodes), the check "does every family beat the naive hold at the shortest horizon" with
  the reason when it does not; SINDy against the hold, its term counts and thresholds per
  component and its equations; per-subject tables in LOSO mode. Deterministic for a seed (and
  the shipped checkpoints).
* ``results.csv`` — one row per (generator, fold, subject, family, horizon); deterministic.
* ``models.csv`` — parameter counts and fit / selection / test subjects per row; deterministic.
* ``sindy_terms.csv`` — term counts and thresholds per component; ``sindy_equations.txt`` —
  ``SindyPredictor.equations()`` per generator; deterministic.
* ``timings.csv`` / ``timings.md`` — training and prediction wall time (not reproducible).
* ``modality_ablation.json`` — only when ``--modalities`` includes ``noemg`` and another modality:
  the section "Does sEMG help? (paired by person)" of ``study.md`` as data
  (:mod:`~teleimp_env.eval.study.ablation`); deterministic.
* ``error_vs_horizon.png`` — error vs horizon per family, one column per generator.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from teleimp_env.eval.study.ablation import ABLATION_TITLE, ablation_json, ablation_section, comparisons_of
from teleimp_env.eval.study.plot import error_plot
from teleimp_env.eval.study.result import StudyResult
from teleimp_env.eval.study.sindy_report import beats_hold_line, equations_text, sindy_csv, sindy_section
from teleimp_env.eval.study.stats import FamilyResult
from teleimp_env.eval.study.tables import csv_text, md_table, ms, num, subjects
from teleimp_env.provenance import describe


def _subject(r: FamilyResult) -> str | int:
    return "" if r.subject is None else r.subject


def results_csv(result: StudyResult) -> str:
    """``results.csv`` text (see the module docstring)."""
    header = [
        "generator",
        "fold",
        "subject",
        "family",
        "horizon_ms",
        "pos_err_mm",
        "pos_ci_lo",
        "pos_ci_hi",
        "stiff_err_nm",
        "stiff_ci_lo",
        "stiff_ci_hi",
        "n_episodes",
        "pos_err_train_mm",
        "stiff_err_train_nm",
        "available",
        "note",
    ]
    rows = []
    for r in result.rows:
        for k, h in enumerate(r.horizons_ms):
            p, s = r.pos[k], r.stiff[k]
            rows.append(
                [
                    r.generator,
                    r.fold,
                    _subject(r),
                    r.family,
                    ms(h),
                    num(p.mean),
                    num(p.lo),
                    num(p.hi),
                    num(s.mean),
                    num(s.lo),
                    num(s.hi),
                    p.n,
                    num(r.pos_train[k]),
                    num(r.stiff_train[k]),
                    int(r.available),
                    r.note,
                ]
            )
    return csv_text(header, rows)


def models_csv(result: StudyResult) -> str:
    """``models.csv``: parameter count and the subjects each row was fitted, selected and scored on."""
    header = ["generator", "fold", "subject", "family", "n_params", "available"]
    header += ["fit_subjects", "selection_subjects", "test_subjects"]
    return csv_text(
        header,
        (
            [
                r.generator,
                r.fold,
                _subject(r),
                r.family,
                r.n_params,
                int(r.available),
                subjects(r.fit_subjects),
                subjects(r.selection_subjects),
                subjects(r.test_subjects),
            ]
            for r in result.rows
        ),
    )


def timings_csv(result: StudyResult) -> str:
    """``timings.csv``: wall times, s."""
    return csv_text(
        ["generator", "fold", "subject", "family", "train_s", "predict_s"],
        (
            [r.generator, r.fold, _subject(r), r.family, f"{r.train_s:.3f}", f"{r.predict_s:.3f}"]
            for r in result.rows
        ),
    )


def _rows(result: StudyResult, generator: str, fold: str = "test") -> list[FamilyResult]:
    return [r for r in result.rows if r.generator == generator and r.fold == fold]


def generator_table(rows: list[FamilyResult]) -> str:
    """Markdown table: one row per family, position then stiffness error per horizon."""
    hs = rows[0].horizons_ms
    header = ["family", *(f"pos mm @{ms(h)} ms" for h in hs), *(f"K N/m @{ms(h)} ms" for h in hs), "params"]
    body = []
    for r in rows:
        if not r.available:
            body.append([r.family, *(["n/a"] * (2 * len(hs))), r.note])
            continue
        body.append([r.family, *(p.fmt(2) for p in r.pos), *(s.fmt(0) for s in r.stiff), str(r.n_params)])
    return md_table(header, body)


def _verdict(r: FamilyResult, naive: FamilyResult, k: int, metric: str) -> str | None:
    """Why ``r`` does not beat the hold on ``metric`` at horizon index ``k`` (None if it does)."""
    test, ntest = (r.pos, naive.pos) if metric == "pos" else (r.stiff, naive.stiff)
    train, ntrain = (r.pos_train, naive.pos_train) if metric == "pos" else (r.stiff_train, naive.stiff_train)
    if test[k].mean < ntest[k].mean:
        return None
    unit = "mm" if metric == "pos" else "N/m"
    what = "position" if metric == "pos" else "stiffness"
    msg = f"{what}: {test[k].mean:.3g} vs hold {ntest[k].mean:.3g} {unit}"
    if math.isnan(train[k]):
        return f"{msg} — {r.note or 'no training-split evaluation'}"
    if train[k] >= ntrain[k]:
        return (
            f"{msg} — no better than the hold on its own training subjects either ({train[k]:.3g} vs "
            f"{ntrain[k]:.3g} {unit}): the family cannot represent a better predictor with this input "
            "and budget"
        )
    return (
        f"{msg} — beats the hold on its training subjects ({train[k]:.3g} vs {ntrain[k]:.3g} {unit}) "
        "but does not transfer to the held-out subjects"
    )


def holds_stiffness(r: FamilyResult, naive: FamilyResult) -> bool:
    """True if ``r``'s stiffness errors equal the hold's exactly at every horizon, on the test
    split and on the training split where ``r`` was evaluated there: the family passes the
    stiffness estimate on unchanged."""
    same_test = all(a.mean == b.mean for a, b in zip(r.stiff, naive.stiff, strict=True))
    same_train = all(math.isnan(a) or a == b for a, b in zip(r.stiff_train, naive.stiff_train, strict=True))
    return same_test and same_train


def beats_naive_section(result: StudyResult, generator: str) -> str:
    """Markdown: which families beat the naive hold at the shortest horizon, and why not."""
    rows = _rows(result, generator)
    naive = next((r for r in rows if r.family == "naive"), None)
    if naive is None or not rows:
        return "_(naive hold not run: no comparison)_"
    k = int(np.argmin(rows[0].horizons_ms))
    lines = []
    for r in rows:
        if r.family == "naive":
            continue
        if not r.available:
            lines.append(f"- **{r.family}**: not available ({r.note})")
            continue
        if holds_stiffness(r, naive):  # cv, kf: position models that pass the stiffness estimate on
            why = _verdict(r, naive, k, "pos")
            verdict = "beats the hold on position" if why is None else f"does NOT beat the hold on {why}"
            lines.append(f"- **{r.family}**: {verdict}; holds the stiffness estimate by design")
            continue
        why = [v for v in (_verdict(r, naive, k, "pos"), _verdict(r, naive, k, "stiff")) if v]
        lines.append(
            f"- **{r.family}**: "
            + (
                "beats the hold on position and stiffness"
                if not why
                else "does NOT beat the hold on " + "; ".join(why)
            )
        )
    h = ms(rows[0].horizons_ms[k])
    return f"At {h} ms on `{generator}` (mean over test episodes):\n\n" + "\n".join(lines)


def splits_section(result: StudyResult) -> str:
    """Markdown: the subject pools, and per family the subjects it was fitted, selected and scored on
    (checked by the run: no row was fitted or selected on a subject it is scored on)."""
    c = result.config
    seen: dict[str, FamilyResult] = {}
    for r in result.rows:
        seen.setdefault(r.family, r)
    body = [
        [f, subjects(r.fit_subjects), subjects(r.selection_subjects), subjects(r.test_subjects)]
        for f, r in seen.items()
        if r.available
    ]
    pools = (
        f"Subjects: train {subjects(c.train_subjects)} (fitting), validation {subjects(c.val_subjects)} "
        f"(model selection only), test {subjects(c.test_subjects)} (scoring only)"
        + ("; leave-one-subject-out over train ∪ test." if c.loso else ".")
    )
    note = "Per family (first generator and fold; shipped rows: the checkpoint's recorded lineage):"
    return f"{pools}\n\n{note}\n\n" + md_table(["family", "fitted on", "selected on", "scored on"], body)


def loso_section(result: StudyResult, generator: str) -> str:
    """Markdown: per-subject errors (mean over the held-out subject's episodes) per horizon."""
    rows = [r for r in result.rows if r.generator == generator and r.fold == "loso"]
    held = sorted({r.subject for r in rows})
    families = list(dict.fromkeys(r.family for r in rows))
    out = []
    for k, h in enumerate(result.config.horizons_ms):
        for metric, unit, digits in (("pos", "mm", 2), ("stiff", "N/m", 0)):
            body = []
            for fam in families:
                cells = []
                for s in held:
                    r = next(x for x in rows if x.family == fam and x.subject == s)
                    if not r.available or s not in r.per_subject:
                        cells.append("n/a")
                        continue
                    v = r.per_subject[s][0 if metric == "pos" else 1][k]
                    cells.append(f"{v:.{digits}f}")
                body.append([fam, *cells])
            name = "position" if metric == "pos" else "stiffness"
            title = f"**{name} error ({unit}) at {ms(h)} ms, per held-out subject**"
            out.append(title + "\n\n" + md_table(["family", *(f"subject {s}" for s in held)], body))
    return "\n\n".join(out)


def markdown_summary(result: StudyResult) -> str:
    """What the CLI prints: the per-generator tables, SINDy against the hold, SINDy's term counts."""
    parts = []
    for g in result.config.generators:
        if result.config.loso:
            parts.append(f"## `{g}` (leave one subject out)\n\n" + loso_section(result, g))
        else:
            parts.append(f"## `{g}` (errors on test subjects only)\n\n" + generator_table(_rows(result, g)))
    ablation = ablation_section(result)
    if ablation:
        parts.append(f"## {ABLATION_TITLE}\n\n" + ablation)
    if result.sindy:
        parts.append("## SINDy\n\n" + sindy_section(result))
    return "\n\n".join(parts)


def study_markdown(result: StudyResult) -> str:
    """``study.md`` text (deterministic for a given configuration and shipped checkpoints)."""
    c = result.config
    head = [
        "# Design-space study: predictor families × horizons × generators",
        "",
        f"Operator: `{c.operator}` (env used `{result.operator_kind}`); "
        f"{c.episodes_per_subject} episode(s) of ≤ {c.episode_s:g} s per subject; seed {c.seed}.",
        "Agents' rows (`naive`, `cv`, `kf`, `sindy`, `lstm`, `readout`) are the predictor classes the "
        "stacks run (`readout`: `LinearReadout` on the envelopes as the modality leaves them), "
        f"retrained here (LSTM: {c.lstm_iters} steps, {c.lstm_samples} MC-Dropout streams) and "
        "evaluated through their offline path; `shipped-*` rows are the shipped checkpoints as they are.",
        f"Window models: {c.window} frames every {c.frame_ms:g} ms; every PyTorch window model trains "
        f"{c.epochs} epochs (batch {c.batch_size}, Adam lr {c.lr:g}, hidden {c.hidden}).",
        "Errors: position = distance between predicted and true hand position (mm); stiffness = norm of the "
        "error of the 3 axis stiffnesses (N/m); mean [Student-t 95 % CI] over test episodes. `naive` holds "
        "the newest packet (hand position, stiffness estimate).",
        f"`params` = learned scalars (SINDy: nonzero terms of the full-data member; ESN: the readout, its "
        f"{c.esn_units}-unit reservoir is fixed and random; cv/kf: spread and filter parameters).",
    ]
    if c.modalities != ("emg",):
        head.append(
            f"Envelope inputs (`--modalities {','.join(c.modalities)}`): every family that learns from "
            "the envelopes is fitted once per modality with the same seed; no suffix = as sent, "
            "`·noemg` = envelope columns zeroed, `·norm` = per-person running normalisation "
            "(population statistics of the training subjects; label-free)."
        )
    if result.operator_kind == "ScriptedOperator":
        head.append(
            "\n**Warning:** the scripted operator ignores the generator preset; generator "
            "differences in this run are not real."
        )
    parts = ["\n".join(head), "## Splits\n\n" + splits_section(result)]
    for g in c.generators:
        counts = [v for (gen, _f, _s), v in result.samples.items() if gen == g]
        n_tr, n_va, n_te = counts[0] if counts else (0, 0, 0)
        if c.loso:
            parts.append(f"## `{g}` (leave one subject out)\n\n" + loso_section(result, g))
        else:
            parts.append(
                f"## `{g}` ({n_tr} training / {n_va} validation / {n_te} test samples)\n\n"
                + generator_table(_rows(result, g))
                + "\n\n"
                + beats_naive_section(result, g)
            )
    ablation = ablation_section(result)
    if ablation:
        parts.append(f"## {ABLATION_TITLE}\n\n" + ablation)
    parts.append("## SINDy (the agents' `SindyPredictor`)\n\n" + sindy_section(result))
    if result.sindy:
        parts.append(
            "### Equations (`SindyPredictor.equations()`)\n\n```text\n" + equations_text(result) + "```"
        )
    parts.append(
        "Training and prediction times: `timings.md` (wall time, not reproducible). "
        "Plot: `error_vs_horizon.png`."
    )
    return "\n\n".join(parts) + "\n"


def timings_markdown(result: StudyResult) -> str:
    """``timings.md``: training / prediction wall time and parameter count per model."""
    body = [
        [
            r.generator,
            r.fold if r.subject is None else f"{r.fold} {r.subject}",
            r.family,
            str(r.n_params),
            f"{r.train_s:.2f}",
            f"{r.predict_s:.2f}",
        ]
        for r in result.rows
    ]
    table = md_table(["generator", "fold", "family", "params", "train s", "predict s"], body)
    return f"# Study timings\n\nWhole run: {result.runtime_s:.0f} s.\n\n{table}\n"


def write_outputs(result: StudyResult, out_dir: str | Path) -> list[Path]:
    """Write every output file under ``out_dir`` (created); returns the paths written.

    ``provenance.txt`` records the software and BLAS that produced them
    (:func:`teleimp_env.provenance.describe`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "study.md": study_markdown(result),
        "results.csv": results_csv(result),
        "models.csv": models_csv(result),
        "sindy_terms.csv": sindy_csv(result),
        "timings.csv": timings_csv(result),
        "timings.md": timings_markdown(result),
        "provenance.txt": describe() + "\n",
    }
    if result.sindy:
        texts["sindy_equations.txt"] = equations_text(result)
    comparisons = comparisons_of(result)
    if comparisons:
        texts["modality_ablation.json"] = (
            json.dumps(ablation_json(result, comparisons), indent=2, ensure_ascii=False) + "\n"
        )
    paths = []
    for name, text in texts.items():
        p = out / name
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    png = error_plot(result, out / "error_vs_horizon.png")  # None without matplotlib
    if png is not None:
        paths.append(png)
    return paths


__all__ = ["beats_hold_line", "markdown_summary", "study_markdown", "write_outputs"]
