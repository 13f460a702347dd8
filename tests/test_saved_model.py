"""tf.saved_model: simple_save and the builder write a SavedModel that loader.load brings
into a fresh session with its variables and signatures; errors leave nothing half-written."""
import os

import numpy as np
import pytest

import graphc as gc

SM = gc.saved_model


def _trained():
    rng = np.random.default_rng(0)
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [None, 3], name="x")
        w = gc.Variable(rng.standard_normal((3, 2)).astype(np.float32), name="w")
        y = gc.nn.softmax(gc.matmul(x, w), name="y")
        step = gc.assign_add(w, 0.5 * gc.ones_like(w))
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=graph)
    sess.run(init)
    sess.run(step)  # values differing from the initial ones
    return sess, x, y, rng.standard_normal((4, 3)).astype(np.float32)


def test_simple_save_then_load_in_a_fresh_session(tmp_path):
    sess, x, y, data = _trained()
    want = sess.run(y, {x: data})
    export = str(tmp_path / "export" / "1")
    SM.simple_save(sess, export, inputs={"x": x}, outputs={"y": y})
    assert SM.contains_saved_model(export)
    assert os.path.isfile(os.path.join(export, "variables", "variables.index")) or \
        any(name.startswith("variables") for name in os.listdir(os.path.join(export,
                                                                            "variables")))
    with gc.Session(graph=gc.Graph()) as fresh:
        meta = SM.loader.load(fresh, [SM.tag_constants.SERVING], export)
        signature = meta.signature_def[SM.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        assert signature.method_name == SM.signature_constants.PREDICT_METHOD_NAME
        assert signature.inputs["x"].tensor_shape.as_list() == [None, 3]
        got = fresh.run(signature.outputs["y"].name, {signature.inputs["x"].name: data})
    np.testing.assert_array_equal(got, want)


def test_builder_with_two_tag_sets_and_a_main_op(tmp_path):
    sess, x, y, data = _trained()
    with sess.graph.as_default():
        counter = gc.Variable(0, name="counter", collections=[gc.GraphKeys.LOCAL_VARIABLES])
        main_op = gc.group(gc.local_variables_initializer(), name="main_op")
    export = str(tmp_path / "m")
    builder = SM.builder.SavedModelBuilder(export)
    builder.add_meta_graph_and_variables(
        sess, [SM.tag_constants.SERVING],
        signature_def_map={"predict": SM.signature_def_utils.predict_signature_def(
            {"images": x}, {"scores": y})}, main_op=main_op)
    with sess.graph.as_default():
        builder.add_meta_graph([SM.tag_constants.TRAINING])
    builder.save()
    with pytest.raises(AssertionError, match="already exists"):
        SM.builder.SavedModelBuilder(export)
    with gc.Session(graph=gc.Graph()) as fresh:
        SM.loader.load(fresh, ["serve"], export)
        assert fresh.run("counter:0") == 0  # the main op initialized the local variable
    with gc.Session(graph=gc.Graph()) as fresh:
        SM.loader.load(fresh, ["train"], export)
        np.testing.assert_array_equal(fresh.run("y:0", {"x:0": data}), sess.run(y, {x: data}))
    with gc.Session(graph=gc.Graph()) as fresh, pytest.raises(RuntimeError,
                                                              match=r"could not be found"):
        SM.loader.load(fresh, ["gpu"], export)
    del counter


def test_signature_errors():
    sess, x, y, _ = _trained()
    with pytest.raises(ValueError, match="non-empty"):
        SM.predict_signature_def({}, {"y": y})
    with pytest.raises(TypeError, match="expected a Tensor"):
        SM.utils.build_tensor_info(3.0)
    info = SM.utils.build_tensor_info(y)
    assert info.name == "y:0" and info.dtype == gc.float32
