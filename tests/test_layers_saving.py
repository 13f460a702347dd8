"""A layer model through tf.train.Saver: the layer tree (plain dicts in the graph's
``layer_tree`` collection) and the learning phase come back with the meta graph, and the
restored model computes what the trained one did."""
import numpy as np

import graphc as gc
from graphc.viz.layer_tree import layer_tree_digraph

L = gc.layers


def test_the_layer_tree_and_values_survive_a_saved_meta_graph(tmp_path):
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 6, 6, 2], name="x")
        model = L.Sequential([L.Conv2D(3, 3, activation="relu"), L.BatchNormalization(),
                              L.Dropout(0.5), L.Flatten(), L.Dense(4)], name="net")
        y = gc.identity(model(x), name="y")
        init = gc.global_variables_initializer()
        saver = gc.train.Saver()
    value = np.random.default_rng(0).random((2, 6, 6, 2), np.float32)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        expected = sess.run(y, {x: value})
        path = saver.save(sess, str(tmp_path / "net"))
    loaded = gc.Graph()
    with loaded.as_default():
        restorer = gc.train.import_meta_graph(path + ".meta")
    assert loaded.get_collection(L.LAYER_TREE) == g.get_collection(L.LAYER_TREE)
    assert L.summary_table(loaded.get_collection(L.LAYER_TREE)) == model.summary(None)
    assert layer_tree_digraph(loaded).source == layer_tree_digraph(g).source
    phase = loaded.get_collection("__learning_phase")
    assert [t.name for t in phase] == ["keras_learning_phase:0"]
    with gc.Session(graph=loaded) as sess:
        restorer.restore(sess, path)
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": value}), expected)
        dropped = sess.run("y:0", {"x:0": value, phase[0]: True})
    assert not np.array_equal(dropped, expected)  # the switch still drives dropout
