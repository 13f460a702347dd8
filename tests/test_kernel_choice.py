"""graphc.ops.kernel_choice: the faster of two kernels, timed once per key, kept after."""
from __future__ import annotations

import time

import numpy as np
import pytest

from graphc import registry
from graphc.ops import conv_kernels, kernel_choice


def test_the_faster_candidate_is_chosen_once_and_kept(monkeypatch):
    monkeypatch.setattr(kernel_choice, "_CHOSEN", {})
    calls = {"slow": 0, "quick": 0}

    def slow():
        calls["slow"] += 1
        time.sleep(0.02)

    def quick():
        calls["quick"] += 1
    assert kernel_choice.faster_first("slow first", lambda: (slow, quick)) is False
    assert kernel_choice.faster_first("quick first", lambda: (quick, slow)) is True
    runs = 2 * (1 + kernel_choice.ROUNDS)  # per key: one untimed run, then ROUNDS timed
    assert calls == {"slow": runs, "quick": runs}
    for _ in range(3):
        assert kernel_choice.faster_first("slow first", lambda: (slow, quick)) is False
    assert calls == {"slow": runs, "quick": runs}  # kept: never timed again
    assert kernel_choice.choices() == {"slow first": False, "quick first": True}


def test_a_filter_gradient_is_its_reference_whichever_kernel_won(monkeypatch):
    """Both outcomes of the choice give the filter gradient (within the float-sum bound)."""
    pytest.importorskip("numba")  # the direct loop, the other candidate, needs it
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 9, 9, 16)).astype(np.float32)
    dy = rng.normal(size=(4, 9, 9, 24)).astype(np.float32)
    kernel = registry.get("conv2d_backprop_filter").kernel
    geometry = {"strides": (1, 1), "padding": "SAME", "dilations": (1, 1)}
    results = []
    for direct_wins in (True, False):
        chosen = []

        def choose(key, candidates, wins=direct_wins):
            chosen.append(key[0])
            return wins
        monkeypatch.setattr(conv_kernels, "faster_first", choose)
        results.append(kernel(x, np.array([3, 3, 16, 24], np.int32), dy, **geometry))
        assert chosen and set(chosen) == {"conv2d_backprop_filter"}
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = np.einsum("nhwc,nhwo->co", padded[:, :9, :9], dy)  # tap (0, 0) alone
    for got in results:
        np.testing.assert_allclose(got[0, 0], expected, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-3)


def test_threads_reaching_a_new_key_together_time_it_once_one_at_a_time(monkeypatch):
    """The pool's threads reach a new key together (each with its piece of a batch): one
    times the candidates while the others wait, so no timing runs beside another (on
    2 vCPUs that made the compute-bound candidate lose in some processes)."""
    import threading
    monkeypatch.setattr(kernel_choice, "_CHOSEN", {})
    running, most, built = [0], [0], []
    lock = threading.Lock()

    def candidate():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.001)
        with lock:
            running[0] -= 1

    def candidates():
        built.append(1)
        return candidate, candidate
    start = threading.Barrier(4)
    answers = []

    def ask():
        start.wait()
        answers.append(kernel_choice.faster_first("shared key", candidates))
    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and most[0] == 1
    assert len(set(answers)) == 1 and len(answers) == 4
