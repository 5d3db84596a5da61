"""``teleimp bench scaling``: where a tournament's time goes, and how it scales — one figure.

Runs :func:`~teleimp_env.eval.bench.env.bench_env` and
:func:`~teleimp_env.eval.bench.tournament.bench_tournament` in one process and draws
(``--plot PATH``) two panels:

* **µs per env-step**: the single env's step split into the physics (``mj_step`` inside the step),
  the operator and the env's own code, next to the vector env per env-step at N = 1, 8, 32 and
  Gymnasium ``Hopper-v5``'s step for reference;
* **episodes per minute**: 1 worker, 2 workers, and 2 workers running batches of ``--batch``
  episodes in the vector env.

What limits the throughput is read off the first panel: :func:`limits` gives each part's share
of the single env's step. Keys: ``env`` and ``tournament`` (the two results) and ``limits``
(``physics_share``, ``operator_share``, ``env_code_share``: fractions of ``step_us``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The parts of the single env's step, in the order the figure stacks them.
STEP_PARTS = (
    ("physics_in_step_us", "physics (mj_step)"),
    ("operator_in_step_us", "operator"),
    ("env_only_us", "env's own code"),
)


def limits(env: dict[str, Any]) -> dict[str, float]:
    """Shares (fractions of ``step_us``) of the physics, the operator and the env's own code in
    one single-env step, from a :func:`~teleimp_env.eval.bench.env.bench_env` result."""
    step = float(env["step_us"])
    if not step > 0.0:
        raise ValueError(f"step_us must be > 0, got {env['step_us']!r}")
    return {
        "physics_share": float(env["physics_in_step_us"]) / step,
        "operator_share": float(env["operator_in_step_us"]) / step,
        "env_code_share": float(env["env_only_us"]) / step,
    }


def bench_scaling(**tournament_kwargs: Any) -> dict[str, Any]:
    """Run the env and tournament benchmarks in one process (keys in the module doc)."""
    from teleimp_env.eval.bench.env import bench_env
    from teleimp_env.eval.bench.tournament import bench_tournament

    env = bench_env()
    tournament = bench_tournament(**tournament_kwargs)
    return {"env": env, "tournament": tournament, "limits": limits(env)}


def format_scaling(result: dict[str, Any]) -> str:
    """The two benchmarks' tables and the shares of the step."""
    from teleimp_env.eval.bench.env import format_env_bench
    from teleimp_env.eval.bench.tournament import format_tournament_bench

    s = result["limits"]
    return "\n".join([
        format_env_bench(result["env"]),
        format_tournament_bench(result["tournament"]),
        f"single env step: physics {100 * s['physics_share']:.0f} %, operator "
        f"{100 * s['operator_share']:.0f} %, env's own code {100 * s['env_code_share']:.0f} %",
    ])  # fmt: skip


def scaling_png(result: dict[str, Any]) -> bytes:
    """The two-panel figure of a :func:`bench_scaling` result, as PNG bytes."""
    from teleimp_env.eval.report.plots import _figure_cls, png

    env, tour = result["env"], result["tournament"]
    fig = _figure_cls()(figsize=(10.0, 3.8), dpi=100)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1.0]})
    colours = ("#4c72b0", "#dd8452", "#8c8c8c")
    bottom = 0.0
    for (key, label), colour in zip(STEP_PARTS, colours, strict=True):
        value = float(env[key])
        left.bar(0, value, bottom=bottom, color=colour, label=label, width=0.6)
        bottom += value
    vector = {int(n): float(us) for n, us in env["vector_per_env_step_us"].items()}
    names = ["single env", *(f"vector\nN = {n}" for n in vector), "Hopper-v5"]
    for i, us in enumerate(vector.values(), start=1):
        left.bar(i, us, color="#55a868", width=0.6, label="vector env, per env-step" if i == 1 else None)
    left.bar(len(names) - 1, float(env["hopper_step_us"]), color="#c44e52", width=0.6, label="Hopper-v5 step")
    left.set_xticks(range(len(names)), names, fontsize=8)
    left.set_ylabel("µs per env-step")
    share = result["limits"]["physics_share"]
    left.set_title(f"one control step (physics {100 * share:.0f} % of the single env's)", fontsize=10)
    left.legend(fontsize=7, frameon=False, loc="upper right")
    rates = [
        ("1 worker", tour["episodes_per_min_1_worker"]),
        ("2 workers", tour["episodes_per_min_2_workers"]),
        (f"2 workers,\nbatches of {tour['batch']}", tour["episodes_per_min_2_workers_batched"]),
    ]
    right.bar(range(3), [float(r) for _, r in rates], color=["#8c8c8c", "#4c72b0", "#55a868"], width=0.6)
    for i, (_, r) in enumerate(rates):
        right.text(i, float(r), f"{float(r):.0f}", ha="center", va="bottom", fontsize=8)
    right.set_xticks(range(3), [n for n, _ in rates], fontsize=8)
    right.set_ylabel("episodes per minute")
    title = f"tournament throughput ({tour['cores']} cores, {tour['episode_s']:g}-s episodes)"
    right.set_title(title, fontsize=10)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return png(fig)


def write_scaling_png(result: dict[str, Any], path: str | Path) -> Path:
    """Write :func:`scaling_png` to ``path`` (a ``.png`` file; its folder is created)."""
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--plot must name a .png file, got {str(path)!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(scaling_png(result))
    return out


__all__ = ["STEP_PARTS", "bench_scaling", "format_scaling", "limits", "scaling_png", "write_scaling_png"]
