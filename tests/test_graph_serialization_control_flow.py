"""Control-flow graphs as files: conds, loops (nested, with maximum_iterations, shape
invariants, captures, TensorArrays), map_fn/scan, recurrent networks and the gradient loops
tf.gradients builds keep their subgraphs in the GraphDef's function library; a file read
back imports into a fresh graph that prints the same and computes the same. A damaged or
missing library entry is refused naming the op and attribute, changing nothing."""
import json

import numpy as np
import pytest

import graphc as tf
from graphc.control_flow import subgraphs_of
from graphc.printing import graph_as_text
from graphc.serialization import container

F64 = tf.float64


def _loops_and_conds():
    """Feeds' shapes and fetch names of a graph using every control-flow construct."""
    x = tf.placeholder(F64, [3, 4], name="x")
    w = tf.placeholder(F64, [4, 4], name="w")
    scale = tf.reduce_mean(x)  # captured by the bodies below

    def inner(j, acc):
        return j + 1, tf.tanh(tf.matmul(acc, w)) * scale

    def outer(i, h, grown, ta):
        _, h = tf.while_loop(lambda j, acc: j < 2, inner, [0, h], name="inner")
        h = tf.cond(tf.reduce_sum(h) > 0, lambda: h * 0.5, lambda: h - scale)
        grown = tf.concat([grown, h[:1]], axis=0)  # changes shape: its invariant has None
        return i + 1, h, grown, ta.write(i, tf.reduce_sum(h, axis=1))

    ta = tf.TensorArray(F64, size=0, dynamic_size=True)
    _, h, grown, ta = tf.while_loop(
        lambda i, h, grown, ta: i < 10, outer, [0, x, x[:1], ta],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([3, 4]),
                          tf.TensorShape([None, 4]), tf.TensorShape(None)],
        maximum_iterations=3, name="outer")
    mapped = tf.map_fn(lambda row: tf.reduce_sum(row * row), x)
    scanned = tf.scan(lambda acc, row: acc + row, x)
    case = tf.case([(tf.reduce_sum(x) > 100.0, lambda: x * 3.0)], default=lambda: x + 1.0)
    total = tf.reduce_sum(h) + tf.reduce_sum(grown) + tf.reduce_sum(ta.stack()) + \
        tf.reduce_sum(mapped) + tf.reduce_sum(scanned) + tf.reduce_sum(case)
    grads = tf.gradients(total, [x, w])
    return {"x:0": (3, 4), "w:0": (4, 4)}, [total.name, grown.name] + [g.name for g in grads]


def _recurrent():
    x = tf.placeholder(F64, [2, 5, 3], name="x")
    lengths = tf.placeholder(tf.int32, [2], name="lengths")
    lstm = tf.nn.rnn_cell.LSTMCell(4, use_peepholes=True)
    out, state = tf.nn.dynamic_rnn(lstm, x, sequence_length=lengths, dtype=F64, scope="uni")
    (fw, bw), _ = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.BasicRNNCell(2), x, dtype=F64, scope="bi")
    loss = tf.reduce_sum(out * out) + tf.reduce_sum(state.h) + tf.reduce_sum(tf.sin(fw)) + \
        tf.reduce_sum(bw)
    grads = tf.gradients(loss, [x] + tf.trainable_variables())
    tf.global_variables_initializer()  # named "init"
    return {"x:0": (2, 5, 3), "lengths:0": None}, [loss.name] + [g.name for g in grads]


def _built(model):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(7)  # the imported initializers draw the same weights
        feeds, fetches = model()
    return graph, feeds, fetches


def _run(graph, feeds, fetches, seed=0):
    rng = np.random.default_rng(seed)
    values = {name: (rng.normal(size=shape) if shape else np.array([5, 3], np.int32))
              for name, shape in feeds.items()}
    with tf.Session(graph=graph) as sess:
        if "init" in [op.name for op in graph.get_operations()]:
            sess.run("init")
        return sess.run(fetches, values)


def _imported(data):
    fresh = tf.Graph()
    with fresh.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(data), name="")
    return fresh


@pytest.mark.parametrize("model", [_loops_and_conds, _recurrent])
@pytest.mark.parametrize("as_text", [False, True])
def test_a_control_flow_graph_written_and_read_back_prints_and_computes_the_same(
        tmp_path, model, as_text):
    graph, feeds, fetches = _built(model)
    path = tf.train.write_graph(graph.as_graph_def(), str(tmp_path), "graph.pb", as_text)
    with open(path, "rb") as handle:
        again = _imported(handle.read())
    assert graph_as_text(again) == graph_as_text(graph)  # ops, attrs, subgraphs, nested
    assert _placements(again) == _placements(graph)
    for seed in range(2):
        for old, new in zip(_run(graph, feeds, fetches, seed), _run(again, feeds, fetches, seed)):
            np.testing.assert_array_equal(new, old)


def _placements(graph) -> list:
    """How each subgraph (nested ones too) sits in its op, in order."""
    found = []
    for op in list(graph.get_operations()) + _sub_ops(graph):
        for key, sub in subgraphs_of(op) if op.opdef.subgraphs else ():
            found.append((op.name, key, sub.label, sub.first_input, sub.captured_from,
                          sub.repeats, [t.name for t in sub.inputs],
                          [t.name for t in sub.outputs], [e.name for e in sub.effects]))
    return sorted(found)


def _sub_ops(graph):
    """Every op inside every subgraph of ``graph``, nested ones too."""
    found, stack = [], list(graph.get_operations())
    while stack:
        op = stack.pop()
        for _, sub in subgraphs_of(op) if op.opdef.subgraphs else ():
            found.extend(sub.ops())
            stack.extend(sub.ops())
    return found


def test_the_library_holds_each_subgraph_once_by_name_with_its_place_in_its_op():
    graph, _, _ = _built(_loops_and_conds)
    graph_def = graph.as_graph_def()
    outer = next(n for n in graph_def.node if n.name == "outer")
    body = graph_def.library[outer.attr["body"].name]
    loop = graph.get_operation_by_name("outer")
    assert body.label == "body" and body.repeats
    assert body.captured_from == loop.attrs["body"].captured_from
    assert len(body.node) == len(loop.attrs["body"].ops())
    inner = [n for n in body.node if n.op == "while_loop"]
    assert len(inner) == 1 and inner[0].attr["body"].name in graph_def.library  # nested
    # every subgraph (gradient loops included) is one entry
    assert len(graph_def.library) == len({id(sub) for op in graph.get_operations()
                                          + _sub_ops(graph) if op.opdef.subgraphs
                                          for _, sub in subgraphs_of(op)})


def test_a_subgraph_two_ops_share_is_stored_once_and_shared_again_on_import():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(F64, [2], name="x")
        first = tf.cond(x[0] > 0, lambda: x * 2.0, lambda: x - 1.0, name="first").op
        second = graph.create_op("cond", [first.inputs[0], x], dict(first.attrs),
                                 name="second")
    graph_def = graph.as_graph_def()
    assert len(graph_def.library) == 2  # the two branches, not four
    refs = [n.attr["branches"] for n in graph_def.node if n.op == "cond"]
    assert refs[0] == refs[1]
    again = _imported(graph_def.SerializeToString())
    ops = [again.get_operation_by_name(name) for name in ("first", "second")]
    assert all(a is b for a, b in zip(ops[0].attrs["branches"], ops[1].attrs["branches"]))
    with tf.Session(graph=again) as sess:
        np.testing.assert_array_equal(
            sess.run(["first:0", second.name + ":0"], {"x:0": [3.0, 1.0]}), [[6, 2], [6, 2]])


def test_a_file_without_control_flow_keeps_format_version_1_and_one_with_it_is_version_2():
    plain = tf.Graph()
    with plain.as_default():
        tf.add(tf.placeholder(F64, [2], name="x"), 1.0, name="y")
    looped, _, _ = _built(_loops_and_conds)
    old = plain.as_graph_def().SerializeToString()
    new = looped.as_graph_def().SerializeToString()
    assert old[8:12] == (1).to_bytes(4, "little") and new[8:12] == (2).to_bytes(4, "little")
    assert json.loads(plain.as_graph_def().SerializeToString(as_text=True))["version"] == 1
    assert len(_imported(old).get_operations()) == 3  # version 1 files still load
    with pytest.raises(tf.errors.DataLossError, match="format version 3.*upgrade"):
        tf.GraphDef.FromString(new[:8] + (3).to_bytes(4, "little") + new[12:])


def _text_with(graph, edit):
    data = json.loads(graph.as_graph_def().SerializeToString(as_text=True))
    edit(data["graph"])
    return json.dumps(data).encode("utf-8")


def _body_entry(graph_json, name="outer/body"):
    return next(f for f in graph_json["library"] if f["name"] == name)


def test_a_missing_library_entry_is_refused_naming_the_op_and_attribute():
    graph, _, _ = _built(_loops_and_conds)
    data = _text_with(graph, lambda g: g["library"].remove(_body_entry(g)))
    with pytest.raises(ValueError, match=r"attr 'body' of node 'outer' \(while_loop\) refers "
                                         r"to function 'outer/body'.*does not hold"):
        tf.GraphDef.FromString(data, "model.pbtxt")


def test_a_damaged_library_entry_is_refused_naming_the_function_op_and_attribute():
    graph, _, _ = _built(_loops_and_conds)

    def damage(g):
        _body_entry(g)["node"][2]["input"] = 7
    with pytest.raises(ValueError, match=r"model.pbtxt: function 'outer/body': node .*"
                                         r"'input'.*attr 'body' of node 'outer' \(while_loop\)"):
        tf.GraphDef.FromString(_text_with(graph, damage), "model.pbtxt")


def test_a_missing_entry_of_a_loop_nested_in_a_body_names_the_loop_inside_the_body():
    graph, _, _ = _built(_loops_and_conds)

    def drop_inner(g):
        nested = next(n for n in _body_entry(g)["node"] if n["op"] == "while_loop")
        g["library"].remove(_body_entry(g, nested["attr"]["body"]["$function"]))
    with pytest.raises(ValueError, match=r"attr 'body' of node 'outer/inner' \(while_loop\)"):
        tf.GraphDef.FromString(_text_with(graph, drop_inner), "model.pbtxt")


def test_a_subgraph_failing_to_build_leaves_the_target_graph_as_it_was():
    graph, _, _ = _built(_loops_and_conds)
    graph_def = graph.as_graph_def()
    body = graph_def.library["outer/body"]
    nested = next(n for n in body.node if n.op == "while_loop")
    deep = graph_def.library[nested.attr["body"].name]
    next(n for n in deep.node if n.op == "tanh").op = "no_such_op"
    target = tf.Graph()
    with target.as_default():
        kept = tf.placeholder(F64, [3, 4], name="kept")
        before = graph_as_text(target), dict(target._used_names)
        with pytest.raises(ValueError, match=r"importing GraphDef node 'outer': attr 'body' "
                                             r"\(while_loop\) refers to function 'outer/body'"
                                             r".*no_such_op"):
            tf.import_graph_def(graph_def, name="model")
        assert (graph_as_text(target), dict(target._used_names)) == before
        assert tf.get_default_graph().unique_name("model") == "model"  # the prefix is free
        assert kept.graph is target


def test_a_library_entry_that_lists_a_tensor_none_of_its_nodes_makes_is_refused():
    graph, _, _ = _built(_loops_and_conds)
    graph_def = graph.as_graph_def()
    graph_def.library["outer/cond"].outputs = ["nowhere:0"]
    with tf.Graph().as_default() as target:
        with pytest.raises(ValueError, match="attr 'cond' .*'outer/cond'.*'nowhere:0'"):
            tf.import_graph_def(graph_def)
        assert not target.get_operations()


def test_the_file_container_refuses_to_write_a_version_it_does_not_know():
    with pytest.raises(ValueError, match="format version 9"):
        container.encode("graph", {}, {}, version=9)


def test_an_exported_scope_keeps_the_functions_of_its_loops_named_without_the_scope():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(F64, [2], name="x")
        with tf.name_scope("tower"):
            _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])
            tf.identity(y, name="y")
        tf.cond(x[0] > 0, lambda: x, lambda: -x, name="elsewhere")  # outside the scope
    meta = tf.train.export_meta_graph(graph=graph, export_scope="tower")
    assert sorted(meta.graph_def.library) == ["tower/while/body", "tower/while/cond"]
    body = meta.graph_def.library["tower/while/body"]
    assert not [n.name for n in body.node if n.name.startswith("tower/")]
    with tf.Graph().as_default() as target:
        feed = tf.placeholder(F64, [2], name="feed")
        tf.train.import_meta_graph(meta, import_scope="copy", input_map={"x:0": feed})
        loop = target.get_operation_by_name("copy/while")
        assert all(op.name.startswith("copy/") for op in loop.attrs["body"].ops())
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run("copy/y:0", {feed: [2.0, -1.0]}), [16, 1])


def test_a_file_whose_library_is_gone_altogether_is_refused_naming_the_loop():
    graph, _, _ = _built(_loops_and_conds)
    data = _text_with(graph, lambda g: g.pop("library"))
    with pytest.raises(ValueError, match="node 'outer' \\(while_loop\\) refers to function"):
        tf.GraphDef.FromString(data, "model.pbtxt")


def test_an_optimized_loop_keeps_its_effects_through_a_file():
    """loop_dead_values drops a loop variable whose assign_add must still run: the body's
    effects name it, and the imported body lists the same op."""
    graph = tf.Graph()
    with graph.as_default():
        counter = tf.Variable(0.0, dtype=F64, name="counter")
        x = tf.placeholder(F64, [3], name="x")

        def body(i, s, effect):
            return i + 1, s * 2.0, effect + tf.assign_add(counter, 1.0)
        _, s, _ = tf.while_loop(lambda i, *_: i < 3, body, [0, x, tf.constant(0.0, F64)])
    optimized, _ = tf.optimize(graph, [s], feeds=[x])
    [loop] = [op for op in optimized.get_operations() if op.type == "while_loop"]
    assert [op.type for op in loop.attrs["body"].effects] == ["assign_add"]
    again = _imported(optimized.as_graph_def().SerializeToString())
    assert graph_as_text(again) == graph_as_text(optimized)
    effects = again.get_operation_by_name(loop.name).attrs["body"].effects
    assert [op.name for op in effects] == [op.name for op in loop.attrs["body"].effects]
