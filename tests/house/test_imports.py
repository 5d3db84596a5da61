"""The floors and the circles: who may import whom.

``teleimp_env`` (the env) imports neither ``agents`` nor ``eval``; ``agents`` imports the env
only; ``eval`` imports both. No module reaches another that reaches back (lazy imports
included). Fails with the offending modules named.
"""

from __future__ import annotations

from tests.house.modules import cycles, import_graph, layer, modules

#: Floor → the floors it may import.
ALLOWED = {"env": {"env"}, "agents": {"env", "agents"}, "eval": {"env", "agents", "eval"}}


def test_every_module_is_found_under_the_installed_names():
    names = modules()
    assert "teleimp_env.env" in names and "teleimp_env.agents.stack" in names
    assert "teleimp_env.eval.cli" in names
    assert len(names) > 80


def test_no_import_runs_up_the_floors():
    graph = import_graph()
    bad = sorted(
        f"{src} ({layer(src)}) imports {dst} ({layer(dst)})"
        for src, dsts in graph.items()
        for dst in dsts
        if layer(dst) not in ALLOWED[layer(src)]
    )
    assert not bad, "imports that run up the floors:\n" + "\n".join(bad)


def test_no_import_circles_lazy_imports_included():
    circles = cycles(import_graph())
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_the_checker_sees_circles_and_lazy_imports():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    lazy = import_graph()["teleimp_env.eval.cli"]  # imports its commands inside functions
    assert "teleimp_env.eval.pipeline" in lazy


def test_an_import_counts_the_parent_packages_it_runs():
    graph = import_graph()
    # the factory imports teleimp_env.agents.rl.policy, which runs teleimp_env/agents/rl/__init__
    assert "teleimp_env.agents.rl" in graph["teleimp_env.agents.factory"]
    # a module never counts its own packages (they are running already)
    assert "teleimp_env.agents" not in graph["teleimp_env.agents.factory"]
