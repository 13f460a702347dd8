"""TF's version constants (``tf.VERSION``, ``tf.version``) and TF2's behaviour switches as
TF1 programs and TF2-era v1 scripts call them."""
import subprocess
import sys

import pytest

import graphc as tf
from graphc import compat


def test_the_version_constants_name_the_api_and_the_graph_format():
    assert tf.VERSION == tf.version.VERSION == "2.21.0"  # TF's compat.v1 that graphc follows
    assert tf.GIT_VERSION == tf.version.GIT_VERSION == f"graphc-v{tf.__version__}"
    assert tf.COMPILER_VERSION == tf.version.COMPILER_VERSION and tf.COMPILER_VERSION
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0)
    assert graph.as_graph_def().versions["producer"] == tf.GRAPH_DEF_VERSION
    assert tf.GRAPH_DEF_VERSION_MIN_CONSUMER <= tf.GRAPH_DEF_VERSION
    assert tf.GRAPH_DEF_VERSION_MIN_PRODUCER <= tf.GRAPH_DEF_VERSION
    assert (tf.CXX11_ABI_FLAG, tf.CXX_VERSION, tf.MONOLITHIC_BUILD) == (1, 201703, 0)


@pytest.fixture
def switches():
    saved = dict(compat._SWITCHES)
    yield
    compat._SWITCHES.update(saved)


def test_the_switches_report_what_was_set_and_start_as_tf1(switches):
    assert not tf.control_flow_v2_enabled() and not tf.resource_variables_enabled()
    tf.enable_control_flow_v2()
    tf.enable_resource_variables()
    assert tf.control_flow_v2_enabled() and tf.resource_variables_enabled()
    tf.disable_control_flow_v2()
    tf.disable_resource_variables()
    assert not tf.control_flow_v2_enabled() and not tf.resource_variables_enabled()
    # the control flow is the same either way: a while_loop runs and differentiates
    tf.enable_control_flow_v2()
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(2.0)
        _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])
        grad, = tf.gradients(y, [x])
        with tf.Session() as sess:
            assert sess.run([y, grad]) == [16.0, 32.0]


def test_executing_eagerly_outside_functions_follows_the_default_graph():
    assert not tf.executing_eagerly_outside_functions()
    with tf.eager():
        assert tf.executing_eagerly_outside_functions()


def test_tensor_equality_stays_tf1s():
    tf.disable_tensor_equality()
    graph = tf.Graph()
    with graph.as_default():
        a, b = tf.constant(1.0), tf.constant(1.0)
        assert a != b and a == a and len({a, b}) == 2
    with pytest.raises(NotImplementedError, match="tf.equal"):
        tf.enable_tensor_equality()


def test_enable_v2_behavior_runs_ops_eagerly_from_then_on():
    script = ("import graphc as tf\n"
              "tf.compat.v1.enable_v2_behavior()\n"
              "y = tf.constant([1.0, 2.0]) * 3.0\n"
              "print(tf.executing_eagerly(), tf.control_flow_v2_enabled(),\n"
              "      tf.resource_variables_enabled(), y.numpy().tolist())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True", "[3.0,", "6.0]"]


def test_enable_v2_behavior_after_ops_were_built_says_so():
    script = ("import graphc as tf\n"
              "tf.constant(1.0)\n"
              "tf.enable_v2_behavior()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "program startup" in done.stderr
