"""gather with batch_dims and batch_gather against NumPy, including the gradient (a
scatter-add per batch row) and unknown batch sizes."""
import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(0)


def _numpy_batched(params, indices, axis, b):
    if b == 0:
        return np.take(params, indices, axis=axis)
    return np.stack([_numpy_batched(p, i, axis - 1, b - 1) for p, i in zip(params, indices)])


@pytest.mark.parametrize("p_shape,i_shape,axis,b", [
    ((2, 5, 3), (2, 4), 1, 1), ((2, 3, 5, 2), (2, 3, 4), 2, 2), ((2, 3, 5), (2, 2, 2), 2, 1),
    ((3, 5), (3,), 1, -1), ((2, 3, 5, 2), (2, 6), 2, 1)])
def test_batched_gather_matches_numpy_with_its_gradient(p_shape, i_shape, axis, b):
    params = RNG.standard_normal(p_shape)
    b_pos = b if b >= 0 else b + len(i_shape)
    limit = p_shape[axis]
    indices = RNG.integers(0, limit, i_shape)
    cotangent = RNG.standard_normal(_numpy_batched(params, indices, axis, b_pos).shape)
    with gc.Graph().as_default():
        p = gc.placeholder(gc.float64, [None] + list(p_shape[1:]))  # batch size unknown
        out = gc.gather(p, indices, axis=axis, batch_dims=b)
        grad, = gc.gradients(gc.reduce_sum(out * cotangent), [p])
        with gc.Session() as sess:
            got, got_grad = sess.run([out, grad], {p: params})
    np.testing.assert_allclose(got, _numpy_batched(params, indices, axis, b_pos))
    # the gradient is the adjoint: <grad, params_direction> equals <cotangent, out(direction)>
    direction = RNG.standard_normal(p_shape)
    np.testing.assert_allclose(np.sum(got_grad * direction),
                               np.sum(cotangent * _numpy_batched(direction, indices, axis, b_pos)))


def test_batch_gather_and_errors():
    with gc.Graph().as_default():
        got = gc.Session().run(gc.batch_gather([[1, 2, 3], [4, 5, 6]], [[2, 0], [1, 1]]))
        np.testing.assert_array_equal(got, [[3, 1], [5, 5]])
        with pytest.raises(ValueError, match=r"axis 0 must be in \[batch_dims=1"):
            gc.gather(np.zeros((2, 3)), np.zeros((2, 1), np.int32), axis=0, batch_dims=1)
        with pytest.raises(ValueError, match="batch dims of params"):
            gc.gather(np.zeros((2, 3)), np.zeros((3, 1), np.int32), axis=1, batch_dims=1)
