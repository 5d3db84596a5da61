"""Scene variants: hole geometry, naming conventions, caching."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from teleimp_env.physics.scene import SceneConfig, build_model, scene_xml, stage_mass


def _inner_faces(model: mujoco.MjModel) -> np.ndarray:
    """Distance from the hole axis to each lower wall slab's inner face, m."""
    faces = []
    for i in range(model.ngeom):
        name = model.geom(i).name
        if name.startswith("wall") and name.endswith("_lower_collision"):
            pos, size = model.geom_pos[i], model.geom_size[i]
            faces.append(np.hypot(pos[0], pos[1]) - size[0])
    return np.array(faces)


@pytest.mark.parametrize(("shape", "n_faces"), [("square", 4), ("round", 24)])
@pytest.mark.parametrize("clearance_mm", [0.2, 0.5, 2.0])
def test_hole_walls_sit_at_peg_half_width_plus_clearance(shape, n_faces, clearance_mm):
    model = build_model(SceneConfig(hole_shape=shape, clearance_mm=clearance_mm))
    faces = _inner_faces(model)
    assert len(faces) == n_faces
    np.testing.assert_allclose(faces, 0.010 + clearance_mm * 1e-3, atol=1e-12)


def test_chamfer_adds_one_tilted_slab_per_face():
    plain = build_model(SceneConfig())
    chamfered = build_model(SceneConfig(chamfer_mm=3.0))
    names = [chamfered.geom(i).name for i in range(chamfered.ngeom)]
    assert sum(n.endswith("_chamfer_collision") for n in names) == 4
    assert chamfered.ngeom == plain.ngeom + 2 * 4 * 2  # upper + chamfer slab, collision + visual


def test_every_geom_is_named_and_visual_and_collision_classes_are_separate():
    model = build_model(SceneConfig(hole_shape="round", chamfer_mm=2.0))
    for i in range(model.ngeom):
        name = model.geom(i).name
        assert name
        if name.endswith("_visual"):
            assert model.geom_contype[i] == 0 and model.geom_conaffinity[i] == 0
            assert model.geom_group[i] == 2
        elif name.endswith("_collision"):
            assert model.geom_group[i] == 3 and model.geom_contype[i] == 1


def test_models_are_cached_per_configuration_but_private_copies():
    a = build_model(SceneConfig())
    b = build_model(SceneConfig())
    a.body_pos[a.body("fixture").id] = [0.1, 0.1, 0.1]
    assert not np.allclose(b.body_pos[b.body("fixture").id], [0.1, 0.1, 0.1])
    assert stage_mass(a) == pytest.approx(0.3 + 0.05 + 0.2)


def test_friction_and_peg_mass_reach_the_compiled_model():
    model = build_model(SceneConfig(friction=0.8))
    assert model.geom("peg_collision").friction[0] == pytest.approx(0.8)
    assert model.body("peg").mass[0] == pytest.approx(0.2)
    assert "wall0_lower_collision" in scene_xml(SceneConfig())


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"hole_shape": "oval"}, "hole_shape"),
        ({"clearance_mm": -1}, "clearance_mm"),
        ({"friction": 3}, "friction"),
        ({"peg_size_mm": 80}, "peg_size_mm"),
    ],
)
def test_bad_scene_values_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SceneConfig(**kwargs)
