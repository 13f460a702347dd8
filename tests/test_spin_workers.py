"""graphc.runtime.spin_workers: the pool's spinning workers run GEMM pieces in compiled code
and Python pieces with the GIL; every piece runs exactly once whoever takes it, from any
number of calling threads, with workers awake, asleep or stopped."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from graphc.runtime import spin_workers, threads
from graphc.runtime.spin_workers import SpinWorkers

pytestmark = pytest.mark.skipif(spin_workers._loops() is None,
                                reason="spinning workers need numba, x86-64 and NumPy's OpenBLAS")


@pytest.fixture
def workers():
    started = SpinWorkers.start(2)
    yield started
    started.stop()


def _blocks(left, right, cuts):
    """The reference: one np.matmul per block of rows."""
    out = np.empty((left.shape[0], right.shape[1]), left.dtype)
    for lo, hi in zip(cuts, cuts[1:]):
        np.matmul(left[lo:hi], right, out=out[lo:hi])
    return out


def _operands(rng, m, k, n, dtype, transpose_a=False, transpose_b=False):
    a = rng.normal(size=(k, m) if transpose_a else (m, k)).astype(dtype)
    b = rng.normal(size=(n, k) if transpose_b else (k, n)).astype(dtype)
    return a.T if transpose_a else a, b.T if transpose_b else b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, False), (False, True),
                                                     (True, True)])
@pytest.mark.parametrize("split", [True, False])
def test_a_gemm_job_is_bitwise_one_matmul_per_block(workers, dtype, transpose_a, transpose_b,
                                                    split):
    rng = np.random.default_rng(0)
    left, right = _operands(rng, 100, 33, 17, dtype, transpose_a, transpose_b)
    cuts = [0, 16, 48, 64, 100]
    out = np.full((100, 17), np.nan, dtype)
    workers.gemm(SpinWorkers.gemm_job(left, right, out), cuts, split=split)
    np.testing.assert_array_equal(out, _blocks(left, right, cuts))


@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, True)])
def test_a_gemm_job_of_column_blocks_is_bitwise_one_matmul_per_block(workers, transpose_a,
                                                                     transpose_b):
    rng = np.random.default_rng(4)
    left, right = _operands(rng, 20, 33, 90, np.float32, transpose_a, transpose_b)
    cuts = [0, 32, 48, 90]
    out = np.full((20, 90), np.nan, np.float32)
    workers.gemm(SpinWorkers.gemm_job(left, right, out, axis=1), cuts, split=True)
    expected = np.empty_like(out)
    for lo, hi in zip(cuts, cuts[1:]):
        np.matmul(left, right[:, lo:hi], out=expected[:, lo:hi])
    np.testing.assert_array_equal(out, expected)


def test_operands_the_compiled_call_cannot_take_are_refused():
    rng = np.random.default_rng(1)
    left, right = _operands(rng, 32, 8, 8, np.float32)
    out = np.zeros((32, 8), np.float32)
    assert SpinWorkers.gemm_job(left, right, out) is not None
    assert SpinWorkers.gemm_job(left.astype(np.int64), right.astype(np.int64),
                                out.astype(np.int64)) is None
    assert SpinWorkers.gemm_job(left, right.astype(np.float64), out) is None
    assert SpinWorkers.gemm_job(left[:, ::2], right[::2], out) is None  # strided
    assert SpinWorkers.gemm_job(left, right, np.empty((8, 32), np.float32).T) is None
    assert SpinWorkers.gemm_job(left, right[:, :1], out[:, :1].copy()) is None  # a vector


def test_many_calling_threads_share_the_workers_without_mixing_jobs(workers):
    """Four threads hand GEMMs and Python jobs to one pool at once: a caller that finds it
    busy runs its pieces itself, and each gets its own product."""
    pool = threads._BatchPool(3, busy_cores=lambda: 0.0)
    pool._spin, pool._started = workers, True
    errors = []

    def caller(seed):
        try:
            rng = np.random.default_rng(seed)
            for _ in range(40):
                left, right = _operands(rng, 96, 24, 40, np.float32)
                out = np.empty((96, 40), np.float32)
                cuts = [0, 32, 64, 96]
                assert pool.gemm_blocks(left, right, out, cuts)
                np.testing.assert_array_equal(out, _blocks(left, right, cuts))
                seen = np.zeros(50, np.int64)

                def work(lo, hi):
                    seen[lo:hi] += 1
                pool(work, 50, 25)
                assert (seen == 1).all()
        except Exception as err:  # noqa: BLE001 - reported by the test thread
            errors.append(err)
    callers = [threading.Thread(target=caller, args=(seed,)) for seed in range(4)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(60)
    assert not errors and not any(thread.is_alive() for thread in callers)


def test_workers_that_went_to_sleep_wake_for_the_next_call(monkeypatch):
    monkeypatch.setattr(spin_workers, "SPIN_SECONDS", 1e-5)
    sleepy = SpinWorkers.start(1)
    try:
        rng = np.random.default_rng(2)
        for _ in range(20):
            deadline = time.monotonic() + 5
            while sleepy._ctl[spin_workers._SLEEPING] == 0 and time.monotonic() < deadline:
                time.sleep(0.001)
            assert sleepy._ctl[spin_workers._SLEEPING] == 1  # asleep before the call
            left, right = _operands(rng, 64, 16, 16, np.float64)
            out = np.empty((64, 16))
            sleepy.gemm(SpinWorkers.gemm_job(left, right, out), [0, 32, 64], split=True)
            np.testing.assert_array_equal(out, _blocks(left, right, [0, 32, 64]))
    finally:
        sleepy.stop()


def test_an_error_in_a_python_piece_reaches_the_caller_and_every_other_piece_runs(workers):
    pool = threads._BatchPool(3, busy_cores=lambda: 0.0)
    pool._spin, pool._started = workers, True
    seen = np.zeros(40, np.int64)

    def work(lo, hi):
        seen[lo:hi] += 1
        if lo == 0:
            raise ValueError("piece zero")
    with pytest.raises(ValueError, match="piece zero"):
        pool(work, 40, 20)
    assert (seen == 1).all()


def test_stopped_workers_end_their_threads():
    stopping = SpinWorkers.start(2)
    stopping.stop()
    for thread in stopping._threads:
        thread.join(5)
        assert not thread.is_alive()


def test_call_numbers_wrap_and_the_next_calls_still_run(workers):
    """A ticket holds the call number in 30 bits: past the last one it starts again at 0."""
    workers._seq = spin_workers._SEQ_MASK - 1
    rng = np.random.default_rng(5)
    for _ in range(4):
        left, right = _operands(rng, 64, 8, 8, np.float32)
        out = np.empty((64, 8), np.float32)
        workers.gemm(SpinWorkers.gemm_job(left, right, out), [0, 32, 64], split=True)
        np.testing.assert_array_equal(out, _blocks(left, right, [0, 32, 64]))
    assert workers._seq < 4


def test_after_work_handed_out_on_a_loaded_machine_the_workers_sleep_at_once(workers):
    """Long pieces still go to the workers under a moderate load (the pool's rule), but a
    worker then sleeps instead of spinning: it would take the process's own share of the
    cores from the calling thread."""
    pool = threads._BatchPool(3, busy_cores=lambda: 50.0)
    pool._spin, pool._started = workers, True
    pool._heavily_loaded = lambda: False
    seen = np.zeros(8, np.int64)

    def work(lo, hi):
        seen[lo:hi] += 1
    pool(work, 8, 4, long_pieces=True)
    assert (seen == 1).all()
    assert workers._ctl[spin_workers._SPIN] == 0  # the call asked for no spinning
    deadline = time.monotonic() + 5
    while not all(workers._ctl[spin_workers._SLEEPING + 8 * w] for w in range(2)):
        assert time.monotonic() < deadline, "a worker kept spinning on a loaded machine"
        time.sleep(0.001)
