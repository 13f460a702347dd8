"""Layers as modules: the layer tree and the graph's name scopes, shared variables on repeated
calls, TF1's variable names, summary figures, sub-layers run alone, failed calls."""
import numpy as np
import pytest

import graphc as gc

L = gc.layers


def _model():
    return L.Sequential([L.Conv2D(6, 3, padding="same", activation="relu"),
                         L.InceptionBlock(2, (3, 4), (1, 2), 2),
                         L.MaxPooling2D(2), L.Flatten(), L.Dense(5)], name="model")


def init_and_run(graph, fetches, feed):
    """``fetches`` in a new Session of ``graph`` with its variables initialized."""
    with graph.as_default():
        init = gc.global_variables_initializer()
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        return sess.run(fetches, feed)


def test_layer_tree_mirrors_name_scopes_and_variable_names():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 8, 8, 1], name="x")
        model = _model()
        model(x)
    paths = [path for path, _ in model.named_layers()]
    assert paths[:4] == ["model", "model/conv2d", "model/inception_block",
                         "model/inception_block/branch_1x1"]
    assert "model/inception_block/branch_3x3/conv2d_1" in paths
    assert "model/inception_block/branch_pool/max_pooling2d" in paths
    ops_by_scope = {}
    for op in g.get_operations():
        ops_by_scope.setdefault(op.name.rsplit("/", 1)[0], []).append(op)
    for path, layer in model.named_layers():
        assert layer.scope_name == path and layer.name_scope == path
        assert any(scope == path or scope.startswith(path + "/") for scope in ops_by_scope)
        for variable in layer.own_variables:
            assert variable.name.rsplit("/", 1)[0] == path
    conv = g.get_operation_by_name("model/inception_block/branch_3x3/conv2d_1/Conv2D")
    assert conv.inputs[1].op.name.startswith("model/inception_block/branch_3x3/conv2d_1/kernel")
    records = g.get_collection(L.LAYER_TREE)
    assert [r["path"] for r in records] == paths
    assert all(isinstance(r, dict) and set(r) == {"path", "name_scope", "type", "parent",
                                                  "output_shape", "params", "trainable_params",
                                                  "variables"} for r in records)
    assert records[2]["parent"] == "model" and records[2]["type"] == "InceptionBlock"


def test_calling_a_layer_again_shares_its_variables():
    g = gc.Graph()
    with g.as_default():
        a = gc.placeholder(gc.float32, [None, 8, 8, 1], name="a")
        b = gc.placeholder(gc.float32, [None, 8, 8, 1], name="b")
        model = _model()
        ya = model(a)
        count = len(gc.global_variables())
        yb = model(b)
        assert len(gc.global_variables()) == count == len(model.variables)
    assert g.get_operation_by_name("model/conv2d/Conv2D_1")  # same cluster, second call
    value = np.random.default_rng(0).random((3, 8, 8, 1), np.float32)
    out_a, out_b = init_and_run(g, [ya, yb], {a: value, b: value})
    np.testing.assert_array_equal(out_a, out_b)


def test_dense_computes_with_its_kernel_and_bias():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 3])
        layer = L.Dense(2, activation="relu", kernel_initializer=gc.constant_initializer(
            [[1.0, -1.0], [2.0, 0.5], [0.0, 1.0]]), bias_initializer=gc.constant_initializer(0.5))
        y = layer(x)
    value = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, -4.0]], np.float32)
    kernel = np.array([[1.0, -1.0], [2.0, 0.5], [0.0, 1.0]], np.float32)
    np.testing.assert_allclose(init_and_run(g, y, {x: value}),
                               np.maximum(value @ kernel + 0.5, 0), rtol=1e-6)


def test_tf1_functional_forms_use_tf1_variable_names():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 6, 6, 2])
        h = gc.layers.conv2d(x, 4, 3, kernel_regularizer=gc.contrib.layers.l2_regularizer(0.1))
        h = gc.layers.batch_normalization(h)
        h = gc.layers.max_pooling2d(h, 2, 2)
        h = gc.layers.average_pooling2d(h, 1, 1)
        h = gc.layers.dropout(gc.layers.flatten(h), 0.5)
        h = gc.layers.dense(h, 3)
        gc.layers.dense(h, 3, trainable=False)
        with gc.variable_scope("head"):
            gc.layers.dense(h, 2, name="fc", use_bias=False)
            shared = gc.layers.dense(h, 2, name="fc", use_bias=False, reuse=True)
        with pytest.raises(ValueError, match="fc/kernel already exists"):
            with gc.variable_scope("head"):
                gc.layers.dense(h, 2, name="fc", use_bias=False)
        names = [v.name for v in gc.global_variables()]
        trainable = [v.name for v in gc.trainable_variables()]
        penalties = gc.get_collection(gc.GraphKeys.REGULARIZATION_LOSSES)
    assert names == ["conv2d/kernel:0", "conv2d/bias:0", "batch_normalization/gamma:0",
                     "batch_normalization/beta:0", "batch_normalization/moving_mean:0",
                     "batch_normalization/moving_variance:0", "dense/kernel:0",
                     "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0", "head/fc/kernel:0"]
    assert "dense_1/kernel:0" not in trainable and "batch_normalization/moving_mean:0" not in \
        trainable and "dense/kernel:0" in trainable
    assert shared.shape.as_list() == [None, 2] and len(penalties) == 1
    regularized = L.Dense(2, kernel_regularizer="l2", activity_regularizer="l1")
    with g.as_default():
        regularized(h)
    assert len(regularized.losses) == 2 and penalties[0] not in regularized.losses
    kernel = g.get_tensor_by_name("conv2d/kernel:0")
    penalty, weights = init_and_run(g, [penalties[0], kernel], {})
    np.testing.assert_allclose(penalty, 0.1 * np.sum(weights ** 2) / 2, rtol=1e-5)
    assert gc.keras.layers.Dense is gc.layers.Dense and gc.compat.v1.layers is gc.layers


def test_summary_table_counts_parameters_and_shapes():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 8, 8, 5])
        block = L.InceptionBlock(2, (3, 4), (1, 2), 2)
        model = L.Sequential([block, L.BatchNormalization(), L.GlobalAveragePooling2D(),
                              L.Dense(3)])
        model(x)
    # 1x1: 5*2+2; 3x3: 5*3+3 and 9*3*4+4; 5x5: 5*1+1 and 25*1*2+2; pool: 5*2+2
    assert block.count_params() == 12 + 18 + 112 + 6 + 52 + 12 == 212
    assert model.count_params() == 212 + 4 * 10 + 10 * 3 + 3
    text = model.summary(print_fn=None)
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "params"]
    row = next(line for line in lines if line.strip().startswith("inception_block"))
    assert row.split()[1:] == ["InceptionBlock", "(None,", "8,", "8,", "10)", "212"]
    assert any(line.split()[:2] == ["branch_5x5", "Sequential"] and line.endswith(" 58")
               for line in lines)
    assert lines[-1] == "total params: 285 (trainable 265, non-trainable 20)"
    assert L.summary_table(g.get_collection(L.LAYER_TREE)) == text
    assert len(model.trainable_variables) + len(model.non_trainable_variables) == \
        len(model.variables) == 2 * 6 + 4 + 2


def test_every_sub_layer_runs_alone_with_the_shared_variables():
    g = gc.Graph()
    rng = np.random.default_rng(1)
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 8, 8, 1], name="x")
        stem = L.Conv2D(6, 3, padding="same", activation="relu")
        block = L.InceptionBlock(2, (3, 4), (1, 2), 2)
        hidden = stem(x)
        y = block(hidden)
        count = len(gc.global_variables())
        alone = {path: layer.as_model() for path, layer in block.named_layers()}
        built_in, built_out = block.build([None, 8, 8, 6])  # Keras' model.build: a model
        assert len(gc.global_variables()) == count
        fresh_in, fresh_out = L.Dense(3, name="fresh").build([None, 4])
        assert [v.name for v in gc.global_variables()[count:]] == ["fresh/kernel:0",
                                                                  "fresh/bias:0"]
        init = gc.global_variables_initializer()
    hidden_value = rng.random((2, 8, 8, 6), np.float32)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        full = sess.run(y, {hidden: hidden_value})
        block_in, block_out = alone["inception_block"]
        np.testing.assert_array_equal(sess.run(block_out, {block_in: hidden_value}), full)
        np.testing.assert_array_equal(sess.run(built_out, {built_in: hidden_value}), full)
        assert sess.run(fresh_out, {fresh_in: np.ones((2, 4))}).shape == (2, 3)
        for path, (inputs, output) in alone.items():
            feeds = inputs if isinstance(inputs, list) else [inputs]
            values = {p: rng.random([2] + p.shape.as_list()[1:], np.float32) for p in feeds}
            result = sess.run(output, values)
            layer = dict(block.named_layers())[path]
            assert list(result.shape[1:]) == layer.output_shape.as_list()[1:], path
    assert g.get_collection(L.LAYER_TREE)[0]["path"] == "conv2d"
    assert next(r for r in g.get_collection(L.LAYER_TREE)
                if r["path"] == "inception_block")["parent"] is None


def test_a_failed_call_changes_nothing_and_names_the_layer():
    g = gc.Graph()
    with g.as_default():
        images = gc.placeholder(gc.float32, [None, 8, 8])
        ops, keys = len(g.get_operations()), g.get_all_collection_keys()
        model = L.Sequential([L.Dense(3), L.Conv2D(2, 3)])  # the Dense builds, then it fails
        with pytest.raises(ValueError, match=r"Conv2D 'sequential/conv2d': inputs need rank 4, "
                                             r"got shape \(\?, 8, 3\)"):
            model(images)
        assert len(g.get_operations()) == ops and not gc.global_variables()
        assert not any(g.get_collection(k) for k in g.get_all_collection_keys()
                       if k not in keys and not k.startswith("__"))
        assert not model.built and model.scope_name is None and not model.layers[0].built
        y = model(gc.reshape(images, [-1, 8, 8, 1]))
    assert y.shape.as_list() == [None, 6, 6, 2] and model.scope_name == "sequential"
    assert [v.name for v in model.variables] == [
        "sequential/dense/kernel:0", "sequential/dense/bias:0", "sequential/conv2d/kernel:0",
        "sequential/conv2d/bias:0"]
    assert g.get_operation_by_name("sequential/conv2d/Conv2D")


def test_dropout_follows_training_and_the_learning_phase():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 1000])
        drop = L.Dropout(0.4, seed=3)
        by_phase, off, on = drop(x), drop(x, training=False), drop(x, training=True)
    value = np.ones((2, 1000), np.float32)
    with gc.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(off, {x: value}), value)
        np.testing.assert_array_equal(sess.run(by_phase, {x: value}), value)
        phase = gc.layers.learning_phase(g)
        for result in (sess.run(on, {x: value}), sess.run(by_phase, {x: value, phase: True})):
            assert set(np.unique(result)) <= {0.0, np.float32(1 / 0.6)}
            assert 0.3 < np.mean(result == 0) < 0.5


def test_small_layers_compute_what_they_say():
    g = gc.Graph()
    with g.as_default():
        ids = gc.placeholder(gc.int32, [None, 3])
        table = np.arange(12, dtype=np.float32).reshape(6, 2)
        embedded = L.Embedding(6, 2, embeddings_initializer=gc.constant_initializer(table))(ids)
        a, b = gc.placeholder(gc.float32, [None, 2]), gc.placeholder(gc.float32, [None, 2])
        summed, joined = L.Add()([a, b]), L.Concatenate()([a, b])
        act, flat = L.Activation("tanh")(a), L.Flatten()(embedded)
        leaky = L.Activation("leaky_relu")(b)
        with pytest.raises(ValueError, match="unknown activation 'swishy'"):
            L.Activation("swishy")
        with pytest.raises(TypeError, match="Embedding 'embedding_1': ids must be integers"):
            L.Embedding(6, 2)(a)
    av, bv = np.array([[1, 2]], np.float32), np.array([[3, -5]], np.float32)
    out = init_and_run(g, [embedded, summed, joined, act, flat, leaky],
                        {ids: [[0, 5, 2]], a: av, b: bv})
    np.testing.assert_array_equal(out[0], table[[[0, 5, 2]]])
    np.testing.assert_array_equal(out[1], av + bv)
    np.testing.assert_array_equal(out[2], np.concatenate([av, bv], 1))
    np.testing.assert_allclose(out[3], np.tanh(av), rtol=1e-6)
    assert out[4].shape == (1, 6)
    np.testing.assert_allclose(out[5], np.where(bv > 0, bv, 0.2 * bv), rtol=1e-6)


def test_dense_on_sequences_flatten_of_unknown_sizes_and_misuse_errors():
    g = gc.Graph()
    with g.as_default():
        seq = gc.placeholder(gc.float32, [None, 5, 3])
        dense = L.Dense(2, use_bias=False)
        out = dense(seq)
        loose = gc.placeholder(gc.float32, [None, None, 2])
        flat = L.Flatten()(loose)
        model = L.Sequential([L.Dense(2)])
        model(gc.placeholder(gc.float32, [None, 3]))
        with pytest.raises(ValueError, match="was already called; add layers before"):
            model.add(L.Dense(1))
        with pytest.raises(RuntimeError, match=r"add_weight\('w'\): variables are made in"):
            L.Dense(1).add_weight("w", [1])
        with pytest.raises(ValueError, match="the last axis of the inputs must be known"):
            L.Dense(1)(gc.placeholder(gc.float32, [None, None]))
    assert out.shape.as_list() == [None, 5, 2] and flat.shape.rank == 2
    other = gc.Graph()
    with other.as_default(), pytest.raises(ValueError, match="was built in another graph"):
        dense(gc.placeholder(gc.float32, [None, 5, 3]))
    value = np.random.default_rng(4).random((2, 5, 3), np.float32)
    loose_value = np.ones((3, 4, 2), np.float32)
    result, flattened, kernel = init_and_run(g, [out, flat, dense.kernel],
                                             {seq: value, loose: loose_value})
    np.testing.assert_allclose(result, value @ kernel, rtol=1e-5)
    assert flattened.shape == (3, 8)
