"""sibling_merge: ops doing one thing to blocks of one tensor run as one op.

Each case runs the pass alone on a tiny graph (or the whole pipeline on a training step) and
checks the rewritten graph, the PassResult, idempotence and the same results as the graph
without the pass on random inputs (NaN, Inf and an empty batch too); the cases where a
merge would change results (other strides, padding, kernel sizes or dtypes, control edges,
a member reading another) stay as they are. The registry's ``Blocks`` facts are checked
on every op declaring one: the op on blocks of its inputs gives the blocks (or the terms)
of its result.
"""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.passes import Interface, OptimizerConfig, sibling_merge
from tests import registry_cases
from tests.passes.test_unused_columns import same_results, types

WITHOUT = OptimizerConfig(disabled=("sibling_merge",))


@pytest.fixture(autouse=True)
def fresh_graph():
    with gc.Graph().as_default() as graph:
        yield graph


def conv(x, w, strides=1, padding="SAME", dilations=1):
    return gc.nn.conv2d(x, w, strides=strides, padding=padding, dilations=dilations)


def inception(x, dtype=np.float64, seed=0):
    """Three 1x1 convs of one tensor (+ bias + relu), two of them feeding bigger convs, and
    the branches concatenated: the block the pass is for. Returns (loss, variables)."""
    rng = np.random.default_rng(seed)

    def var(*shape):
        return gc.Variable(rng.normal(0, 0.5, shape).astype(dtype))
    stem = var(3, 3, x.shape.as_list()[3], 5)
    x = gc.nn.relu(conv(x, stem))  # so the block's input has a gradient too
    params = [(var(1, 1, 5, 4), var(4)), (var(1, 1, 5, 4), var(4)), (var(1, 1, 5, 2), var(2))]
    b1, b2a, b3a = (gc.nn.relu(gc.nn.bias_add(conv(x, w), b)) for w, b in params)
    w2, w3 = var(3, 3, 4, 3), var(5, 5, 2, 2)
    block = gc.concat([b1, gc.nn.relu(conv(b2a, w2)), gc.nn.relu(conv(b3a, w3))], axis=3)
    loss = gc.reduce_sum(gc.square(block)) + gc.reduce_sum(gc.sin(block))
    return loss, [v for pair in params for v in pair] + [w2, w3, stem]


def run_both(build, feeds, optimize=True):
    """The fetches of ``build()`` with the whole pipeline and without sibling_merge."""
    results, records = [], None
    for config in (optimize, WITHOUT):
        graph = gc.Graph()
        with graph.as_default():
            fetches, holders = build()
            init = gc.global_variables_initializer()
        with gc.Session(graph=graph, optimize=config) as sess:
            sess.run(init)
            results.append(sess.run(fetches, dict(zip(holders, feeds))))
            records = records or sess.optimization_records(fetches,
                                                           dict(zip(holders, feeds)))
    return results, records


def training_graph(dtype=np.float64, batch=None):
    x = gc.placeholder(dtype, [batch, 6, 6, 3], name="x")
    loss, variables = inception(x, dtype)
    return [loss] + gc.gradients(loss, variables), [x]


def test_the_inception_gradients_merge_and_match_the_unmerged_graph():
    """Backward: one input gradient (the add_n of the three goes) and one filter gradient,
    split. The forward convs stay apart: their pieces would feed the 3x3 and 5x5 convs as
    strided channel slices."""
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 3))
    (got, want), records = run_both(training_graph, [x])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    first, *_ = [r for r in records if r.name == "sibling_merge"]
    rules = [r.rule for r in records if r.name == "sibling_merge" for r in r.rewrites]
    assert rules.count("merge_siblings") == 3  # the filter gradients
    assert rules.count("merge_contraction") == 1
    assert "merge_pieces" not in rules
    before, after = first.histogram_before, records[-1].histogram_after
    for kind in ("conv2d_backprop_input", "conv2d_backprop_filter"):
        assert after[kind] == before[kind] - 2
    assert after.get("conv2d", 0) + after["with_epilogue"] == before["conv2d"]


def test_convs_whose_pieces_only_elementwise_ops_and_a_concat_read_merge_with_them():
    """The forward merge where it pays: the three 1x1 convs, bias_add and relu become one
    each (the epilogue pass then folds bias and relu into the merged conv), the pieces
    concatenated."""
    x = gc.placeholder(gc.float64, [None, 6, 6, 3], name="x")
    rng = np.random.default_rng(8)
    params = [(gc.Variable(rng.normal(size=(1, 1, 3, c))), gc.Variable(rng.normal(size=c)))
              for c in (4, 4, 2)]
    out = gc.concat([gc.nn.relu(gc.nn.bias_add(conv(x, w), b)) for w, b in params], axis=3)
    loss = gc.reduce_sum(gc.sin(out))
    result = _pass_alone([loss], [x])
    rules = [r.rule for r in result.rewrites]
    assert rules == ["merge_siblings"] * 3 + ["merge_pieces"] * 6 + ["join_pieces"]
    assert types(result.graph).count("conv2d") == 1


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_go_where_they_went(special):
    x = np.random.default_rng(2).normal(size=(2, 6, 6, 3))
    x[1, 2, 3, 0] = special
    (got, want), _ = run_both(training_graph, [x])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        finite = np.isfinite(w)
        np.testing.assert_allclose(g[finite], w[finite], rtol=1e-10, atol=1e-12)


def test_an_empty_batch_gives_the_unmerged_results():
    (got, want), _ = run_both(training_graph, [np.zeros((0, 6, 6, 3))])
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def test_float32_results_stay_within_rounding_of_the_unmerged_ones():
    x = np.random.default_rng(3).normal(size=(3, 6, 6, 3)).astype(np.float32)
    (got, want), _ = run_both(lambda: training_graph(np.float32), [x])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-5)


def test_the_merged_gradient_matches_finite_differences():
    """The gradient of the optimized graph (merged input and filter gradients) in a random
    direction of every variable, against central differences of the loss (float64)."""
    rng = np.random.default_rng(4)
    x_value = rng.normal(size=(2, 6, 6, 3))
    x = gc.placeholder(gc.float64, [None, 6, 6, 3])
    loss, variables = inception(x)
    grads = gc.gradients(loss, variables)
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        analytic = sess.run(grads, {x: x_value})
        bases = sess.run(variables)
        directions = [rng.normal(size=b.shape) for b in bases]
        eps = 1e-6
        values = []
        for sign in (1, -1):
            for v, base, d in zip(variables, bases, directions):
                v.load(base + sign * eps * d, sess)
            values.append(sess.run(loss, {x: x_value}))
        numeric = (values[0] - values[1]) / (2 * eps)
        records = sess.optimization_records(grads, {x: x_value})
    assert any(r.name == "sibling_merge" and r.changed for r in records)
    projected = sum(np.sum(g * d) for g, d in zip(analytic, directions))
    np.testing.assert_allclose(projected, numeric, rtol=1e-6)


def _pass_alone(fetches, feeds):
    graph = gc.get_default_graph()
    result = sibling_merge.run(graph, Interface(tuple(fetches), (), tuple(feeds)))
    assert not sibling_merge.run(result.graph, result.interface).changed  # idempotent
    return result


def test_convs_of_one_tensor_become_one_conv_and_its_pieces():
    x = gc.placeholder(gc.float64, [None, 5, 5, 3], name="x")
    ws = [gc.placeholder(gc.float64, [3, 3, 3, c], name=f"w{c}") for c in (2, 4)]
    fetches = [gc.tanh(conv(x, w)) for w in ws]
    result = _pass_alone(fetches, [x] + ws)
    # the tanhs of the pieces merge too (they were fetched, nothing fused with them)
    assert [r.rule for r in result.rewrites] == ["merge_siblings"] * 2 + ["merge_pieces"] * 2
    [merged] = [op for op in result.graph.get_operations() if op.type == "conv2d"]
    assert merged.outputs[0].shape.as_list() == [None, 5, 5, 6]
    rng = np.random.default_rng(5)
    same_results(result, fetches, {x: rng.normal(size=(2, 5, 5, 3)),
                                    ws[0]: rng.normal(size=(3, 3, 3, 2)),
                                    ws[1]: rng.normal(size=(3, 3, 3, 4))})


def test_elementwise_ops_on_every_piece_of_a_split_become_one_op_bitwise():
    y = gc.placeholder(gc.float32, [None, 4, 7], name="y")
    b = [gc.placeholder(gc.float32, [c], name=f"b{c}") for c in (3, 4)]
    pieces = gc.split(y, [3, 4], axis=2)
    fetches = [gc.nn.relu(gc.nn.bias_add(p, bias)) for p, bias in zip(pieces, b)]
    fetches = [gc.concat([f, f], axis=0) for f in fetches]  # the relus have other readers
    result = _pass_alone(fetches, [y] + b)
    assert [r.rule for r in result.rewrites].count("merge_pieces") == 4
    assert types(result.graph).count("relu") == 1
    rng = np.random.default_rng(6)
    feeds = {y: rng.normal(size=(2, 4, 7)).astype(np.float32),
             b[0]: rng.normal(size=3).astype(np.float32),
             b[1]: rng.normal(size=4).astype(np.float32)}
    same_results(result, fetches, feeds, rtol=0)


def test_a_concat_of_every_piece_in_order_is_the_split_tensor():
    y = gc.placeholder(gc.float64, [2, 6], name="y")
    pieces = gc.split(y, [1, 2, 3], axis=1)
    whole = gc.concat(pieces, axis=1)
    shuffled = gc.concat([pieces[1], pieces[0], pieces[2]], axis=1)
    result = _pass_alone([whole * 2.0, shuffled], [y])
    assert [r.rule for r in result.rewrites] == ["join_pieces"]
    same_results(result, [whole * 2.0, shuffled], {y: np.arange(12.0).reshape(2, 6)}, 0)


def test_a_mask_that_only_an_unmergeable_product_reads_is_not_merged():
    """relu's gradient mask (greater -> cast) fuses with the product by each upstream
    gradient; the upstream gradients are no pieces, so merging the mask alone would write
    it out instead of fusing it."""
    y = gc.placeholder(gc.float64, [None, 4, 6], name="y")
    ups = [gc.placeholder(gc.float64, [None, 4, 3], name=f"u{k}") for k in range(2)]
    pieces = gc.split(y, 2, axis=2)
    fetches = [u * gc.cast(gc.greater(p, 0.0), gc.float64) for p, u in zip(pieces, ups)]
    result = _pass_alone(fetches, [y] + ups)
    assert not result.changed


@pytest.mark.parametrize("other", [
    dict(strides=2), dict(padding="VALID"), dict(dilations=2), dict(kernel=3),
    dict(dtype=gc.float32)], ids=str)
def test_convs_that_differ_stay_apart(other):
    x = gc.placeholder(gc.float64, [None, 7, 7, 2], name="x")
    kernel = other.pop("kernel", 1)
    dtype = other.pop("dtype", gc.float64)
    w1 = gc.placeholder(gc.float64, [1, 1, 2, 3], name="w1")
    w2 = gc.placeholder(dtype, [kernel, kernel, 2, 3], name="w2")
    source = x if dtype is gc.float64 else gc.cast(x, dtype)
    fetches = [conv(x, w1), conv(source, w2, **other)]
    assert not _pass_alone(fetches, [x, w1, w2]).changed


def test_a_conv_with_a_control_edge_or_reading_its_sibling_stays():
    x = gc.placeholder(gc.float64, [None, 4, 4, 2], name="x")
    w = gc.placeholder(gc.float64, [1, 1, 2, 2], name="w")
    first = conv(x, w)
    # the second filter is computed from the first conv's result: one op, not two
    chained = conv(x, w * gc.reduce_sum(first))
    with gc.control_dependencies([gc.no_op()]):
        guarded = conv(x, w + 1.0)
    fetches = [first, chained, guarded]
    result = _pass_alone(fetches, [x, w])
    assert not result.changed


def test_the_pipeline_report_names_the_rewrites():
    x = gc.placeholder(gc.float64, [None, 6, 6, 3], name="x")
    loss, variables = inception(x)
    train = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
    _, records = gc.optimize(gc.get_default_graph(), [loss, train], feeds=[x])
    described = [r.describe() for record in records if record.name == "sibling_merge"
                 for r in record.rewrites]
    assert any(d.startswith("merge_siblings [reassociating]") for d in described)
    assert any(d.startswith("merge_contraction [reassociating]") for d in described)
    exact = gc.optimize(gc.get_default_graph(), [loss, train], feeds=[x],
                        config=OptimizerConfig(safety=("exact",)))[1]
    assert all(r.safety == "exact" for rec in exact for r in rec.rewrites
               if rec.name == "sibling_merge")


# -- the registry's Blocks facts ------------------------------------------------------------
BLOCKED = [opdef for opdef in registry.all_ops() if opdef.blocks is not None]


def _cut_in_two(value, axis):
    width = value.shape[axis]
    return np.split(value, [width // 2], axis=axis) if width > 1 else None


@pytest.mark.parametrize("opdef", BLOCKED, ids=lambda o: o.name)
def test_blocks_of_the_inputs_give_blocks_of_the_result(opdef):
    """For every sample: the kernel on two blocks of the blocked inputs gives the result's
    blocks along output_axis (or two terms summing to it)."""
    blocks = opdef.blocks
    checked = 0
    for sample in opdef.samples():
        _, [out], feeds = registry_cases.build(opdef, sample)
        op = out.op
        if not all(t in feeds for t in op.inputs):
            continue
        arrays = [feeds[t] for t in op.inputs]
        result = opdef.kernel(*arrays, **op.attrs)
        parts = [_cut_in_two(arrays[k], blocks.axis) for k in blocks.inputs]
        if any(p is None for p in parts):
            continue
        pieces = []
        for j in range(2):
            args = list(arrays)
            for k, part in zip(blocks.inputs, parts):
                args[k] = part[j]
            if blocks.sizes is not None:
                args[blocks.sizes] = np.array(args[blocks.sizes])
                args[blocks.sizes][blocks.output_axis] = parts[0][j].shape[blocks.axis]
            pieces.append(opdef.kernel(*args, **op.attrs))
        joined = (pieces[0] + pieces[1] if blocks.output_axis is None
                  else np.concatenate(pieces, axis=blocks.output_axis))
        tight = result.dtype == np.float64
        np.testing.assert_allclose(joined, result, rtol=1e-10 if tight else 1e-5,
                                   atol=1e-12 if tight else 1e-6)
        checked += 1
    assert checked


def test_a_sibling_of_unknown_rank_is_left_out():
    x = gc.placeholder(gc.float64, [None, 4, 4, 2], name="x")
    w = gc.placeholder(gc.float64, [1, 1, 2, 2], name="w")
    unknown = gc.placeholder(gc.float64, None, name="unknown")
    fetches = [conv(x, w), conv(x, unknown), conv(x, w * 2.0)]
    result = _pass_alone(fetches, [x, w, unknown])
    assert [r.rule for r in result.rewrites] == ["merge_siblings"] * 2
    rng = np.random.default_rng(7)
    same_results(result, fetches, {x: rng.normal(size=(2, 4, 4, 2)),
                                    w: rng.normal(size=(1, 1, 2, 2)),
                                    unknown: rng.normal(size=(1, 1, 2, 3))})
