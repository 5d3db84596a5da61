"""Report figures: small multiples per delay profile, legends naming the stacks, outside the data."""

from __future__ import annotations

import itertools

import matplotlib.colors as mcolors
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from teleimp_env.eval.report.plots import (
    all_figures,
    all_plots,
    legend_labels,
    order,
    success_by_profile_figure,
)
from teleimp_env.eval.report.style import stack_styles
from tests.eval.report.synthetic import tournament


@pytest.fixture(scope="module")
def summary():
    return tournament()[1]


@pytest.fixture(scope="module")
def figures(summary):
    return all_figures(summary)


def _drawn(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _panels(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_success_plot_has_one_panel_per_profile_with_every_stack_on_a_shared_axis(summary):
    fig = success_by_profile_figure(summary)
    panels = _panels(fig)
    assert [ax.get_title().split(" ")[0] for ax in panels] == summary.delays
    assert "(focus)" in panels[1].get_title() and "bilateral" in panels[3].get_title()
    assert [t.get_text() for t in panels[0].get_yticklabels()] == order(summary)
    for ax in panels:
        assert list(ax.get_yticks()) == list(range(len(summary.stacks)))
        assert ax.get_shared_y_axes().joined(ax, panels[0])
        assert ax.get_xlim() == panels[0].get_xlim()


def test_plot_legend_labels_match_the_stacks_and_their_styles(summary, figures):
    styles = stack_styles(order(summary))
    for stem, (_caption, fig, _wide) in figures.items():
        labels = legend_labels(fig)
        if stem == "calibration":  # only stacks that report uncertainty: none in the synthetic rows
            assert labels == []
            continue
        if stem == "error_vs_horizon":
            continue  # no prediction metrics in the synthetic rows
        assert sorted(labels) == sorted(summary.stacks), stem
        legend = fig.legends[0]
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            if not text.get_text().strip():
                continue
            colour = handle.get_color() if hasattr(handle, "get_color") else handle.get_edgecolor()
            assert mcolors.same_color(colour, styles[text.get_text()].colour), (stem, text.get_text())


def test_legends_lie_outside_the_data_and_stack_labels_do_not_overlap(figures):
    for stem, (_caption, fig, _wide) in figures.items():
        renderer = _drawn(fig)
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
        for legend, ax in itertools.product(legends, _panels(fig)):
            box = legend.get_window_extent(renderer)
            assert not box.overlaps(ax.get_window_extent(renderer)), stem
        for ax in _panels(fig):
            labels = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_text()]
            for a, b in itertools.combinations(labels, 2):
                assert not a.overlaps(b), stem


def test_the_png_plots_are_small_and_the_panels_are_wide(summary):
    plots = all_plots(summary)
    assert list(plots) == ["success_by_profile", "peak_force", "passivity", "error_vs_horizon", "calibration"]
    for stem, (_caption, png, wide) in plots.items():
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 400_000
        assert wide == (stem in ("success_by_profile", "peak_force", "passivity"))
