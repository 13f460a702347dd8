"""The sparse cross-entropy pair's compiled exact steps (graphc.ops.xent_loops) against its
NumPy kernel, bitwise: NaN, +-Inf, -0.0 and rows of all -Inf, ties, float32 and float64,
int32 and int64 labels, N-D batches, size 0; labels out of range fail with the NumPy
kernel's message; arrays the loops do not take run the NumPy calls."""
import numpy as np
import pytest

from graphc.ops import sparse_xent, xent_loops

pytestmark = [pytest.mark.skipif(not xent_loops.HAVE_NUMBA, reason="the loops need numba"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]


def _numpy_pair(labels, logits, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(xent_loops, "HAVE_NUMBA", False)
        return sparse_xent._pair_kernel(labels, logits)


def _logits(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=shape) * 4).astype(dtype)
    flat = logits.reshape(-1, shape[-1])
    if len(flat) >= 6:
        flat[0, -1] = np.nan
        flat[1, :] = -np.inf  # shifted by -Inf: NaN everywhere
        flat[2, 0] = np.inf
        flat[3, :] = 0.0
        flat[3, ::2] = -0.0  # max of +-0 ties
        flat[4, :] = 7  # all tied
        flat[5, -1] = -np.inf
    if len(flat) >= 8:
        flat[6, 0] = np.nan  # a NaN first: the row's max stays NaN
        flat[7, :] = np.nan
    return logits


@pytest.mark.parametrize("shape", [(128, 10), (6, 1), (8, 1), (9, 3), (2, 4, 5), (0, 4),
                                   (3, 0, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_compiled_steps_give_the_numpy_kernels_bits(shape, dtype, label_dtype, monkeypatch):
    logits = _logits(shape, dtype, seed=sum(shape))
    labels = np.random.default_rng(1).integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    assert sparse_xent._compiled_pair(labels, logits, shape[-1]) is not None
    got = sparse_xent._pair_kernel(labels, logits)
    want = _numpy_pair(labels, logits, monkeypatch)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert g.tobytes() == w.tobytes()


@pytest.mark.parametrize("bad", [-1, 5])
def test_a_label_out_of_range_fails_as_the_numpy_kernel(bad):
    labels = np.array([0, bad, 2], np.int32)
    logits = np.zeros((3, 5), np.float32)
    before = logits.copy()
    with pytest.raises(ValueError, match=f"label value of {bad} which is outside the valid "
                                         r"range of \[0, 5\)"):
        sparse_xent._pair_kernel(labels, logits)
    assert logits.tobytes() == before.tobytes()


@pytest.mark.parametrize("case", ["strided", "float16", "uint8 labels", "no classes",
                                  "mismatched rows"])
def test_arrays_the_loops_do_not_take_run_the_numpy_calls(case, monkeypatch):
    logits = _logits((6, 4), np.float32, seed=2)
    labels = np.array([0, 1, 2, 3, 0, 1], np.int32)
    if case == "strided":
        logits = np.asfortranarray(logits)
    elif case == "float16":
        logits = logits.astype(np.float16)
    elif case == "uint8 labels":
        labels = labels.astype(np.uint8)
    elif case == "no classes":
        logits, labels = np.zeros((6, 0), np.float32), np.zeros(6, np.int32)
    else:
        labels = labels[:5]
    assert sparse_xent._compiled_pair(labels, logits, logits.shape[-1]) is None
    if case in ("no classes", "mismatched rows"):
        with pytest.raises((ValueError, IndexError)):
            sparse_xent._pair_kernel(labels, logits)
        return
    for g, w in zip(sparse_xent._pair_kernel(labels, logits),
                    _numpy_pair(labels, logits, monkeypatch)):
        assert g.tobytes() == w.tobytes()
