"""Writes a :class:`~teleimp_env.eval.study.run.StudyResult`: Markdown, CSV and an error-vs-horizon plot.

Files under the output directory:

* ``study.md`` — per generator a table (position error mm and stiffness error N/m per horizon,
  mean [95 % CI] over test episodes), the check "does every family beat the naive hold at the
  shortest horizon" with the reason when it does not, SINDy's term counts per state component,
  parameter counts; per-subject tables in LOSO mode. Deterministic for a seed.
* ``results.csv`` — one row per (generator, fold, subject, family, horizon); deterministic.
* ``models.csv`` — parameter counts; ``sindy_terms.csv`` — term counts; deterministic.
* ``sindy_equations.txt`` — the discovered equations per generator.
* ``timings.csv`` / ``timings.md`` — training and prediction wall time (not reproducible).
* ``error_vs_horizon.png`` — error vs horizon per family, one column per generator.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from teleimp_env.eval.study.plot import error_plot
from teleimp_env.eval.study.result import StudyResult
from teleimp_env.eval.study.sindy import STATE_NAMES
from teleimp_env.eval.study.stats import FamilyResult


def _num(v: float) -> str:
    """A float for CSV: 6 significant digits, '' for nan."""
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"


def _csv(header: list[str], rows: Iterable[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _h(ms: float) -> str:
    return f"{ms:g}"


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
                    "" if r.subject is None else r.subject,
                    r.family,
                    _h(h),
                    _num(p.mean),
                    _num(p.lo),
                    _num(p.hi),
                    _num(s.mean),
                    _num(s.lo),
                    _num(s.hi),
                    p.n,
                    _num(r.pos_train[k]),
                    _num(r.stiff_train[k]),
                    int(r.available),
                    r.note,
                ]
            )
    return _csv(header, rows)


def models_csv(result: StudyResult) -> str:
    """``models.csv``: parameter count per (generator, fold, subject, family)."""
    return _csv(
        ["generator", "fold", "subject", "family", "n_params", "available"],
        (
            [
                r.generator,
                r.fold,
                "" if r.subject is None else r.subject,
                r.family,
                r.n_params,
                int(r.available),
            ]
            for r in result.rows
        ),
    )


def sindy_csv(result: StudyResult) -> str:
    """``sindy_terms.csv``: nonzero terms per state component."""
    return _csv(
        ["generator", "fold", "subject", *STATE_NAMES, "total"],
        (
            [
                s.generator,
                s.fold,
                "" if s.subject is None else s.subject,
                *(s.terms[c] for c in STATE_NAMES),
                sum(s.terms.values()),
            ]
            for s in result.sindy
        ),
    )


def timings_csv(result: StudyResult) -> str:
    """``timings.csv``: wall times, s."""
    return _csv(
        ["generator", "fold", "subject", "family", "train_s", "predict_s"],
        (
            [
                r.generator,
                r.fold,
                "" if r.subject is None else r.subject,
                r.family,
                f"{r.train_s:.3f}",
                f"{r.predict_s:.3f}",
            ]
            for r in result.rows
        ),
    )


def _rows(result: StudyResult, generator: str, fold: str = "test") -> list[FamilyResult]:
    return [r for r in result.rows if r.generator == generator and r.fold == fold]


def generator_table(rows: list[FamilyResult]) -> str:
    """Markdown table: one row per family, position then stiffness error per horizon."""
    hs = rows[0].horizons_ms
    header = ["family", *(f"pos mm @{_h(h)} ms" for h in hs), *(f"K N/m @{_h(h)} ms" for h in hs), "params"]
    body = []
    for r in rows:
        if not r.available:
            body.append([r.family, *(["n/a"] * (2 * len(hs))), r.note])
            continue
        body.append([r.family, *(p.fmt(2) for p in r.pos), *(s.fmt(0) for s in r.stiff), str(r.n_params)])
    return _md_table(header, body)


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


def beats_naive_section(result: StudyResult, generator: str) -> str:
    """Markdown: which families beat the naive hold at the shortest horizon, and why not."""
    rows = _rows(result, generator)
    naive = next((r for r in rows if r.family == "naive"), None)
    if naive is None or not rows:
        return "_(naive hold not run: no comparison)_"
    k = int(np.argmin(rows[0].horizons_ms))
    h = _h(rows[0].horizons_ms[k])
    lines = []
    for r in rows:
        if r.family == "naive":
            continue
        if not r.available:
            lines.append(f"- **{r.family}**: not available ({r.note})")
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
    return f"At {h} ms on `{generator}` (mean over test episodes):\n\n" + "\n".join(lines)


def sindy_section(result: StudyResult) -> str:
    """Markdown: SINDy term counts per state component and generator (and held-out subject in
    LOSO mode), with SINDy's errors on the test episodes."""
    if not result.sindy:
        return "_(SINDy not run)_"
    loso = result.config.loso
    header = ["generator", *(["held out"] if loso else []), *(f"{c}'" for c in STATE_NAMES), "total"]
    header += ["pos mm", "K N/m"]
    body = []
    for s in result.sindy:
        key = (s.generator, s.fold, s.subject, "sindy")
        row = next(r for r in result.rows if (r.generator, r.fold, r.subject, r.family) == key)
        errs_p = " / ".join(f"{p.mean:.2f}" for p in row.pos)
        errs_k = " / ".join(f"{x.mean:.0f}" for x in row.stiff)
        held = [f"subject {s.subject}"] if loso else []
        counts = [str(s.terms[c]) for c in STATE_NAMES]
        body.append([s.generator, *held, *counts, str(sum(s.terms.values())), errs_p, errs_k])
    hs = " / ".join(_h(h) for h in result.config.horizons_ms)
    return _md_table(header, body) + f"\n\nErrors at {hs} ms. Equations: `sindy_equations.txt`."


def loso_section(result: StudyResult, generator: str) -> str:
    """Markdown: per-subject errors (mean over the held-out subject's episodes) per horizon."""
    rows = [r for r in result.rows if r.generator == generator and r.fold == "loso"]
    subjects = sorted({r.subject for r in rows})
    families = list(dict.fromkeys(r.family for r in rows))
    out = []
    for k, h in enumerate(result.config.horizons_ms):
        for metric, unit, digits in (("pos", "mm", 2), ("stiff", "N/m", 0)):
            body = []
            for fam in families:
                cells = []
                for s in subjects:
                    r = next(x for x in rows if x.family == fam and x.subject == s)
                    if not r.available or s not in r.per_subject:
                        cells.append("n/a")
                        continue
                    v = r.per_subject[s][0 if metric == "pos" else 1][k]
                    cells.append(f"{v:.{digits}f}")
                body.append([fam, *cells])
            name = "position" if metric == "pos" else "stiffness"
            title = f"**{name} error ({unit}) at {_h(h)} ms, per held-out subject**"
            out.append(title + "\n\n" + _md_table(["family", *(f"subject {s}" for s in subjects)], body))
    return "\n\n".join(out)


def markdown_summary(result: StudyResult) -> str:
    """The per-generator tables only (what the CLI prints)."""
    parts = []
    for g in result.config.generators:
        if result.config.loso:
            parts.append(f"## `{g}` (leave one subject out)\n\n" + loso_section(result, g))
        else:
            parts.append(f"## `{g}`\n\n" + generator_table(_rows(result, g)))
    return "\n\n".join(parts)


def study_markdown(result: StudyResult) -> str:
    """``study.md`` text (deterministic for a given configuration)."""
    c = result.config
    mode = (
        "leave-one-subject-out"
        if c.loso
        else f"train subjects {list(c.train_subjects)}, test {list(c.test_subjects)}"
    )
    head = [
        "# Design-space study: predictor families × horizons × generators",
        "",
        f"Operator: `{c.operator}` (env used `{result.operator_kind}`); {mode}; "
        f"{c.episodes_per_subject} episode(s) of ≤ {c.episode_s:g} s per subject; seed {c.seed}.",
        f"Inputs: windows of {c.window} frames every {c.frame_ms:g} ms; every PyTorch model trains "
        f"{c.epochs} epochs (batch {c.batch_size}, Adam lr {c.lr:g}, hidden {c.hidden}).",
        "Errors: position = distance between predicted and true hand position (mm); stiffness = norm of the "
        "error of the 3 axis stiffnesses (N/m); mean [95 % CI] over test episodes. `naive` holds the newest "
        "packet (hand position, stiffness estimate).",
        f"`params` = learned scalars (SINDy: nonzero coefficients; ESN: the readout, its {c.esn_units}-unit "
        "reservoir is fixed and random; `lstm-mc`: the shipped network, not retrained).",
    ]
    if result.operator_kind == "ScriptedOperator":
        head.append(
            "\n**Warning:** the scripted operator ignores the generator preset; generator "
            "differences in this run are not real."
        )
    parts = ["\n".join(head)]
    for g in c.generators:
        samples = [v for (gen, _f, _s), v in result.samples.items() if gen == g]
        n_tr, n_te = samples[0] if samples else (0, 0)
        if c.loso:
            parts.append(f"## `{g}` (leave one subject out)\n\n" + loso_section(result, g))
        else:
            parts.append(
                f"## `{g}` ({n_tr} training / {n_te} test samples)\n\n"
                + generator_table(_rows(result, g))
                + "\n\n"
                + beats_naive_section(result, g)
            )
    parts.append("## SINDy: nonzero terms per state component\n\n" + sindy_section(result))
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
    table = _md_table(["generator", "fold", "family", "params", "train s", "predict s"], body)
    return f"# Study timings\n\nWhole run: {result.runtime_s:.0f} s.\n\n{table}\n"


def write_outputs(result: StudyResult, out_dir: str | Path) -> list[Path]:
    """Write every output file under ``out_dir`` (created); returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "study.md": study_markdown(result),
        "results.csv": results_csv(result),
        "models.csv": models_csv(result),
        "sindy_terms.csv": sindy_csv(result),
        "timings.csv": timings_csv(result),
        "timings.md": timings_markdown(result),
    }
    if result.sindy:
        blocks = []
        for s in result.sindy:
            where = "" if s.subject is None else f" subject {s.subject}"
            blocks.append(f"[{s.generator}, {s.fold}{where}]\n{s.equations}")
        texts["sindy_equations.txt"] = "\n\n".join(blocks) + "\n"
    paths = []
    for name, text in texts.items():
        p = out / name
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    png = error_plot(result, out / "error_vs_horizon.png")  # None without matplotlib
    if png is not None:
        paths.append(png)
    return paths
