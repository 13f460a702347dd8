"""variable_scope and get_variable with TF1's semantics: sharing, names, reuse rules and errors,
scope defaults, value initializers, custom getters, and atomic failure."""
import threading

import numpy as np
import pytest

import graphc as gc


@pytest.fixture
def graph():
    g = gc.Graph()
    with g.as_default():
        yield g


def _run(fetches, feed_dict=None):
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def test_variables_take_the_variable_scope_and_ops_the_name_scope(graph):
    with gc.variable_scope("a") as scope:
        with gc.variable_scope("b"):
            w = gc.get_variable("w", [2, 3])
            y = gc.identity(w)
    assert (w.name, y.name, w.op.name) == ("a/b/w:0", "a/b/Identity:0", "a/b/w")
    assert scope.name == "a" and scope.original_name_scope == "a/"
    assert graph.get_operation_by_name("a/b/w/Initializer/random_uniform").type == "add"
    with gc.name_scope("outer"), gc.variable_scope("c"):
        v = gc.get_variable("v", [1])
        z = gc.identity(v)
    assert (v.name, z.name) == ("c/v:0", "outer/c/Identity:0")  # variables ignore name scopes


def test_reentered_scope_reuses_its_variable_names_but_opens_a_new_name_scope(graph):
    with gc.variable_scope("a") as scope:
        w = gc.get_variable("w", [3])
        first = gc.identity(w)
    with gc.variable_scope("a", reuse=True):
        same = gc.get_variable("w", [3])
        second = gc.identity(same)
    with gc.variable_scope(scope, reuse=True) as again:
        third = gc.identity(gc.get_variable("w"))
    assert same is w and again.name == "a" and again.original_name_scope == "a/"
    assert [t.op.name for t in (first, second, third)] == ["a/Identity", "a_1/Identity",
                                                           "a_2/Identity"]


def test_scope_object_is_entered_as_is_from_inside_other_scopes(graph):
    with gc.variable_scope("outer") as outer:
        pass
    with gc.variable_scope("elsewhere"):
        with gc.variable_scope(outer):
            v = gc.get_variable("v", [1])
            assert gc.get_variable_scope().name == "outer"
        with gc.variable_scope("inner"):
            assert gc.get_variable_scope().name == "elsewhere/inner"
    assert v.name == "outer/v:0"


def test_default_name_is_made_unique_and_reset_inside_a_reentered_parent(graph):
    names = []
    for _ in range(3):
        with gc.variable_scope(None, default_name="dense") as scope:
            names.append((scope.name, gc.get_variable("k", [1]).name))
    assert names == [("dense", "dense/k:0"), ("dense_1", "dense_1/k:0"),
                     ("dense_2", "dense_2/k:0")]
    # Re-entering "net" starts its default names again, so layers built the same way share.
    made = []
    for reuse in (None, True):
        with gc.variable_scope("net", reuse=reuse):
            for _ in range(2):
                with gc.variable_scope(None, default_name="layer"):
                    made.append(gc.get_variable("W", [2]))
    assert [v.name for v in made[:2]] == ["net/layer/W:0", "net/layer_1/W:0"]
    assert made[2] is made[0] and made[3] is made[1]


def test_reuse_is_inherited_and_cannot_be_switched_off_inside(graph):
    with gc.variable_scope("a"):
        gc.get_variable("w", [1])
        with gc.variable_scope("b"):
            gc.get_variable("v", [1])
    with gc.variable_scope("a", reuse=True) as scope:
        assert scope.reuse is True
        with gc.variable_scope("b", reuse=False) as inner:
            assert inner.reuse is True and gc.get_variable("v", [1]).name == "a/b/v:0"
    with gc.variable_scope("c") as scope:
        assert scope.reuse is False
        gc.get_variable("w", [1])
        scope.reuse_variables()
        assert gc.get_variable("w", [1]).name == "c/w:0"


def test_auto_reuse_creates_once_then_gets(graph):
    def tower():
        with gc.variable_scope("tower", reuse=gc.AUTO_REUSE):
            return gc.get_variable("w", [2])
    assert tower() is tower()
    assert len(gc.global_variables()) == 1 and gc.get_variable_scope().reuse is False


def test_unintended_second_creation_names_the_variable_and_where_it_was_made(graph):
    with gc.variable_scope("a"):
        gc.get_variable("w", [3])
    before = len(graph.get_operations())
    with pytest.raises(ValueError) as err, gc.variable_scope("a"):
        gc.get_variable("w", [3])
    message = str(err.value)
    assert message.startswith("Variable a/w already exists, disallowed. Did you mean to set "
                              "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
    assert "test_variable_scope.py" in message  # "Originally defined at" the user's line
    assert len(graph.get_operations()) == before + 0 and len(gc.global_variables()) == 1


def test_reuse_of_a_missing_variable_names_it(graph):
    with pytest.raises(ValueError, match=r"^Variable a/w does not exist, or was not created "
                       r"with tf.get_variable\(\). Did you mean to set reuse=tf.AUTO_REUSE"):
        with gc.variable_scope("a", reuse=True):
            gc.get_variable("w", [3])
    gc.Variable(np.zeros(3), name="plain")  # tf.Variable is not in the store
    with pytest.raises(ValueError, match="Variable plain does not exist"):
        with gc.variable_scope(gc.get_variable_scope(), reuse=True):
            gc.get_variable("plain", [3])


def test_reuse_checks_shape_and_dtype(graph):
    with gc.variable_scope("a"):
        gc.get_variable("w", [3, 4])
    with gc.variable_scope("a", reuse=True):
        assert gc.get_variable("w", [None, 4]).shape == (3, 4)
        with pytest.raises(ValueError, match=r"share variable a/w, but specified shape "
                           r"\(3, 5\) and found shape \(3, 4\)"):
            gc.get_variable("w", [3, 5])
        with pytest.raises(ValueError, match="specified dtype float64 and found dtype float32"):
            gc.get_variable("w", [3, 4], dtype=gc.float64)


def test_default_initializers_and_dtypes(graph):
    w = gc.get_variable("w", [200, 300])
    i = gc.get_variable("i", [4], dtype=gc.int32)
    b = gc.get_variable("b", [2], dtype=gc.bool)
    wv, iv, bv = _run([w, i, b])
    limit = np.sqrt(6.0 / 500)  # glorot_uniform
    assert wv.dtype == np.float32 and np.abs(wv).max() <= limit and wv.std() > 0.9 * limit / 2
    assert iv.tolist() == [0] * 4 and bv.tolist() == [False, False]
    with pytest.raises(ValueError, match=r"Shape of a new variable \(u\) must be fully defined"):
        gc.get_variable("u", [None, 3])


def test_scope_defaults_for_initializer_dtype_and_regularizer_are_inherited(graph):
    reg = gc.contrib.layers.l2_regularizer(0.5)
    with gc.variable_scope("s", initializer=gc.ones_initializer(), dtype=gc.float64,
                           regularizer=reg):
        with gc.variable_scope("t"):
            w = gc.get_variable("w", [2])
            v = gc.get_variable("v", [2], initializer=gc.zeros_initializer(),
                                regularizer=gc.no_regularizer)
    assert w.dtype == gc.float64 and v.dtype == gc.float64
    (penalty,) = gc.losses.get_regularization_losses()
    assert penalty.name == "s/t/w/Regularizer/l2_regularizer:0"
    wv, vv, pv = _run([w, v, penalty])
    assert wv.tolist() == [1, 1] and vv.tolist() == [0, 0] and pv == 0.5 * 2 / 2


def test_value_initializers_give_shape_and_dtype(graph):
    t = gc.get_variable("t", initializer=gc.constant([[1.0, 2.0]]))
    a = gc.get_variable("a", initializer=np.arange(3, dtype=np.int64))
    p = gc.get_variable("p", initializer=[1.0, 2.0], dtype=gc.float64)
    i = gc.get_variable("i", initializer=[1, 2])
    assert [(v.shape, v.dtype) for v in (t, a, p, i)] == [
        ((1, 2), gc.float32), ((3,), gc.int64), ((2,), gc.float64), ((2,), gc.int32)]
    assert _run(p).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="'s': if initializer is a constant, do not specify "
                       "shape"):
        gc.get_variable("s", [2], initializer=np.zeros(2))
    with pytest.raises(ValueError, match="initializer type 'float64' and explicit dtype "
                       "'float32' don't match"):
        gc.get_variable("m", initializer=np.zeros(2), dtype=gc.float32)


def test_initializer_callables_classes_and_partition_info(graph):
    seen = {}

    def custom(shape, dtype=None, partition_info=None):
        seen.update(shape=shape, dtype=dtype, partition_info=partition_info)
        return gc.fill(shape, 3.0)
    c = gc.get_variable("c", [2, 2], initializer=custom)
    z = gc.get_variable("z", [2], initializer=gc.zeros_initializer)  # a class: instantiated
    n = gc.get_variable("n", initializer=lambda: gc.ones([3]))  # no arguments: shape from it
    assert seen == {"shape": [2, 2], "dtype": gc.float32, "partition_info": None}
    assert n.shape == (3,)
    assert [v.tolist() for v in _run([c, z, n])] == [[[3, 3], [3, 3]], [0, 0], [1, 1, 1]]


def test_trainable_and_collections(graph):
    frozen = gc.get_variable("frozen", [1], trainable=False)
    local = gc.get_local_variable("count", [], dtype=gc.int32)
    mine = gc.get_variable("mine", [1], collections=["mine"])
    assert gc.trainable_variables() == [mine]
    assert frozen in gc.global_variables() and local not in gc.global_variables()
    assert gc.local_variables() == [local] and local not in gc.trainable_variables()
    assert gc.get_collection("mine") == [mine] and mine in gc.trainable_variables()
    assert mine not in gc.global_variables()


def test_scope_collections_and_variables(graph):
    with gc.variable_scope("enc") as scope:
        w = gc.get_variable("w", [1])
        gc.get_variable("frozen", [1], trainable=False)
    gc.get_variable("encoder_w", [1])  # "enc" is a prefix of the name, not its scope
    assert scope.trainable_variables() == [w] and len(scope.global_variables()) == 2


def test_custom_getters_compose_from_outer_to_inner(graph):
    calls = []

    def outer(getter, name, *args, **kwargs):
        calls.append(("outer", name))
        return getter(name, *args, **kwargs)

    def inner(getter, name, *args, **kwargs):
        calls.append(("inner", name))
        kwargs["trainable"] = False
        return getter(name, *args, **kwargs)
    with gc.variable_scope("o", custom_getter=outer), gc.variable_scope("i",
                                                                        custom_getter=inner):
        v = gc.get_variable("v", [2])
    assert calls == [("inner", "o/i/v"), ("outer", "o/i/v")]
    assert v.name == "o/i/v:0" and v not in gc.trainable_variables()


def test_values_pick_the_graph_and_stores_are_per_graph():
    g1, g2 = gc.Graph(), gc.Graph()
    with g1.as_default():
        x = gc.placeholder(gc.float32, [2])
    with g2.as_default():
        with gc.variable_scope("s", values=[x]):
            w = gc.get_variable("w", [2])
        other = gc.get_variable("s/w", [2])  # g2 has its own store: no clash
    assert w.graph is g1 and other.graph is g2


def test_failed_creation_changes_nothing(graph):
    def broken(weights):
        raise RuntimeError("regularizer failed")
    before = len(graph.get_operations())
    with pytest.raises(RuntimeError, match="regularizer failed"):
        gc.get_variable("w", [2], regularizer=broken)
    assert len(graph.get_operations()) == before and gc.global_variables() == []
    assert gc.get_variable("w", [2]).name == "w:0"  # the name was not taken


def test_bad_arguments(graph):
    with pytest.raises(ValueError, match="reuse parameter must be True or False or None"):
        gc.variable_scope("a", reuse="yes")
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        gc.variable_scope(None, default_name="d", reuse=True)
    with pytest.raises(TypeError, match="name_or_scope is required"):
        gc.variable_scope(None)
    with pytest.raises(TypeError, match="must be a string or VariableScope"):
        gc.variable_scope(3)
    with pytest.raises(NotImplementedError, match="partitioned"):
        gc.get_variable("p", [4], partitioner=lambda shape, dtype: [2])


def test_auxiliary_name_scope_false_opens_no_name_scope(graph):
    with gc.name_scope("ns"):
        with gc.variable_scope("v", auxiliary_name_scope=False) as scope:
            y = gc.identity(gc.get_variable("w", [1]))
    assert scope.name == "v" and scope.original_name_scope == "ns/"
    assert y.op.name == "ns/Identity"


def test_each_thread_starts_at_the_root_scope(graph):
    seen = []

    def worker():
        with graph.as_default():
            seen.append(gc.get_variable_scope().name)
    with gc.variable_scope("main"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen == [""]


def test_two_towers_share_weights_and_both_send_gradients(graph):
    x1 = gc.placeholder(gc.float32, [None, 3])
    x2 = gc.placeholder(gc.float32, [None, 3])

    def tower(x, reuse):
        with gc.variable_scope("shared", reuse=reuse):
            W = gc.get_variable("W", [3, 2], initializer=gc.random_normal_initializer(seed=1))
            return gc.reduce_sum(gc.matmul(x, W)), W
    y1, W1 = tower(x1, None)
    y2, W2 = tower(x2, True)
    y3, W3 = tower(x1, gc.AUTO_REUSE)
    assert W1 is W2 is W3 and gc.trainable_variables() == [W1]
    (grad,) = gc.gradients(y1 + 2.0 * y2, [W1])
    a, b = np.ones((4, 3), np.float32), np.arange(6, dtype=np.float32).reshape(2, 3)
    value = _run(grad, {x1: a, x2: b})
    expected = a.sum(0)[:, None] + 2.0 * b.sum(0)[:, None]  # d/dW of sum(xW) is colsum(x)
    np.testing.assert_allclose(value, np.repeat(expected, 2, axis=1))
