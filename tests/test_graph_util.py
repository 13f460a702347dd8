"""tf.graph_util: freezing a trained graph into constants, extracting and pruning GraphDefs."""
import numpy as np
import pytest

import graphc as gc


def _trained():
    rng = np.random.default_rng(0)
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [None, 3], name="x")
        w = gc.Variable(rng.standard_normal((3, 2)).astype(np.float32), name="w")
        b = gc.Variable(np.zeros(2, np.float32), name="b")
        logits = gc.nn.bias_add(gc.matmul(x, w), b)
        probs = gc.identity(gc.nn.softmax(logits), name="probs")
        loss = -gc.reduce_mean(gc.log(probs[:, 0]))
        train = gc.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=graph)
    sess.run(init)
    data = rng.standard_normal((4, 3)).astype(np.float32)
    for _ in range(3):
        sess.run(train, {x: data})
    return sess, graph, data


def test_a_frozen_graph_computes_the_outputs_alone():
    sess, graph, data = _trained()
    want = sess.run("probs:0", {"x:0": data})
    frozen = gc.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["probs"])
    assert not [n for n in frozen.node if n.op in ("variable", "assign")]
    assert {n.name for n in frozen.node if n.op == "const"} >= {"w", "b"}
    again = gc.GraphDef.FromString(frozen.SerializeToString())
    with gc.Graph().as_default() as fresh:
        gc.import_graph_def(again, name="")
        assert not gc.global_variables()
        with gc.Session(graph=fresh) as other:
            np.testing.assert_array_equal(other.run("probs:0", {"x:0": data}), want)


def test_whitelist_blacklist_and_writers_of_frozen_variables():
    sess, graph, _ = _trained()
    gd = graph.as_graph_def()
    kept = gc.graph_util.convert_variables_to_constants(sess, gd, ["probs"],
                                                        variable_names_blacklist=["b"])
    assert {n.name for n in kept.node if n.op == "variable"} == {"b"}
    only_w = gc.graph_util.convert_variables_to_constants(sess, gd, ["probs"],
                                                          variable_names_whitelist=["w"])
    assert {n.name for n in only_w.node if n.op == "variable"} == {"b"}
    with pytest.raises(ValueError, match="writes the variable 'w'"):
        gc.graph_util.convert_variables_to_constants(sess, gd, ["w/Assign"])


def test_extract_and_remove_training_nodes():
    sess, graph, data = _trained()
    gd = graph.as_graph_def()
    sub = gc.graph_util.extract_sub_graph(gd, ["probs"])
    assert "x" in {n.name for n in sub.node} and len(sub.node) < len(gd.node)
    with pytest.raises(ValueError, match="'nope' is not in graph"):
        gc.graph_util.extract_sub_graph(gd, ["nope"])
    with pytest.raises(TypeError, match="must be a list of node names"):
        gc.graph_util.extract_sub_graph(gd, "probs")
    frozen = gc.graph_util.convert_variables_to_constants(sess, gd, ["probs"])
    lean = gc.graph_util.remove_training_nodes(frozen, protected_nodes=["probs"])
    assert not [n for n in lean.node if n.op == "identity" and n.name != "probs"]
    with gc.Graph().as_default() as fresh:
        gc.import_graph_def(lean, name="")
        with gc.Session(graph=fresh) as other:
            np.testing.assert_allclose(other.run("probs:0", {"x:0": data}),
                                       sess.run("probs:0", {"x:0": data}), rtol=1e-6)
    assert gc.graph_util.tensor_shape_from_node_def_name(graph, "probs").as_list() == [None, 2]


def test_every_writer_of_a_frozen_variable_is_refused_as_the_registry_declares_it():
    sess, graph, _ = _trained()
    with graph.as_default():
        gc.scatter_add(graph.get_tensor_by_name("w:0").op.outputs[0], [0],
                       np.ones((1, 2), np.float32), name="bump")
    with pytest.raises(ValueError, match="'bump' \\(scatter_add\\) writes the variable 'w'"):
        gc.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["bump"])
