"""Meta graphs beyond the plain round trip: the .meta of a checkpoint brings back its own
Saver, export and import scopes, unbound inputs, refined shapes and the text form."""
import numpy as np
import pytest

import graphc as gc


def _tower(scope):
    with gc.variable_scope(scope):
        x = gc.placeholder(gc.float32, (None, 2), name="x")
        W = gc.get_variable("W", [2, 2], initializer=gc.constant_initializer(0.5))
        return x, gc.matmul(x, W, name="y")


def test_the_meta_graph_of_a_checkpoint_rebuilds_its_saver_on_the_same_ops(tmp_path):
    graph = gc.Graph()
    with graph.as_default():
        _, y = _tower("net")
        saver = gc.train.Saver(max_to_keep=None, pad_step_number=True)
        init = gc.global_variables_initializer()
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        paths = [saver.save(sess, str(tmp_path / "m.ckpt"), global_step=i) for i in range(7)]
    assert paths[-1].endswith("m.ckpt-00000006") and len(saver.last_checkpoints) == 7
    again = gc.Graph()
    with again.as_default():
        restored_saver = gc.train.import_meta_graph(paths[-1] + ".meta")
    assert [op.name for op in again.get_operations()] == \
        [op.name for op in graph.get_operations()]  # no second set of save ops
    with gc.Session(graph=again) as sess:
        restored_saver.restore(sess, paths[0])
        np.testing.assert_array_equal(sess.run("net/W:0"), np.full((2, 2), 0.5))


def test_export_scope_then_import_scope_with_the_unbound_input_mapped(tmp_path):
    graph = gc.Graph()
    with graph.as_default():
        shared = gc.placeholder(gc.float32, (None, 2), name="shared")
        with gc.variable_scope("tower_0"):
            W = gc.get_variable("W", [2, 2], initializer=gc.constant_initializer(2.0))
            y = gc.matmul(shared, W, name="y")
        gc.add_to_collection("outputs", y)
        gc.add_to_collection("outputs", shared)  # outside the scope: not exported
        saver = gc.train.Saver()
        init = gc.global_variables_initializer()
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        checkpoint = saver.save(sess, str(tmp_path / "full.ckpt"))
    meta = gc.train.export_meta_graph(str(tmp_path / "tower.meta"), graph=graph,
                                      export_scope="tower_0")
    assert {node.name for node in meta.graph_def.node} == {"W", "W/Initializer/Const",
                                                           "W/Assign", "W/read", "y"}
    assert meta.collection_def["outputs"] == [("tensor", "y:0")]
    assert meta.graph_def.node[-1].input[0] == "shared:0"  # unbound: full name kept
    target = gc.Graph()
    with target.as_default():
        feed = gc.placeholder(gc.float32, (None, 2), name="feed")
        with pytest.raises(ValueError, match="shared"):
            gc.train.import_meta_graph(str(tmp_path / "tower.meta"), import_scope="copy")
        assert len(target) == 1  # the failed import left nothing behind
        tower_saver = gc.train.import_meta_graph(str(tmp_path / "tower.meta"),
                                                 import_scope="copy",
                                                 input_map={"shared:0": feed})
        assert [v.name for v in gc.global_variables()] == ["copy/W:0"]
        assert gc.get_collection("outputs")[0].name == "copy/y:0"
        copy_saver = gc.train.Saver({"tower_0/W": gc.global_variables()[0]})
    assert tower_saver is not None
    with gc.Session(graph=target) as sess:
        copy_saver.restore(sess, checkpoint)
        np.testing.assert_array_equal(sess.run("copy/y:0", {feed: np.ones((1, 2))}),
                                      [[4.0, 4.0]])


def test_refined_shapes_and_the_text_form_survive(tmp_path):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, None, name="x")
        x.set_shape([None, 3])
        gc.reduce_sum(x, axis=1, name="total")
        gc.add_to_collection("notes", ("text", 1, np.arange(3), None, {"nested": [1.5]}))
    path = str(tmp_path / "graph.meta")
    gc.train.export_meta_graph(path, graph=graph, as_text=True)
    assert open(path).read().lstrip().startswith("{")
    with gc.Graph().as_default() as again:
        assert gc.train.import_meta_graph(path) is None  # no variables: no Saver, as TF1
        assert again.get_tensor_by_name("x:0").shape.as_list() == [None, 3]
        assert again.get_tensor_by_name("total:0").shape.as_list() == [None]
        note, = gc.get_collection("notes")
    assert note[:2] == ("text", 1) and note[3] is None and note[4] == {"nested": [1.5]}
    np.testing.assert_array_equal(note[2], np.arange(3))


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_run_bit_for_bit_the_same_after_a_meta_graph_round_trip(seed):
    from tests.random_graphs import generate
    recipe = generate(seed)
    built = recipe.build()
    data = gc.train.export_meta_graph(graph=built.graph).SerializeToString()
    again = gc.Graph()
    with again.as_default():
        gc.train.import_meta_graph(gc.train.MetaGraphDef.FromString(data))
    copies = [again.as_graph_element(f.name) for f in built.fetches]
    runs = []
    for graph, fetches, holders in ((built.graph, built.fetches, built.placeholders),
                                    (again, copies, [again.get_tensor_by_name(h.name)
                                                     for h in built.placeholders])):
        with gc.Session(graph=graph) as sess:
            sess.run(graph.get_operation_by_name(built.init.name))
            runs.append([_outcome(sess, fetches, dict(zip(holders, recipe.feeds(built, call)
                                                          .values()))) for call in range(2)])
    for want_call, got_call in zip(*runs):
        if isinstance(want_call, str) or isinstance(got_call, str):
            assert got_call == want_call  # a run that fails fails the same way after loading
            continue
        for want, got in zip(want_call, got_call):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def _outcome(sess, fetches, feeds):
    """The run's values, or the failing op's type and error class (a drawn graph may divide
    integers by zero)."""
    try:
        return sess.run(fetches, feeds)
    except gc.errors.OpError as err:
        return f"{type(err).__name__} in {err.op.type if err.op is not None else None}"
