"""teleimp_env.eval.bench.agents: the latency report's shape and validation (speed itself is not asserted)."""

from __future__ import annotations

import pytest
import torch

from teleimp_env.eval.bench.agents import bench_agents, format_table


def test_report_has_percentiles_per_stack_and_restores_threads():
    threads = torch.get_num_threads()
    result = bench_agents(["naive", "oracle", "lstm+eo"], n_steps=40, warmup=5)
    assert list(result) == ["naive", "oracle", "lstm+eo"]
    for r in result.values():
        assert set(r) == {"p50_ms", "p99_ms", "mean_ms", "max_ms", "n", "batch_p50_ms", "batch_p99_ms"}
        assert 0.0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"] and r["n"] == 40
        assert 0.0 < r["batch_p50_ms"] <= r["batch_p99_ms"]
    assert torch.get_num_threads() == threads
    assert "lstm+eo" in format_table(result)


def test_bilateral_mode_runs_the_observer_with_its_twin_and_the_cli_takes_stacks(capsys):
    from teleimp_env.eval.cli import main

    result = bench_agents(["naive+eo"], n_steps=40, warmup=5, bilateral=True)
    assert 0.0 < result["naive+eo"]["p50_ms"] <= result["naive+eo"]["p99_ms"]
    assert main(["bench", "agents", "--stacks", "naive", "--bilateral", "--json"]) == 0
    assert '"naive"' in capsys.readouterr().out
    assert main(["bench", "env", "--bilateral"]) != 0
    assert "--stacks and --bilateral apply to 'agents', not 'env'" in capsys.readouterr().err
    assert main(["bench", "agents", "--stacks", " , "]) != 0
    assert "--stacks must name at least one stack" in capsys.readouterr().err
    assert main(["bench", "agents", "--stacks", "kalman"]) != 0
    assert "unknown stack 'kalman'" in capsys.readouterr().err


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown stack 'kalman'; valid stacks: naive"):
        bench_agents(["kalman"])
    with pytest.raises(ValueError, match="n_steps must be an int >= 1"):
        bench_agents(["naive"], n_steps=0)
    with pytest.raises(ValueError, match="bilateral must be True or False"):
        bench_agents(["naive"], bilateral="yes")
