"""What TF1 scripts use besides ops: compat.v1 switches, flags and app.run, logging, session
configs, device scopes and the deprecated names."""
import logging
import sys

import numpy as np
import pytest

import graphc as tf


# -- compat.v1 --------------------------------------------------------------------------------
def test_compat_v1_is_graphc_and_its_v2_switches_run():
    assert tf.compat.v1 is tf
    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.disable_v2_behavior()
    tf.compat.v1.enable_resource_variables()
    tf.disable_resource_variables()
    tf.disable_v2_tensorshape()
    assert tf.executing_eagerly() is False and tf.compat.v1.executing_eagerly() is False
    assert tf.compat.dimension_value(tf.TensorShape([None, 3])[1]) == 3
    assert tf.compat.as_bytes("a") == b"a" and tf.compat.as_text(b"a") == "a"


# -- deprecated names -------------------------------------------------------------------------
def test_deprecated_names_keep_tf1_semantics():
    g = tf.Graph()
    with g.as_default():
        ints = tf.constant([7, -7])
        logits = tf.constant([[1.0, 3.0, 2.0], [5.0, 0.0, 1.0]])
        fetches = [tf.div(ints, 2), tf.div(tf.constant([7.0, -7.0]), 2), tf.div(7.0, 2),
                   tf.arg_max(logits, 1), tf.arg_min(logits, dimension=1),
                   tf.to_double(ints), tf.div(ints, tf.constant(2))]
        v = tf.Variable(1.0)
        assert tf.all_variables() == [v]
        init = tf.initialize_variables([v])
    with tf.Session(graph=g) as sess:
        sess.run(init)
        div_int, div_float, div_python, amax, amin, double, div_tensors = sess.run(fetches)
    np.testing.assert_array_equal(div_int, [3, -4])  # Python 2: floor for integers
    assert div_int.dtype == np.int32 and div_tensors.tolist() == [3, -4]
    np.testing.assert_array_equal(div_float, [3.5, -3.5])
    assert div_python == 3.5 and div_python.dtype == np.float32
    assert amax.tolist() == [1, 0] and amin.tolist() == [0, 1] and amax.dtype == np.int64
    assert double.dtype == np.float64


# -- logging ------------------------------------------------------------------------------------
def test_logging_goes_to_python_logging_at_tf1s_levels(caplog):
    assert (tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR,
            tf.logging.FATAL) == (10, 20, 30, 40, 50)
    previous = tf.logging.get_verbosity()
    try:
        with caplog.at_level(logging.DEBUG):
            tf.logging.set_verbosity(tf.logging.WARN)
            tf.logging.info("hidden %d", 1)
            tf.logging.warn("shown %s", "warn")
            tf.logging.set_verbosity(tf.logging.INFO)
            tf.logging.info("step %d", 10)
            tf.logging.error("bad")
            tf.logging.fatal("worse")
            for step in range(5):
                tf.logging.log_every_n(tf.logging.INFO, "every %d", 2, step)
                tf.logging.log_first_n(tf.logging.INFO, "first %d", 1, step)
            tf.logging.log_if(tf.logging.INFO, "if %s", False, "no")
        messages = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
        assert messages == [
            ("graphc", 30, "shown warn"), ("graphc", 20, "step 10"), ("graphc", 40, "bad"),
            ("graphc", 50, "worse"), ("graphc", 20, "every 0"), ("graphc", 20, "first 0"),
            ("graphc", 20, "every 2"), ("graphc", 20, "every 4")]
        assert tf.logging.get_verbosity() == tf.logging.INFO
    finally:
        tf.logging.set_verbosity(previous)


# -- flags and app.run --------------------------------------------------------------------------
@pytest.fixture
def flags():
    """A private FlagValues, so tests never touch the process-wide FLAGS."""
    values = tf.flags.FlagValues()
    f = tf.flags
    f.DEFINE_string("data_dir", "/tmp/data", "where the data is", flag_values=values)
    f.DEFINE_integer("batch_size", 32, "examples per step", lower_bound=1, flag_values=values)
    f.DEFINE_float("learning_rate", 0.01, "step size", flag_values=values)
    f.DEFINE_boolean("fake_data", False, "use fake data", flag_values=values)
    f.DEFINE_bool("shuffle", True, "shuffle", flag_values=values)
    f.DEFINE_enum("mode", "train", ["train", "eval"], "what to do", flag_values=values)
    f.DEFINE_list("layers", "64,32", "hidden sizes", flag_values=values)
    f.DEFINE_multi_string("tag", [], "tags", flag_values=values)
    return values


def test_flags_parse_every_kind_and_return_the_other_arguments(flags):
    rest = flags(["train.py", "--batch_size=64", "--learning_rate", "0.5", "--fake_data",
                  "--noshuffle", "input.txt", "-mode=eval", "--layers=8,4", "--tag=a",
                  "--tag", "b", "--", "--not-a-flag"])
    assert rest == ["train.py", "input.txt", "--not-a-flag"]
    assert (flags.batch_size, flags.learning_rate, flags.fake_data, flags.shuffle) == \
        (64, 0.5, True, False)
    assert (flags.mode, flags.layers, flags.tag, flags.data_dir) == \
        ("eval", ["8", "4"], ["a", "b"], "/tmp/data")
    flags(["p", "--fake_data=false", "--shuffle=true"])
    assert (flags.fake_data, flags.shuffle) == (False, True)
    assert flags.flag_values_dict()["batch_size"] == 64 and "mode" in flags
    flags.batch_size = 8  # assignment, as absl allows
    assert flags.batch_size == 8 and flags["batch_size"].default == 32


def test_flag_errors_are_clear(flags):
    with pytest.raises(tf.flags.UnrecognizedFlagError, match="'batchsize'.*defined flags: "):
        flags(["p", "--batchsize=3"])
    assert flags(["p", "--batchsize=3"], known_only=True) == ["p", "--batchsize=3"]
    with pytest.raises(tf.flags.IllegalFlagValueError, match="batch_size"):
        flags(["p", "--batch_size=many"])
    with pytest.raises(tf.flags.IllegalFlagValueError, match=">= 1"):
        flags(["p", "--batch_size=0"])
    with pytest.raises(tf.flags.IllegalFlagValueError, match="one of <train|eval>"):
        flags(["p", "--mode=test"])
    with pytest.raises(tf.flags.IllegalFlagValueError, match="boolean"):
        flags(["p", "--fake_data=maybe"])
    with pytest.raises(tf.flags.DuplicateFlagError, match="'mode' is defined twice"):
        tf.flags.DEFINE_string("mode", "x", "again", flag_values=flags)
    with pytest.raises(AttributeError, match="no flag --epochs"):
        flags.epochs


def test_reading_a_flag_first_parses_sys_argv(flags, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", "--batch_size=5"])
    assert not flags.is_parsed()
    assert flags.batch_size == 5 and flags.is_parsed()
    unparsed = tf.flags.FlagValues()
    tf.flags.DEFINE_integer("steps", 1, "", flag_values=unparsed)
    monkeypatch.setattr(sys, "argv", ["train.py", "--stepz=2"])
    with pytest.raises(tf.flags.UnrecognizedFlagError, match="'stepz'"):
        unparsed.steps


def test_app_run_parses_flags_and_exits_with_mains_result(monkeypatch, capsys):
    if "tf1basics_app_steps" not in tf.flags.FLAGS:  # the process-wide FLAGS, defined once
        tf.flags.DEFINE_integer("tf1basics_app_steps", 3, "steps")
    seen = []

    def main(argv):
        seen.append((argv, tf.app.flags.FLAGS.tf1basics_app_steps))
        return 0

    with pytest.raises(SystemExit) as done:
        tf.app.run(main=main, argv=["prog", "--tf1basics_app_steps=7", "extra", "--other=1"])
    assert done.value.code == 0
    assert seen == [(["prog", "extra", "--other=1"], 7)]  # TF1 passes unknown flags on
    with pytest.raises(SystemExit) as failed:
        tf.app.run(main=main, argv=["prog", "--tf1basics_app_steps=x"])
    assert failed.value.code == 1 and "FATAL Flags parsing error" in capsys.readouterr().err
    assert tf.flags is tf.app.flags


# -- configs --------------------------------------------------------------------------------------
def test_session_configs_take_tfs_fields_and_refuse_others():
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False,
                            device_count={"GPU": 0}, intra_op_parallelism_threads=2)
    config.gpu_options.allow_growth = True
    config.gpu_options.per_process_gpu_memory_fraction = 0.4
    config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_1
    assert tf.ConfigProto().gpu_options.allow_growth is False  # each message has its own
    assert config.device_count == {"GPU": 0}
    with pytest.raises(ValueError, match='ConfigProto has no "allow_soft_placment" field'):
        tf.ConfigProto(allow_soft_placment=True)
    with pytest.raises(AttributeError, match='no field "allow_grwoth"'):
        config.gpu_options.allow_grwoth = True
    gpu = tf.GPUOptions(per_process_gpu_memory_fraction=0.5)
    assert tf.ConfigProto(gpu_options=gpu).gpu_options == gpu
    g = tf.Graph()
    with g.as_default():
        y = tf.constant(2.0) * 3.0
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session(graph=g, config=config) as sess:
        assert sess.run(y, options=options, run_metadata=metadata) == 6.0


# -- devices -----------------------------------------------------------------------------------
def test_device_scopes_record_canonical_devices_and_run_on_the_host():
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:worker/task:1"):
            with tf.device("/gpu:0"):
                x = tf.placeholder(tf.float32, [2, 2], name="x")
                with tf.device("/cpu:0"):
                    y = tf.matmul(x, x, name="y")
            z = tf.add(y, 1.0, name="z")
            with tf.device(None):
                free = tf.identity(z, name="free")
        spec = tf.DeviceSpec(job="ps", task=0, device_type="cpu", device_index=0)
        with tf.device(spec):
            w = tf.Variable(1.0, name="w")
    assert x.op.device == x.device == "/job:worker/task:1/device:GPU:0"
    assert y.op.device == "/job:worker/task:1/device:CPU:0"
    assert z.op.device == "/job:worker/task:1" and free.op.device == ""
    assert w.op.device == "/job:ps/task:0/device:CPU:0"
    assert "# y @ /job:worker/task:1/device:CPU:0" in g.as_text()
    assert "# free\n" in g.as_text() + "\n"
    with tf.Session(graph=g) as sess:
        assert sess.run(free, {x: np.eye(2, dtype=np.float32)}).tolist() == [[2, 1], [1, 2]]


def test_device_functions_receive_each_op_as_multi_tower_code_uses_them():
    def assign_to_device(device, ps_device="/cpu:0"):
        def _assign(op):
            return ps_device if op.type == "variable" else device
        return _assign

    g = tf.Graph()
    towers = []
    with g.as_default():
        for i in range(2):
            with tf.device(assign_to_device(f"/gpu:{i}")), tf.name_scope(f"tower_{i}"):
                w = tf.Variable(tf.ones([3]), name="w")
                towers.append(tf.reduce_sum(w * float(i + 1)))
        total = tf.add_n(towers)
        init = tf.global_variables_initializer()
    devices = {op.name: op.device for op in g.get_operations()}
    assert devices["tower_0/w"] == devices["tower_1/w"] == "/device:CPU:0"
    assert devices[towers[1].op.name] == "/device:GPU:1" and total.op.device == ""
    with tf.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run(total) == 9.0


def test_bad_device_names_fail_at_the_scope():
    with pytest.raises(ValueError, match="Unknown attribute 'gpu:0:1'"):
        tf.device("/gpu:0:1").__enter__()
    with pytest.raises(ValueError, match="multiple device types"):
        tf.device("/cpu:0/gpu:0").__enter__()
