"""Channel concats and the dense pieces of channel splits (graphc.ops.array over
graphc.ops.copy_loops): bitwise np.concatenate and slicing for every numeric dtype and word
width, NaN payloads and signed zeros included, size-0 pieces, with and without numba; and
which splits copy (narrow pieces of large inputs) and which stay views."""
import numpy as np
import pytest

from graphc.ops import array, copy_loops

DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64,
          np.uint8, np.bool_, np.complex64, np.complex128]


def _values(shape, seed, dtype):
    raw = np.random.default_rng(seed).integers(0, 256, (*shape, np.dtype(dtype).itemsize),
                                               dtype=np.uint8)
    values = raw.view(dtype).reshape(shape)  # every bit pattern: NaN payloads, -0.0, ...
    return values.astype(bool) if dtype is np.bool_ else values


@pytest.fixture(params=["compiled", "numpy"])
def engine(request, monkeypatch):
    if request.param == "compiled" and not copy_loops.HAVE_NUMBA:
        pytest.skip("needs numba")
    if request.param == "numpy":
        monkeypatch.setattr(array, "block_loops", lambda: None)
    return request.param


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("widths", [(16, 24, 8, 8), (3, 0, 1, 2), (1,), (5, 7)])
def test_a_channel_concat_and_split_copy_every_byte(engine, dtype, widths):
    blocks = [_values((6, 5, 7, w), k, dtype) for k, w in enumerate(widths)]
    want = np.concatenate(blocks, axis=3)
    out = np.empty_like(want)
    assert array._concat_kernel(*blocks, axis=3, out=out) is out
    assert out.tobytes() == want.tobytes()
    bounds = [0, *np.cumsum(widths)]
    pieces = array._copied_pieces(want, bounds, 3, 1)
    for piece, block in zip(pieces, blocks):
        assert piece.flags.c_contiguous and piece.shape == block.shape
        assert piece.tobytes() == block.tobytes()


def test_narrow_pieces_of_a_large_input_are_dense_copies_and_others_views():
    wide = np.arange(64 * 8 * 8 * 56, dtype=np.float32).reshape(64, 8, 8, 56)
    pieces = array._split_kernel(wide, 4, [16, 24, 8, 8], 3)
    assert all(p.flags.c_contiguous and not np.shares_memory(p, wide) for p in pieces)
    assert np.array_equal(pieces[1], wide[..., 16:40])
    # wide pieces (an LSTM's gates), small inputs and splits along the first axis: views
    gates = np.ones((32, 512), np.float32)
    assert all(np.shares_memory(p, gates) for p in array._split_kernel(gates, 4, None, 1))
    small = np.ones((4, 8, 8), np.float32)
    assert all(np.shares_memory(p, small) for p in array._split_kernel(small, 2, None, 2))
    assert all(np.shares_memory(p, wide) for p in array._split_kernel(wide, 2, None, 0))
    strided = wide[:, ::2]
    assert all(np.shares_memory(p, wide) for p in array._split_kernel(strided, 7, None, 3))


def test_a_split_of_an_empty_batch_gives_empty_dense_pieces():
    pieces = array._copied_pieces(np.ones((0, 4, 6), np.float32), [0, 2, 6], 2, 1)
    assert [p.shape for p in pieces] == [(0, 4, 2), (0, 4, 4)]


def test_the_word_is_the_widest_every_row_makes_whole():
    def word(*widths, dtype=np.float32):
        return copy_loops.word_rows([np.ones((2, w), dtype) for w in widths])[0].dtype
    assert word(16, 24, 8) == np.uint64 and word(16, 3) == np.uint32
    assert word(3, dtype=np.int16) == np.uint8 and word(4, dtype=np.int16) == np.uint64
