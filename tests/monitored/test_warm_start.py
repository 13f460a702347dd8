"""init_from_checkpoint, warm_start and load_checkpoint with TF1's mapping rules: the mapped
variables' initializers load the checkpoint's values, other variables keep theirs, and a
bad mapping raises before any initializer changes."""
import numpy as np
import pytest

import graphc as tf


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint holding old/W (2x3), old/b (3) and step (int64) = 7."""
    tf.reset_default_graph()
    with tf.variable_scope("old"):
        tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="W")
        tf.Variable(np.full(3, 0.5, np.float32), name="b")
    tf.Variable(np.int64(7), name="step")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"))
    tf.reset_default_graph()
    return path


def new_model():
    with tf.variable_scope("new"):
        w = tf.get_variable("W", [2, 3], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
    other = tf.Variable(np.ones(2, np.float32), name="other")
    return w, b, other


def initialized_values(*variables):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(variables))


def test_scope_to_scope_loads_every_variable_under_the_scope(checkpoint, tmp_path):
    w, b, other = new_model()
    tf.train.init_from_checkpoint(str(tmp_path), {"old/": "new/"})  # a folder: its latest
    got_w, got_b, got_other = initialized_values(w, b, other)
    np.testing.assert_array_equal(got_w, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(got_b, [0.5] * 3)
    np.testing.assert_array_equal(got_other, [1.0, 1.0])  # not mapped: its own initializer


def test_names_variables_and_pairs_map_single_tensors(checkpoint):
    w, b, other = new_model()
    tf.train.init_from_checkpoint(checkpoint, [("old/W", "new/W"), ("old/b", b)])
    got_w, got_b = initialized_values(w, b)
    np.testing.assert_array_equal(got_w, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(got_b, [0.5] * 3)
    reader = tf.train.load_checkpoint(checkpoint)
    assert reader.get_variable_to_shape_map() == {"old/W": [2, 3], "old/b": [3], "step": []}
    assert tf.train.load_variable(checkpoint, "step") == 7


def test_bad_mappings_raise_and_change_no_initializer(checkpoint, tmp_path):
    w, b, other = new_model()
    before = [v.initializer for v in (w, b, other)]
    bad_maps = [({"old/W": "new/W", "old/missing": "new/b"}, "old/missing is not found"),
                ({"old/W": "new/W", "old/b": w}, "Shape of variable new/W"),
                ({"step": other}, "Shape of variable other"),
                ({"old/": "new/", "nothing/": "new/"}, "nothing/W .* is not found"),
                ({"old/W": "no_such_variable"}, "neither a variable"),
                ({"old/W": "new/"}, "should map to scope only")]
    for assignment_map, message in bad_maps:
        with pytest.raises(ValueError, match=message):
            tf.train.init_from_checkpoint(checkpoint, assignment_map)
    assert [v.initializer for v in (w, b, other)] == before
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.init_from_checkpoint(str(empty), {"old/": "new/"})


def test_dtype_mismatch_is_an_error(checkpoint):
    steps = tf.Variable(np.float32(0), name="step_f")
    with pytest.raises(ValueError, match="step_f:0 is float32, checkpoint tensor step is int64"):
        tf.train.init_from_checkpoint(checkpoint, {"step": steps})


def test_warm_start_by_regex_list_and_renames(checkpoint):
    with tf.variable_scope("old"):
        w = tf.get_variable("W", [2, 3], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [3], initializer=tf.zeros_initializer(), trainable=False)
    tf.train.warm_start(checkpoint)  # default: every trainable variable, by its own name
    got_w, got_b = initialized_values(w, b)
    np.testing.assert_array_equal(got_w, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(got_b, [0.0] * 3)  # not trainable: left alone
    tf.train.warm_start(checkpoint, ["old/b"])  # a list of regexes: GLOBAL_VARIABLES
    np.testing.assert_array_equal(initialized_values(b)[0], [0.5] * 3)

    tf.reset_default_graph()
    kernel = tf.get_variable("dense/kernel", [3], initializer=tf.zeros_initializer())
    tf.train.warm_start(checkpoint, [kernel], var_name_to_prev_var_name={
        "dense/kernel": "old/b"})
    np.testing.assert_array_equal(initialized_values(kernel)[0], [0.5] * 3)
    with pytest.raises(ValueError, match="were not used: {'dense/kernal'}"):
        tf.train.warm_start(checkpoint, [kernel],
                            var_name_to_prev_var_name={"dense/kernal": "old/b"})
    with pytest.raises(ValueError, match="all `Variable` or all `str`"):
        tf.train.warm_start(checkpoint, [kernel, "x"])


def test_checkpoints_iterator_and_mtimes(checkpoint, tmp_path):
    found = list(tf.train.checkpoints_iterator(str(tmp_path), timeout=0))
    assert found == [checkpoint]
    assert list(tf.train.checkpoints_iterator(str(tmp_path / "none"), timeout=0)) == []
    mtimes = tf.train.get_checkpoint_mtimes([checkpoint, str(tmp_path / "missing")])
    assert len(mtimes) == 1 and mtimes[0] > 0


def test_assert_global_step_checks_type_and_shape():
    tf.reset_default_graph()
    tf.train.assert_global_step(tf.train.get_or_create_global_step())
    with pytest.raises(TypeError, match="integer type"):
        tf.train.assert_global_step(tf.Variable(0.0))
    with pytest.raises(TypeError, match="not scalar"):
        tf.train.assert_global_step(tf.Variable([1, 2]))
    with pytest.raises(TypeError, match="Variable or Tensor"):
        tf.train.assert_global_step(3)
