"""concat into a plan's buffer by raw-bytes blocks (graphc.ops.array._concat_blocks)
against np.concatenate: bitwise for every number dtype and axis, size-0 pieces, and
np.concatenate itself wherever the blocks do not apply."""
import numpy as np
import pytest

from graphc import registry
from graphc.ops import array
from tests.test_conv_kernels import split_batches  # noqa: F401 (a fixture)

KERNEL = registry.get("concat").kernel


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int64, np.bool_,
                                   np.complex64, np.uint16])
@pytest.mark.parametrize("shapes,axis", [
    ([(4, 3, 5, 16), (4, 3, 5, 24), (4, 3, 5, 8)], 3),
    ([(2, 3, 4), (2, 5, 4)], 1), ([(4, 3), (4, 0), (4, 2)], -1), ([(0, 3), (0, 2)], 1),
    ([(3, 2, 2), (1, 2, 2)], 0), ([(2, 3, 1), (2, 3, 2)], 2), ([(5, 1)], 1)])
def test_blocks_are_bitwise_np_concatenate(dtype, shapes, axis):
    rng = np.random.default_rng(0)
    xs = [(rng.standard_normal(s) * 50).astype(dtype) for s in shapes]
    want = np.concatenate(xs, axis=axis)
    out = np.full_like(want, 3)
    got = KERNEL(*xs, axis=axis, out=out)
    assert got is out and got.tobytes() == want.tobytes()


def test_the_blocks_run_for_nhwc_channels_and_not_elsewhere():
    x = np.ones((4, 2, 2, 3), np.float32)
    out = np.empty((4, 2, 2, 6), np.float32)
    assert array._concat_blocks([x, x], 3, out)
    strided = np.ones((4, 2, 2, 6), np.float32)[..., ::2]
    assert not array._concat_blocks([strided, x], 3, out)           # a strided input
    assert not array._concat_blocks([x, x.astype(np.float64)], 3, out)  # mixed dtypes
    assert not array._concat_blocks([x, x], 0, np.empty((8, 2, 2, 3), np.float32))  # 1 row
    words = np.array([["a"], ["b"]])
    assert not array._concat_blocks([words, words], 1, np.empty((2, 2), words.dtype))
    np.testing.assert_array_equal(KERNEL(strided, x, axis=3, out=out),
                                  np.concatenate([strided, x], axis=3))


def test_rows_copied_on_the_pool_are_bitwise_np_concatenate_and_np_split(split_batches):
    """The rows of the copies go in pieces to graphc's pool (split_batches: a 3-thread one,
    pieces however small)."""
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((64, 8, 8, c)).astype(np.float32) for c in (16, 24, 8, 8)]
    want = np.concatenate(xs, axis=3)
    got = KERNEL(*xs, axis=3, out=np.zeros_like(want))
    assert got.tobytes() == want.tobytes()
    pieces = registry.get("split").kernel(want, num=4, sizes=[16, 24, 8, 8], axis=3)
    assert all(p.base is None and p.tobytes() == x.tobytes() for p, x in zip(pieces, xs))
