"""Batch regions (graphc.runtime.batch_regions): runs of ops that split along the batch run
piece by piece on the pool's threads, with the results of the ops run one by one (to float
rounding; the same bits whatever the load); every fallback (mismatched batches, batch 1, a
failing op) gives what the plan without regions gives, and errors name the user's op."""
import contextlib
import threading

import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.errors import InvalidArgumentError
from graphc.ops import batch_split
from graphc.runtime import batch_regions, plan as plan_module, region_pieces, region_step, threads

F = gc.float32


@pytest.fixture
def two_threads(monkeypatch):
    """The pool policy of two or more threads (regions form for 2+), with regions split in
    pieces from 1K elements per op (not 256K) so that small graphs run split."""
    policy = threads.ensure_applied()
    if policy.pool_threads < 2 or threads.pool() is None:
        pytest.skip("needs the pool policy with two or more threads")
    monkeypatch.setattr(batch_split, "MIN_SPLIT_ELEMENTS", 1 << 10)
    pieces: list = []
    run = region_pieces.PieceProgram.run

    def counted(self, arena, args, kinds, lo, hi, results, alone):
        pieces.append((lo, hi, alone))
        return run(self, arena, args, kinds, lo, hi, results, alone)
    monkeypatch.setattr(region_pieces.PieceProgram, "run", counted)
    return pieces


def _regions(sess):
    return [step for plan in sess._plans.values() for step in plan.steps
            if isinstance(step, region_step.BatchRegion)]


def _cnn(batch=None, size=12, channels=3):
    """A conv + bias + ReLU, a stride-1 max pool and a 1x1 conv branch concatenated, a 2x2
    pool, global mean, dense, softmax cross-entropy, SGD: W7's kinds of ops."""
    rng = np.random.default_rng(0)
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (batch, size, size, channels), name="images")
        labels = gc.placeholder(gc.int32, (batch,), name="labels")

        def conv(h, kh, c_in, c_out, name):
            w = gc.Variable(rng.normal(0, 0.3, (kh, kh, c_in, c_out)).astype(np.float32),
                            name=f"{name}_w")
            b = gc.Variable(rng.normal(0, 0.1, c_out).astype(np.float32), name=f"{name}_b")
            return gc.nn.relu(gc.nn.bias_add(gc.nn.conv2d(h, w, 1, "SAME"), b))
        h = conv(x, 3, channels, 8, "c1")
        block = gc.concat([conv(h, 1, 8, 4, "b1"), conv(h, 3, 8, 4, "b2"),
                           conv(gc.nn.max_pool(h, 3, 1, "SAME"), 1, 8, 4, "b3")], axis=3)
        features = gc.reduce_mean(gc.nn.max_pool(block, 2, 2, "VALID"), axis=[1, 2])
        w = gc.Variable(rng.normal(0, 0.3, (12, 5)).astype(np.float32), name="dense_w")
        logits = gc.matmul(features, w)
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        grads = gc.gradients(loss, gc.trainable_variables())
        train = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = gc.global_variables_initializer()
    return g, x, labels, h, block, loss, grads, train, init


def _data(n, size=12, channels=3, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, size, size, channels)).astype(np.float32),
            rng.integers(0, 5, n).astype(np.int32))


@contextlib.contextmanager
def _regions_or_not(monkeypatch, regions: bool):
    with monkeypatch.context() as patches:
        if not regions:
            patches.setattr(plan_module, "form_regions", lambda steps, *args: steps)
        yield


def _steps(monkeypatch, regions: bool, batches):
    """Per batch, the fetched values (then one SGD step) of a fresh session of ``_cnn``."""
    g, x, labels, h, block, loss, grads, train, init = _cnn()
    got = []
    with _regions_or_not(monkeypatch, regions), gc.Session(graph=g) as sess:
        sess.run(init)
        for images, ys in batches:
            got.append(sess.run([h, block, loss] + grads, {x: images, labels: ys}))
            sess.run(train, {x: images, labels: ys})
        formed = len(_regions(sess))
    return got, formed


def _compare(with_regions, without):
    """Equal to float rounding: a piece's kernels may round otherwise than the whole
    batch's (a GEMM of other rows, a conv algorithm timed for the piece's shape), as with
    any thread count; NaN where NaN."""
    for run_a, run_b in zip(with_regions, without):
        for a, b in zip(run_a, run_b):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, equal_nan=True)


@pytest.mark.parametrize("sizes", [(32, 32, 32), (17, 32, 5, 17)])
def test_a_training_step_in_regions_matches_the_ops_run_one_by_one(monkeypatch, two_threads,
                                                                   sizes):
    batches = [_data(n, seed=k) for k, n in enumerate(sizes)]  # odd sizes, shapes changing
    with_regions, formed = _steps(monkeypatch, True, batches)
    assert any(not alone for _, _, alone in two_threads)  # pieces on two threads
    without, none = _steps(monkeypatch, False, batches)
    assert formed >= 2 and none == 0  # the forward pass and the backward pass
    _compare(with_regions, without)


def test_pieces_run_one_after_another_under_load_give_the_same_bits(monkeypatch,
                                                                    two_threads):
    batches = [_data(32, seed=k) for k in range(3)]
    quiet, _ = _steps(monkeypatch, True, batches)
    pool = threads.pool()
    monkeypatch.setattr(type(pool), "idle", lambda self: False)
    monkeypatch.setattr(type(pool), "_heavily_loaded", lambda self: True)
    g, x, labels, h, block, loss, grads, train, init = _cnn()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        for (images, ys), expected in zip(batches, quiet):
            got = sess.run([h, block, loss] + grads, {x: images, labels: ys})
            for a, b in zip(got, expected):
                np.testing.assert_array_equal(a, b)
            sess.run(train, {x: images, labels: ys})


def test_fetched_region_values_are_the_callers_and_never_written_again(two_threads):
    g, x, labels, h, block, loss, grads, train, init = _cnn()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        images, ys = _data(32)
        first = sess.run([h, block], {x: images, labels: ys})
        copies = [value.copy() for value in first]
        first[0][...] = 7.0  # the caller's own array
        for seed in range(2, 5):
            other = sess.run([h, block], {x: _data(32, seed=seed)[0], labels: ys})
            assert not any(np.shares_memory(a, b) for a in other for b in first)
        np.testing.assert_array_equal(first[1], copies[1])
        again = sess.run([h, block], {x: images, labels: ys})
        np.testing.assert_array_equal(again[0], copies[0])


def test_concurrent_runs_of_one_session_each_get_their_own_results(two_threads):
    g, x, labels, h, block, loss, grads, train, init = _cnn()
    data = [_data(24, seed=k) for k in range(4)]
    with gc.Session(graph=g) as sess:
        sess.run(init)
        expected = [sess.run([block] + grads, {x: d, labels: y}) for d, y in data]
        errors, got = [], {}

        def worker(k):
            try:
                for _ in range(5):
                    got.setdefault(k, []).append(sess.run([block] + grads,
                                                          {x: data[k][0], labels: data[k][1]}))
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)
        workers = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    assert not errors
    for k, runs in got.items():
        for values in runs:
            for a, b in zip(values, expected[k]):
                np.testing.assert_array_equal(a, b)


def _chain():
    """Wide enough rows to form a region (batch_regions.LARGEST_BATCH)."""
    g = gc.Graph()
    with g.as_default():
        a = gc.placeholder(gc.float64, (None, 64), name="a")
        b = gc.placeholder(gc.float64, (None, 64), name="b")
        w = gc.Variable(np.arange(64.0 * 300).reshape(64, 300) / 7000, name="w")
        total = gc.nn.relu(gc.matmul(gc.tanh(a) * b, w))
        summed = gc.reduce_sum(total, axis=0)
        init = gc.global_variables_initializer()
    return g, a, b, w, total, summed, init


@pytest.mark.parametrize("a_rows, b_rows", [(6, 1), (1, 1), (6, 6), (0, 0), (5000, 5000)])
def test_inputs_with_or_without_one_batch_give_numpys_results(two_threads, a_rows, b_rows):
    """A row input broadcast against another, a batch of 1 or of 0 (the ops run whole), a
    batch large enough to split."""
    g, a, b, w, total, summed, init = _chain()
    rng = np.random.default_rng(3)
    va, vb = rng.normal(size=(a_rows, 64)), rng.normal(size=(b_rows, 64))
    wv = np.arange(64.0 * 300).reshape(64, 300) / 7000
    expected = np.maximum((np.tanh(va) * vb) @ wv, 0)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(2):  # the key's first run, then its layout's
            got_total, got_sum = sess.run([total, summed], {a: va, b: vb})
            np.testing.assert_allclose(got_total, expected, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(got_sum, expected.sum(axis=0), rtol=1e-12, atol=1e-12)
        assert _regions(sess)


def test_a_failing_op_in_a_region_names_itself_and_changes_no_variable(two_threads):
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (None, None), name="x")
        w = gc.Variable(np.ones((3, 300)), name="w")
        hidden = gc.matmul(gc.tanh(x), w, name="the_matmul")  # fails for 5 columns
        out = gc.nn.relu(hidden) * 2.0
        with gc.control_dependencies([out]):
            update = gc.assign_add(w, gc.ones_like(w))
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        sess.run(update, {x: np.ones((8, 3))})
        assert _regions(sess)
        with pytest.raises(InvalidArgumentError) as caught:
            sess.run(update, {x: np.ones((8, 5))})
        message = str(caught.value)
        assert "the_matmul" in message and "(8, 5)" in message
        assert "test_batch_regions.py" in message  # the user's line
        np.testing.assert_array_equal(sess.run(w), np.full((3, 300), 2.0))


def test_regions_form_only_for_several_threads_and_only_of_pure_rowwise_ops(monkeypatch,
                                                                           two_threads):
    g, x, labels, h, block, loss, grads, train, init = _cnn()
    monkeypatch.setattr(plan_module, "form_regions", lambda steps, *args: steps)
    plan = plan_module.Plan(g, [block] + grads, [train], [x, labels])

    def regions(threads):
        steps = batch_regions.form_regions(list(plan.steps), plan.fetch_slots,
                                           lambda op, args, err: err, threads=threads)
        return steps, [s for s in steps if isinstance(s, region_step.BatchRegion)]
    assert not regions(1)[1]
    steps, formed = regions(2)
    assert len(formed) >= 2
    for step in formed:
        assert len(step.members) >= 2
        for member in step.members:
            opdef = registry.get(member.step.op.type)
            assert registry.declared_split(opdef, member.step.op,
                                          (None,) * len(member.step.inputs)) is not None
            assert not (opdef.stateful or opdef.updates_variable or opdef.random)
            assert not registry.declared_split(opdef, member.step.op,
                                              (None,) * len(member.step.inputs)).splits_itself
    # every step is still there, each once, and every value is made before it is read
    inside = [m.step for s in formed for m in s.members]
    assert sorted(map(id, inside + [s for s in steps if s not in formed])) == sorted(
        map(id, plan.steps))
    made = set(range(plan.num_feeds))
    for step in steps:
        assert set(step.inputs) <= made, step.op.name
        made.update(slot for slot in (step.outputs if step not in formed else [
            slot for m in step.members for slot in m.step.outputs]) if slot is not None)


def test_one_piece_regions_hand_over_their_values_as_the_plan_without_regions(monkeypatch,
                                                                            two_threads):
    """Where the ops are too small to share (every region one piece here), the piece's
    values become the region's results as they are: the ops' results, new arrays each."""
    monkeypatch.setattr(batch_split, "MIN_SPLIT_ELEMENTS", 1 << 30)
    monkeypatch.setattr(batch_regions, "LARGEST_BATCH", 1 << 40)  # formed all the same
    batches = [_data(n, seed=k) for k, n in enumerate((8, 8, 3))]
    with_regions, formed = _steps(monkeypatch, True, batches)
    assert formed >= 2 and two_threads and all(alone for _, _, alone in two_threads)
    without, _ = _steps(monkeypatch, False, batches)
    _compare(with_regions, without)
    for values, (images, _) in zip(with_regions, batches):
        arrays = [v for v in values if isinstance(v, np.ndarray)]
        assert not any(np.shares_memory(a, images) for a in arrays)
        assert not any(np.shares_memory(a, b) for i, a in enumerate(arrays)
                       for b in arrays[i + 1:])


def test_dense_layers_gemms_stay_steps_of_their_own(monkeypatch, two_threads):
    """2-D GEMMs split themselves by blocks of their results' rows (graphc.ops.gemm): in a
    region's pieces a weight gradient would be partial sums. An MLP step still matches
    NumPy."""
    rng = np.random.default_rng(3)
    w1, w2 = (rng.normal(0, 0.2, shape).astype(np.float32) for shape in ((64, 48), (48, 6)))
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (None, 64))
        hidden = gc.nn.relu(gc.matmul(x, gc.Variable(w1)))
        out = gc.reduce_sum(gc.square(gc.matmul(hidden, gc.Variable(w2))))
        grads = gc.gradients(out, gc.trainable_variables())
        init = gc.global_variables_initializer()
    images = rng.normal(size=(256, 64)).astype(np.float32)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        got = sess.run(grads, {x: images})
        members = [m.step.op.type for r in _regions(sess) for m in r.members]
    assert "matmul" not in members
    h = np.maximum(images @ w1, 0)
    d_out = 2 * (h @ w2)
    d_h = (d_out @ w2.T) * (h > 0)
    np.testing.assert_allclose(got[1], h.T @ d_out, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[0], images.T @ d_h, rtol=1e-4, atol=1e-4)


def _special_images(n, seed):
    """Images with NaN, +-Inf, +-0.0, denormals and huge values mixed in."""
    images, labels = _data(n, seed=seed)
    flat = images.reshape(-1)
    rng = np.random.default_rng(seed)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-42, -1e-42, 3e38, -3e38],
                        np.float32)
    picks = rng.choice(flat.size, 4 * len(specials), replace=False)
    flat[picks] = np.resize(specials, len(picks))
    return images, labels


@pytest.mark.parametrize("optimize", [True, False])
def test_special_values_past_the_hot_threshold_match_the_plan_without_regions(
        monkeypatch, two_threads, optimize):
    """NaN/Inf/-0 inputs, run past the fused engines' hot threshold (16 calls): NaN where
    NaN; an empty batch runs whole."""
    from graphc.runtime.fused.policy import HOT_CALLS
    batches = [_special_images(32, seed=k % 3) for k in range(HOT_CALLS + 4)]
    batches.append((np.zeros((0, 12, 12, 3), np.float32), np.zeros(0, np.int32)))

    def fetched(regions):
        g, x, labels, h, block, loss, grads, train, init = _cnn()
        with _regions_or_not(monkeypatch, regions), gc.Session(graph=g,
                                                               optimize=optimize) as sess:
            sess.run(init)
            got = [sess.run([h, block] + grads, {x: images, labels: ys})
                   for images, ys in batches]
            formed = len(_regions(sess))
        return got, formed
    with_regions, formed = fetched(True)
    assert any(not alone for _, _, alone in two_threads)
    without, _ = fetched(False)
    assert formed >= 2
    _compare(with_regions, without)
