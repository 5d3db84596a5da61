"""``agents.make`` on bad files and arguments: a one-line error naming the file or the argument."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from teleimp_env import agents
from teleimp_env.agents.checkpoint import CheckpointError, default_checkpoint, load_checkpoint
from teleimp_env.agents.predictors.naive import NaivePredictor
from teleimp_env.agents.rl.policy import META_MEMBER, read_settings

SHIPPED_POLICY = default_checkpoint("ppo-residual").with_suffix(".zip")


def _truncated(src: Path, dst: Path, keep: int) -> Path:
    """``dst`` holding the first ``keep`` bytes of ``src`` (negative: all but the last ``-keep``)."""
    data = src.read_bytes()
    dst.write_bytes(data[:keep])
    return dst


@pytest.mark.parametrize("kind", ["cv", "kf", "sindy", "lstm"])
@pytest.mark.parametrize("keep", [300, -40])
def test_a_truncated_checkpoint_is_named_and_called_invalid(tmp_path, kind, keep):
    bad = _truncated(default_checkpoint(kind), tmp_path / f"{kind}-cut.npz", keep)
    with pytest.raises(CheckpointError) as err:
        agents.make(kind, checkpoint=bad)
    message = str(err.value)
    assert isinstance(err.value, ValueError) and "\n" not in message
    assert message.startswith(
        f"{str(bad)!r} is not a valid {kind} checkpoint: the file is truncated, corrupt"
    )


def test_other_non_checkpoints_are_named(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not numpy at all")
    with pytest.raises(
        CheckpointError, match=r"notes\.npz' is not a valid cv checkpoint: the file is truncated"
    ):
        load_checkpoint(text, "cv", 1)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(3))  # an .npz, but not written by save_checkpoint
    with pytest.raises(CheckpointError, match=r"plain\.npz' is not a valid cv checkpoint: an \.npz without"):
        load_checkpoint(plain, "cv", 1)
    bare = tmp_path / "bare.npz"
    with bare.open("wb") as fh:
        np.save(fh, np.zeros(3))  # one .npy array under an .npz name
    with pytest.raises(CheckpointError, match=r"bare\.npz' is not a valid kf checkpoint: .*\.npy array"):
        agents.make("kf", checkpoint=bare)
    with pytest.raises(CheckpointError, match=r"is a directory, not a sindy checkpoint"):
        agents.make("sindy", checkpoint=tmp_path)


@pytest.mark.parametrize("name", ["naive", "naive+eo"])
def test_naive_takes_no_checkpoint(name):
    with pytest.raises(TypeError) as err:
        agents.make(name, checkpoint="garbage.npz")
    assert str(err.value).startswith(
        f"stack {name!r} takes no checkpoint= (the naive predictor has no learned"
    )
    assert (
        "checkpoint= applies to cv, kf, sindy, lstm, readout, readout-adapt, readout-noemg, "
        "readout-rawemg (and their +eo stacks) and ppo-residual" in str(err.value)
    )


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"checkpoint": "garbage.npz"}, "checkpoint="),
        ({"predictor": NaivePredictor()}, "predictor="),
        ({"max_age_s": 0.3, "hold_damping": 5.0}, "hold_damping=, max_age_s="),
    ],
)
def test_oracle_refuses_what_it_would_ignore(kwargs, named):
    with pytest.raises(TypeError, match=rf"^stack 'oracle' takes no {named}: it reads the true intent"):
        agents.make("oracle", **kwargs)
    assert agents.make("oracle", bilateral=True).privileged  # what it takes still works


def test_checkpoint_and_predictor_together_are_refused():
    with pytest.raises(TypeError, match=r"^stack 'cv': pass checkpoint= or predictor=, not both$"):
        agents.make("cv", checkpoint="x.npz", predictor=NaivePredictor())


@pytest.mark.parametrize("cut", [2000, 100_000])
def test_a_truncated_sb3_policy_is_called_truncated_not_unsaved(tmp_path, cut):
    # An SB3 archive holds PyTorch zips: cut short, it still opens as a zip (an inner one), which
    # used to be reported as "has no teleimp_env.json: save it with save_policy".
    bad = _truncated(SHIPPED_POLICY, tmp_path / "cut.zip", -cut)
    with zipfile.ZipFile(bad) as archive:
        assert META_MEMBER not in archive.namelist()  # the trap: an inner archive's directory
    expected = f"{str(bad)!r} is truncated or corrupt (not a complete SB3 .zip policy)"
    for call in (lambda: read_settings(bad), lambda: agents.make(str(bad))):
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value).startswith(expected) and "save_policy" not in str(err.value)
    with pytest.raises(ValueError, match=r"^'.*cut\.zip' is truncated or corrupt"):
        agents.make("ppo-residual", checkpoint=bad)


def test_damaged_or_foreign_policy_archives_are_named(tmp_path):
    data = bytearray(SHIPPED_POLICY.read_bytes())
    data[5000] ^= 0xFF  # inside the 'data' member
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match=r"damaged\.zip' is truncated or corrupt .*member 'data' fails its CRC"
    ):
        read_settings(damaged)
    stub = _truncated(SHIPPED_POLICY, tmp_path / "stub.zip", 10)
    with pytest.raises(
        ValueError, match=r"stub\.zip' is not a zip archive: truncated, corrupt or not an SB3"
    ):
        read_settings(stub)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match=r"foreign\.zip' is a zip archive but not an SB3 policy"):
        read_settings(foreign)
    with pytest.raises(ValueError, match=r"is a directory, not an SB3 \.zip policy file"):
        read_settings(tmp_path)
