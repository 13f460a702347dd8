"""Memory planning: in-place reuse of dead intermediates, never of anything a user can see."""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.runtime.state import RunContext

F = gc.float64


def _plan(sess, fetches, feeds):
    sess.run(fetches, feeds)
    return next(plan for key, plan in sess._plans.items())


def test_dead_intermediates_are_overwritten_in_place():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (1000,), name="x")
        out = gc.sin(gc.exp(x) * 2.0 + 1.0)
    with gc.Session(graph=g, optimize=False) as sess:
        plan = _plan(sess, out, {x: np.ones(1000)})
        assert plan.source.count("out=s") == 3  # multiply, add and sin reuse exp's buffer
        values = [np.linspace(0, 1, 1000)]
        np.testing.assert_array_equal(plan.run(values, RunContext(sess._state))[0],
                                      plan.run_interpreted(values, RunContext(sess._state))[0])
        assert plan.estimated_peak_bytes == 8000  # one buffer, recycled along the chain


def test_feeds_variables_constants_and_fetches_are_never_overwritten():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (4,), name="x")
        v = gc.Variable(np.arange(4.0), name="v")
        c = gc.constant(np.full(4, 3.0))
        first = gc.exp(x)
        fetched_mid = first * 2.0
        out = gc.tanh(fetched_mid) + v.value() * c + gc.sqrt(c)
        init = gc.global_variables_initializer()
    data = np.array([0.1, 0.2, 0.3, 0.4])
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(init)
        for _ in range(3):
            mid, result = sess.run([fetched_mid, out], {x: data})
        np.testing.assert_array_equal(data, [0.1, 0.2, 0.3, 0.4])
        np.testing.assert_array_equal(sess.run(v), np.arange(4.0))
        np.testing.assert_array_equal(c.op.attrs["value"], np.full(4, 3.0))
        np.testing.assert_allclose(mid, np.exp(data) * 2.0)
        expected = np.tanh(np.exp(data) * 2.0) + np.arange(4.0) * 3.0 + np.sqrt(3.0)
        np.testing.assert_allclose(result, expected)


def _arena_graph():
    """Large matmul and elementwise intermediates (batch dim unknown), a fetched value and a
    variable update reading a kept buffer."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (None, 64), name="x")
        w = gc.Variable(np.linspace(-1, 1, 64 * 64).reshape(64, 64), name="w")
        hidden = gc.matmul(x, w)  # into the arena: read only by fresh-result ops
        act = gc.tanh(hidden) * 2.0
        fetched = gc.matmul(act, w, transpose_b=True)
        grad = gc.matmul(x, act, transpose_a=True)
        update = w.assign_sub(0.001 * grad)
        init = gc.global_variables_initializer()
    return g, x, w, fetched, update, init


def test_large_intermediates_keep_their_buffers_across_runs():
    g, x, w, fetched, update, init = _arena_graph()
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(300, 64))
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(init)
        sess.run([fetched, update], {x: batch})
        plan = next(p for key, p in sess._plans.items() if len(key[0]) == 2)
        assert plan.arena_steps >= 2 and "out=ndarray(" in plan.source
        results = [sess.run([fetched, update], {x: batch})[0] for _ in range(3)]
        buffers = [id(b) for b in plan._arenas[0][0] if b is not None]
        firsts = [r.copy() for r in results]
        sess.run([fetched, update], {x: batch})
        after = [id(b) for b in plan._arenas[0][0] if b is not None]
        assert after == buffers  # kept: the fetched result the caller holds got a new array
        assert not any(np.may_share_memory(a, b) for k, a in enumerate(results)
                       for b in results[k + 1:])
        for result, copy in zip(results, firsts):
            np.testing.assert_array_equal(result, copy)  # fetched values are never reused
        smaller = batch[:7]  # new input shapes: fresh buffers, still correct
        values = [smaller]
        np.testing.assert_allclose(plan.run(values, RunContext(sess._state))[0],
                                   plan.run_interpreted(values, RunContext(sess._state))[0],
                                   rtol=1e-12)


@pytest.mark.usefixtures("without_batch_regions")
def test_fetched_results_are_reused_only_once_the_caller_dropped_them():
    g, x, w, fetched, update, init = _arena_graph()
    batch = np.random.default_rng(1).normal(size=(50, 64))
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(init)
        first = sess.run(fetched, {x: batch})
        plan = next(p for key, p in sess._plans.items() if key[0] == (fetched,))
        assert any(step.arena and step.op is fetched.op for step in plan.steps)
        second = sess.run(fetched, {x: batch})
        assert second is not first  # the caller holds first: a new buffer
        address = second.__array_interface__["data"][0]
        del second
        third = sess.run(fetched, {x: batch})
        assert third.__array_interface__["data"][0] == address  # dropped: written again
        view = third[:10]
        del third
        kept = view.copy()
        sess.run(fetched, {x: batch * 2})
        np.testing.assert_array_equal(view, kept)  # a live view keeps its buffer safe


@pytest.mark.usefixtures("without_batch_regions")
def test_a_large_concat_writes_into_its_kept_buffer():
    """concat (W7's Inception branches, 7 MB a step) takes out=: its buffer stays across runs
    instead of fresh pages every run; a buffer of another dtype (strings of another length)
    is never written."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (None, 8, 8, 16))
        joined = gc.concat([gc.tanh(x), gc.exp(x)], axis=3) * 2.0
    batch = np.random.default_rng(2).normal(size=(8, 8, 8, 16))
    with gc.Session(graph=g, optimize=False) as sess:
        for _ in range(3):
            got = sess.run(joined, {x: batch})
        plan = next(iter(sess._plans.values()))
        [step] = [s for s in plan.steps if s.op.type == "concat"]
        assert step.arena
        np.testing.assert_allclose(got, np.concatenate([np.tanh(batch), np.exp(batch)], 3) * 2)
    kernel = registry.get("concat").kernel
    words = np.array(["longer", "words"])
    np.testing.assert_array_equal(kernel(words, words, axis=0, out=np.empty(4, "<U1")),
                                  np.concatenate([words, words]))


def test_small_results_stay_out_of_the_arena():
    g = gc.Graph()
    with g.as_default():
        small = gc.placeholder(F, (10, 10))
        out = gc.matmul(gc.matmul(small, small), small)
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(out, {small: np.eye(10)})
        assert next(iter(sess._plans.values())).arena_steps == 0  # 800 bytes: left to malloc


def test_concurrent_runs_use_arenas_of_their_own():
    import threading
    g, x, w, fetched, update, init = _arena_graph()
    batches = [np.random.default_rng(k).normal(size=(200, 64)) for k in range(4)]
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(init)
        expected = [sess.run(fetched, {x: b}) for b in batches]
        failures = []

        def worker(k):
            for _ in range(20):
                got = sess.run(fetched, {x: batches[k]})
                if not np.allclose(got, expected[k], rtol=1e-12):
                    failures.append(k)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures


@pytest.mark.usefixtures("without_batch_regions")
def test_narrow_split_pieces_keep_their_buffers_and_fetched_pieces_stay_intact():
    """split into narrow channel pieces (W7's concat gradient, ~1,500 page faults a step as
    fresh arrays) writes into buffers kept across runs; pieces the caller holds are never
    written again, and a kept buffer that is a view of an input is never written."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (None, 16, 16, 56))
        pieces = gc.split(gc.tanh(x), [16, 24, 8, 8], axis=3)
        summed = sum(gc.reduce_sum(p * float(k + 1)) for k, p in enumerate(pieces))
    rng = np.random.default_rng(3)
    batches = [rng.normal(size=(8, 16, 16, 56)) for _ in range(4)]
    with gc.Session(graph=g, optimize=False) as sess:
        held = sess.run(pieces, {x: batches[0]})
        kept = [p.copy() for p in held]
        plan = next(iter(sess._plans.values()))
        [step] = [s for s in plan.steps if s.op.type == "split"]
        assert step.arena
        for batch in batches[1:]:
            got = sess.run(pieces, {x: batch})
            want = np.split(np.tanh(batch), [16, 40, 48], axis=3)
            for piece, expected in zip(got, want):
                assert piece.flags.c_contiguous
                np.testing.assert_array_equal(piece, expected)
        for piece, copy in zip(held, kept):
            np.testing.assert_array_equal(piece, copy)  # held by the caller: never reused
        for batch in batches:  # the pieces dropped each run: the same buffers written again
            np.testing.assert_allclose(sess.run(summed, {x: batch}), sum(
                (k + 1) * p.sum() for k, p in enumerate(np.split(np.tanh(batch),
                                                                  [16, 40, 48], axis=3))))
    kernel = registry.get("split").kernel
    wide = np.arange(8 * 16 * 16 * 56, dtype=np.float64).reshape(8, 16, 16, 56)
    other = np.zeros_like(wide)
    views = tuple(np.split(other, [16, 40, 48], axis=3))  # views: never written into
    got = kernel(wide, num=4, sizes=(16, 24, 8, 8), axis=3, out=views)
    assert not other.any()
    for piece, expected in zip(got, np.split(wide, [16, 40, 48], axis=3)):
        np.testing.assert_array_equal(piece, expected)
    owned = tuple(np.empty(p.shape) for p in got)
    assert all(a is b for a, b in zip(kernel(wide, num=4, sizes=(16, 24, 8, 8), axis=3,
                                             out=owned), owned))


def test_only_splits_into_copied_pieces_take_buffers():
    from graphc.ops.array import _split_takes_out
    g = gc.Graph()
    with g.as_default():
        images = gc.placeholder(gc.float32, (None, 32, 32, 56))
        rows = gc.placeholder(gc.float32, (64, 512))
        small = gc.placeholder(gc.float32, (2, 4, 4, 56))
        words = gc.placeholder(gc.string, (None, 32, 32, 8))
        cases = {
            "narrow channels of a batch": (gc.split(images, [16, 24, 8, 8], axis=3), True),
            "wide pieces (views)": (gc.split(rows, 2, axis=1), False),
            "the batch axis (views)": (gc.split(images, 2, axis=0), False),
            "a small static input": (gc.split(small, [16, 40], axis=3), False),
            "strings": (gc.split(words, 2, axis=3), False)}
    for name, (pieces, expected) in cases.items():
        assert _split_takes_out(pieces[0].op) is expected, name
