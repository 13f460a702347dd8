"""graphc.dask against the NumPy Session: every declared op family on chunked feeds (uneven
chunks, dask and NumPy feeds), training, the error for undeclared ops and failed runs."""
import numpy as np
import pytest

import graphc as gc

da = pytest.importorskip("dask.array")
import graphc.dask as gd  # noqa: E402
from graphc.dask import regions  # noqa: E402

RNG = np.random.default_rng(7)


def both(graph, fetches, feeds, chunks=7, init=True, **session_args):
    """The fetches from the NumPy Session and from the dask Session (chunks of 7 rows), which
    gives the same with row-wise regions (the default) as with one task per op and chunk."""
    with gc.Session(graph=graph) as sess:
        if init:
            sess.run(gc.global_variables_initializer())
        expected = sess.run(fetches, feeds)
    results = []
    for fuse_rows in (True, False):
        with gd.Session(graph=graph, chunks=chunks, fuse_rows=fuse_rows, **session_args) as sess:
            if init:
                sess.run(gc.global_variables_initializer())
            results.append(sess.run(fetches, feeds))
    for fused, unfused in zip(*results):
        np.testing.assert_allclose(fused, unfused, rtol=1e-6, atol=1e-7)
    return expected, results[0]


def assert_same(expected, got, rtol=1e-5):
    for e, g in zip(expected, got):
        assert isinstance(g, np.ndarray) and g.dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-6)


def mlp(graph, sizes=(16, 8, 6, 4)):
    x = gc.placeholder(gc.float32, [None, sizes[0]], name="x")
    y = gc.placeholder(gc.int32, [None], name="y")
    h, variables = x, []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        w = gc.Variable(RNG.standard_normal((a, b)).astype(np.float32) * 0.3, name=f"W{i}")
        bias = gc.Variable(np.full(b, 0.1, np.float32), name=f"b{i}")
        variables += [w, bias]
        h = gc.matmul(h, w) + bias
        if i < len(sizes) - 2:
            h = gc.nn.relu(h)
    loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
    return x, y, loss, variables


def data(rows=100, features=16, classes=4):
    return (RNG.standard_normal((rows, features)).astype(np.float32),
            RNG.integers(0, classes, rows).astype(np.int32))


def test_mlp_loss_and_gradients_match_the_numpy_session(graph):
    x, y, loss, variables = mlp(graph)
    fetches = [loss] + gc.gradients(loss, variables)
    X, Y = data()
    expected, got = both(graph, fetches, {x: da.from_array(X, chunks=30), y: Y})
    assert_same(expected, got)


def region_tasks(lazy) -> int:
    import dask
    keys = dask.base.collections_to_expr(lazy, optimize_graph=True).optimize().__dask_graph__()
    return sum("graphc region" in (k[0] if isinstance(k, tuple) else k) for k in keys)


def test_row_wise_regions_run_one_compiled_plan_per_chunk(graph):
    x, y, loss, variables = mlp(graph)
    fetches = [loss] + gc.gradients(loss, variables)
    X, Y = data()
    feeds = {x: da.from_array(X, chunks=30), y: Y}  # 4 chunks
    with gd.Session(graph=graph) as sess:
        sess.run(gc.global_variables_initializer())
        # the forward, the backward and the partials of all gradients: one task per chunk
        assert region_tasks(sess.run(fetches, feeds, compute=False)) == 4
        sess.run(fetches, feeds)
        plans = dict(regions._PLANS)
        sess.run(fetches, feeds)  # a run of the same signature reuses the region's plan
        assert regions._PLANS.keys() == plans.keys() and all(
            regions._PLANS[k] is plan for k, plan in plans.items())
    with gd.Session(graph=graph, fuse_rows=False) as sess:
        sess.run(gc.global_variables_initializer())
        assert region_tasks(sess.run(fetches, feeds, compute=False)) == 0


def test_a_region_ends_where_an_op_needs_a_whole_batch_result(graph):
    x = gc.placeholder(gc.float32, [None, 3])
    centred = gc.tanh(x) - gc.reduce_mean(gc.tanh(x), axis=0)  # rows, then the batch's mean
    fetches = [gc.reduce_sum(gc.square(centred), axis=0), gc.nn.softmax(centred * 2.0)]
    X = RNG.standard_normal((40, 3)).astype(np.float32)
    assert_same(*both(graph, fetches, {x: X}, init=False))
    with gd.Session(graph=graph, chunks=10) as sess:
        assert region_tasks(sess.run(fetches, {x: X}, compute=False)) == 8  # two regions


def test_softmax_families_gather_and_reductions(graph):
    x = gc.placeholder(gc.float32, [None, 5])
    labels = gc.placeholder(gc.float32, [None, 5])
    index = gc.placeholder(gc.int32, [None])
    table = gc.constant(RNG.standard_normal((9, 3)).astype(np.float32))
    fetches = [gc.nn.softmax(x), gc.nn.log_softmax(x),
               gc.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=x),
               gc.gather(table, index), gc.expand_dims(gc.reduce_max(x, axis=1), -1),
               gc.shape(x), gc.size(x)]
    for reduce in (gc.reduce_sum, gc.reduce_mean, gc.reduce_max, gc.reduce_min):
        fetches += [reduce(x), reduce(x, axis=0), reduce(x, axis=[0, 1], keepdims=True),
                    reduce(x, axis=1)]
    feeds = {x: RNG.standard_normal((40, 5)).astype(np.float32),
             labels: RNG.dirichlet(np.ones(5), 40).astype(np.float32),
             index: RNG.integers(0, 9, 40).astype(np.int32)}
    assert_same(*both(graph, fetches, feeds, init=False))
    gradient = gc.gradients(gc.reduce_sum(fetches[2] * gc.reduce_sum(fetches[0], 1)), [x])
    assert_same(*both(graph, gradient, feeds, init=False))


def test_conv_and_pool_with_their_filter_gradients(graph):
    images = gc.placeholder(gc.float32, [None, 6, 6, 2])
    kernel = gc.Variable(RNG.standard_normal((3, 3, 2, 3)).astype(np.float32), name="K")
    features = gc.nn.conv2d(images, kernel, strides=1, padding="SAME")
    pooled = gc.nn.max_pool(features, ksize=2, strides=2, padding="VALID")
    averaged = gc.nn.avg_pool(features, ksize=2, strides=2, padding="VALID")
    loss = gc.reduce_sum(pooled * pooled) + gc.reduce_mean(averaged)
    fetches = [pooled, averaged, loss] + gc.gradients(loss, [kernel, images])
    feeds = {images: RNG.standard_normal((11, 6, 6, 2)).astype(np.float32)}
    assert_same(*both(graph, fetches, feeds, chunks=4), rtol=2e-5)


def test_empty_reductions_keep_tf1_results(graph):
    x = gc.placeholder(gc.float32, [None, 3])
    fetches = [gc.reduce_sum(x, axis=0), gc.reduce_mean(x), gc.reduce_max(x, axis=0),
               gc.reduce_min(x)]
    expected, got = both(graph, fetches, {x: da.zeros((0, 3), chunks=(1, 3), dtype=np.float32)},
                         init=False)
    assert_same(expected, got)
    assert np.isnan(got[1]) and np.all(got[2] == -np.inf) and got[3] == np.inf


def test_int32_contraction_over_the_batch_stays_int32(graph):
    a = gc.placeholder(gc.int32, [None, 3])
    b = gc.placeholder(gc.int32, [None, 2])
    fetches = [gc.matmul(a, b, transpose_a=True), gc.reduce_sum(a, axis=0)]
    feeds = {a: RNG.integers(-50, 50, (23, 3)).astype(np.int32),
             b: RNG.integers(-50, 50, (23, 2)).astype(np.int32)}
    expected, got = both(graph, fetches, feeds, init=False)
    assert [g.dtype for g in got] == [np.int32, np.int32]
    assert_same(expected, got)


def test_an_op_without_a_distribution_is_an_error_naming_it(graph):
    x = gc.placeholder(gc.float32, [None, 3])
    total = gc.reduce_logsumexp(x, axis=0, name="lse")
    with gd.Session(graph=graph, chunks=2) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match=r"op 'lse' \(reduce_logsumexp, defined at .*test_dask.py:\d+"
                                 r"\) declares no distribution") as caught:
            sess.run(total, {x: np.ones((5, 3), np.float32)})
    assert caught.value.op is total.op


def test_full_batch_and_minibatch_training_match_the_numpy_session(graph):
    x, y, loss, variables = mlp(graph)
    train = gc.train.GradientDescentOptimizer(0.5).minimize(loss)
    X, Y = data()
    with gc.Session(graph=graph) as sess:
        sess.run(gc.global_variables_initializer())
        sess.run(train, {x: X, y: Y})
        full = sess.run(variables)
        for start in range(0, 100, 32):
            sess.run(train, {x: X[start:start + 32], y: Y[start:start + 32]})
        streamed = sess.run(variables)
    with gd.Session(graph=graph, chunks=16) as sess:
        sess.run(gc.global_variables_initializer())
        sess.run(train, {x: da.from_array(X, chunks=30), y: Y})
        for expected, got in zip(full, sess.run(variables)):
            np.testing.assert_allclose(got, expected, atol=1e-6)
        for xb, yb in gd.minibatches([da.from_array(X, chunks=30), Y], 32):
            sess.run(train, {x: xb, y: yb})
        for expected, got in zip(streamed, sess.run(variables)):
            np.testing.assert_allclose(got, expected, atol=1e-6)


def test_minibatches_cover_the_rows_once_in_a_seeded_order():
    X = np.arange(20).reshape(10, 2)
    batches = list(gd.minibatches([da.from_array(X, chunks=3), X[:, 0]], 4, shuffle_seed=1))
    assert sorted(b[1].tolist() for b in batches) == [[0, 2, 4, 6], [8, 10, 12, 14], [16, 18]]
    again = list(gd.minibatches([X, X[:, 0]], 4, shuffle_seed=1))
    assert [b[1].tolist() for b in again] == [b[1].tolist() for b in batches]
    assert all(np.array_equal(b[0][:, 0], b[1]) for b in batches)
    assert len(list(gd.minibatches([X], 4, drop_remainder=True))) == 2
    with pytest.raises(ValueError, match="different lengths"):
        list(gd.minibatches([X, X[:3]], 4))


def test_a_failing_chunk_changes_no_variable_and_names_the_op(graph):
    table = gc.Variable(np.ones((4, 2), np.float32), name="table")
    index = gc.placeholder(gc.int32, [None])
    picked = gc.gather(table, index, name="pick")
    train = gc.train.GradientDescentOptimizer(1.0).minimize(gc.reduce_sum(picked))
    bad = np.array([0, 1, 2, 3, 0, 1, 9, 2], np.int32)  # 9: out of range, in the last chunk
    with gd.Session(graph=graph, chunks=3) as sess:
        sess.run(gc.global_variables_initializer())
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match=r"op '(pick|gradients/pick_grad/UnsortedSegmentSum)' \("
                                 r"(gather|unsorted_segment_sum), defined at .*test_dask.py:"
                                 r"\d+\) failed at run time on a chunk: .*(9|out of)"):
            sess.run(train, {index: bad})
        np.testing.assert_array_equal(sess.run(table), np.ones((4, 2)))
        with pytest.raises(ValueError, match="compute=False cannot stage variable writes"):
            sess.run(train, {index: bad % 4}, compute=False)
        np.testing.assert_array_equal(sess.run(table), np.ones((4, 2)))
        sess.run(train, {index: bad % 4})
        assert sess.run(table)[0, 0] == -1.0


def test_large_fetches_and_compute_false_stay_lazy(graph):
    x = gc.placeholder(gc.float32, [None, 4])
    doubled, total = x * 2.0, gc.reduce_sum(x)
    X = np.ones((50, 4), np.float32)
    with gd.Session(graph=graph, chunks=10, fetch_limit=400) as sess:
        lazy_doubled, small_total = sess.run([doubled, total], {x: X})
        assert hasattr(lazy_doubled, "dask") and lazy_doubled.chunks[0] == (10,) * 5
        np.testing.assert_array_equal(lazy_doubled.compute(), X * 2)
        assert isinstance(small_total, np.ndarray) and small_total == 200
        lazy_total = sess.run(total, {x: X}, compute=False)
        assert hasattr(lazy_total, "dask") and lazy_total.compute() == 200


def test_a_missing_dask_is_an_error_naming_the_extra(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"graphc\[dask\]"):
        gd.import_dask()


def test_every_declared_split_uses_the_vocabulary():
    """Fixed declarations name a known kind, inputs the op has, and a combine for
    reductions (callable ones are exercised by the runs above)."""
    kinds = {"elementwise", "rowwise", "reduction", "shape", "generated"}
    for opdef in gc.registry.all_ops():
        split = opdef.distribution
        if isinstance(split, gc.registry.Split):
            assert split.kind in kinds, opdef.name
            assert (split.kind == "reduction") == bool(split.combine), opdef.name
            if split.batch_shape is not None:
                assert split.batch_shape not in split.chunked, opdef.name
        else:
            assert split is None or callable(split), opdef.name


def test_random_draws_led_by_the_batch_are_chunked_and_seeded_per_chunk(graph):
    x = gc.placeholder(gc.float32, [None, 3])
    noise = gc.random_uniform(gc.shape(x), seed=5)
    kept = x * gc.cast(noise < 0.5, gc.float32)

    def draws(runs):
        with gd.Session(graph=graph, chunks=4) as sess:
            return [sess.run([noise, kept], {x: np.ones((12, 3), np.float32)})
                    for _ in range(runs)]
    (first, kept_first), (second, _) = draws(2)
    assert first.shape == (12, 3) and first.dtype == np.float32
    assert np.all((first >= 0) & (first < 1)) and not np.array_equal(first, second)
    assert not np.array_equal(first[:4], first[4:8])  # each chunk its own stream
    np.testing.assert_array_equal(kept_first, (first < 0.5).astype(np.float32))
    np.testing.assert_array_equal(draws(1)[0][0], first)  # reproducible with a seed
    with gd.Session(graph=graph, chunks=4) as sess:
        lazy = sess.run(noise, {x: np.ones((12, 3), np.float32)}, compute=False)
    assert lazy.chunks == ((4, 4, 4), (3,))  # drawn chunk by chunk, never whole on the host


def test_values_made_from_a_batch_led_shape_are_made_chunk_by_chunk(graph):
    x = gc.placeholder(gc.float32, [None, 3])
    made = [gc.fill(gc.shape(x), 3.0), gc.broadcast_to(gc.constant([1.0, 2.0, 3.0]), gc.shape(x)),
            gc.broadcast_to(gc.constant([[5.0]]), gc.shape(x))]
    X = np.ones((10, 3), np.float32)
    assert_same(*both(graph, made, {x: X}, chunks=4, init=False))
    with gd.Session(graph=graph, chunks=4) as sess:
        for lazy in sess.run(made, {x: X}, compute=False):
            assert lazy.chunks == ((4, 4, 2), (3,))  # never whole on the host


def test_batched_matmul_and_gather_along_other_axes(graph):
    """Batched products split along their batch; gather along axis 1 would move the batch
    axis, so it declares nothing and is refused."""
    a = gc.placeholder(gc.float32, [None, 2, 3])
    b = gc.placeholder(gc.float32, [None, 3, 4])
    fetches = [gc.matmul(a, b), gc.matmul(a, gc.constant(np.ones((3, 2), np.float32))),
               gc.matmul(a, gc.constant(np.ones((2, 4), np.float32)), transpose_a=True)]
    feeds = {a: RNG.standard_normal((9, 2, 3)).astype(np.float32),
             b: RNG.standard_normal((9, 3, 4)).astype(np.float32)}
    assert_same(*both(graph, fetches, feeds, chunks=4, init=False))
    index = gc.placeholder(gc.int32, [None])
    moved = gc.gather(gc.constant(np.ones((2, 5), np.float32)), index, axis=1, name="moved")
    with gd.Session(graph=graph, chunks=2) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError, match="'moved' .*no distribution"):
            sess.run(moved, {index: np.array([0, 1, 4], np.int32)})


def test_dask_feeds_are_checked_and_converted_lazily(graph):
    x = gc.placeholder(gc.float32, [None, 3])
    total = gc.reduce_sum(x)
    with gd.Session(graph=graph, chunks=2) as sess:
        assert sess.run(total, {x: da.ones((4, 3), chunks=2, dtype=np.float64)}) == 12
        with pytest.raises(ValueError, match="shape"):
            sess.run(total, {x: da.ones((4, 2), chunks=2, dtype=np.float32)})
        with pytest.raises(TypeError, match="dtype complex128"):
            sess.run(total, {x: da.ones((4, 3), chunks=2, dtype=np.complex128)})


@pytest.mark.parametrize("fuse_rows", [True, False], ids=["regions", "per-op"])
def test_float32_batch_sums_accumulate_in_float64_across_blocks_and_chunks(graph, fuse_rows):
    x = gc.placeholder(gc.float32, [None, 2])
    fetches = [gc.reduce_sum(x, axis=0), gc.matmul(x, gc.tanh(x), transpose_a=True),
               gc.reduce_mean(x)]
    X = (0.1 + np.random.default_rng(3).random((1 << 17, 2)) * 1e-3).astype(np.float32)
    wide = X.astype(np.float64)
    exact = [wide.sum(0), wide.T @ np.tanh(X).astype(np.float64), wide.mean()]
    # a float32 accumulation over 2^17 rows drifts (NumPy's row-by-row sum; the NumPy
    # Session's reduce_sum is one BLAS GEMV here, which blocks its sums and drifts less)
    assert np.max(np.abs(X.sum(0) / exact[0] - 1)) > 1e-5
    with gc.Session(graph=graph) as sess:
        assert np.max(np.abs(sess.run(fetches[0], {x: X}) / exact[0] - 1)) > 2e-7
    with gd.Session(graph=graph, chunks=1 << 15, row_block=64, fuse_rows=fuse_rows) as sess:
        got = sess.run(fetches, {x: X})
    for value, reference in zip(got, exact):
        assert value.dtype == np.float32
        np.testing.assert_allclose(value, reference, rtol=2e-7)


def test_the_session_of_the_facade_has_a_dask_backend(graph):
    import subprocess
    import sys
    x = gc.placeholder(gc.float32, [None, 3])
    total = gc.reduce_sum(x * 2.0)
    with gc.Session(graph=graph, backend="dask", chunks=4) as sess:
        assert isinstance(sess, gd.Session) and isinstance(sess, gc.Session)
        assert sess.run(total, {x: np.ones((10, 3), np.float32)}) == 60
    with gc.Session(graph=graph, backend="numpy") as sess:
        assert type(sess) is gc.Session
    with pytest.raises(ValueError, match="unknown backend 'spark'; the backends are 'numpy', "
                                         "'dask'"):
        gc.Session(graph=graph, backend="spark")
    loaded = subprocess.run([sys.executable, "-c", "import sys, graphc; print('dask' in "
                             "sys.modules)"], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"  # the facade imports graphc.dask only when asked
