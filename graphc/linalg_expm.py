"""``gc.linalg.expm``: the matrix exponential by scaling and squaring with Padé approximants
(Higham 2005), the algorithm and constants of TF's ``tf.linalg.expm``: degree 3, 5 or 7 for
float32 and 3-13 for float64, chosen by each matrix's 1-norm; norms above the largest
degree's bound are scaled by 2^-s, and the result squared s times (a while_loop over the
largest s of the batch). Built of graphc ops (matmul, matrix_solve, where), so it has
gradients; matrices with a non-finite entry give NaN.

Example:
    >>> gc.linalg.expm([[0.0, 1.0], [-1.0, 0.0]])     # a rotation by one radian
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.control_flow import cond, while_loop
from graphc.convert import convert_to_tensor
from graphc.ops.array import concat
from graphc.ops.creation import constant, fill, ones
from graphc.ops.elementwise import abs as absolute
from graphc.ops.elementwise import floor, is_finite, less, log, maximum, pow as power
from graphc.ops.linalg import matmul
from graphc.ops.linalg_extra import matrix_solve
from graphc.ops.matrix_diag import matrix_diag
from graphc.ops.reduce import reduce_max, reduce_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import reshape, shape

__all__ = ["expm"]

# Padé numerator coefficients b_0.. of degree 3, 5, 7, 9 and 13 (Higham 2005, Table 2.3)
_PADE = {
    3: [120.0, 60.0, 12.0],
    5: [30240.0, 15120.0, 3360.0, 420.0, 30.0],
    7: [17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0],
    9: [17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
        110880.0, 3960.0, 90.0],
    13: [64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
         1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
         33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0],
}
# per dtype: the degrees, the 1-norm bounds up to which each lower degree serves, and the
# largest degree's bound (above it the matrix is scaled)
_SCHEDULE = {
    "float32": ((3, 5, 7), (4.258730016922831e-001, 1.880152677804762e+000),
                3.925724783138660),
    "float64": ((3, 5, 7, 9, 13), (1.495585217958292e-002, 2.539398330063230e-001,
                                   9.504178996162932e-001, 2.097847961257068e+000),
                5.371920351148152),
}


def _pade(matrix, degree, ident):
    """``(U, V)`` of the degree-``degree`` approximant, exp(A) ~ (V - U)^-1 (V + U), summed
    in TF's order."""
    b = [constant(value, matrix.dtype) for value in _PADE[degree]]
    m = {0: ident, 2: matmul(matrix, matrix)}
    for k in range(4, (6 if degree == 13 else degree - 1) + 1, 2):  # those this degree reads
        m[k] = matmul(m[k - 2], m[2])
    if degree == 13:
        tmp_u = matmul(m[6], m[6] + b[11] * m[4] + b[9] * m[2]) + b[7] * m[6] + \
            b[5] * m[4] + b[3] * m[2] + b[1] * ident
        tmp_v = b[12] * m[6] + b[10] * m[4] + b[8] * m[2]
        v = matmul(m[6], tmp_v) + b[6] * m[6] + b[4] * m[4] + b[2] * m[2] + b[0] * ident
        return matmul(matrix, tmp_u), v
    tmp, v = m[degree - 1], b[degree - 1] * m[degree - 1]
    for k in range(degree - 2, 0, -2):  # + b[k] A^(k-1) and + b[k-1] A^(k-1), down to I
        tmp = tmp + b[k] * m[k - 1]
        v = v + b[k - 1] * m[k - 1]
    return matmul(matrix, tmp), v


def expm(input, name=None):  # noqa: A002 - TF's argument name
    """exp(A) of each square matrix of ``input`` (``[..., n, n]``, float32 or float64),
    TF's ``tf.linalg.expm``.

    Example:
        >>> gc.linalg.expm(gc.zeros([2, 3, 3]))     # identity matrices
    """
    matrix = convert_to_tensor(input, name="input")
    if matrix.dtype.name not in _SCHEDULE:
        raise ValueError(f"linalg.expm: matrices of dtype {matrix.dtype.name} are not "
                         "supported (float32 or float64)")
    dims = matrix.shape.dims
    if dims is not None and len(dims) >= 2 and tuple(dims[-2:]) == (0, 0):
        return matrix  # 0 x 0 matrices: their exponentials are themselves
    graph = matrix.graph
    with graph.as_default(), graph.name_scope(name or "matrix_exponential"):
        original_shape = shape(matrix)
        flat = reshape(matrix, concat([[-1], original_shape[-2:]], 0))
        l1_norm = reduce_max(reduce_sum(absolute(flat), axis=1), axis=-1)[:, None, None]
        degrees, bounds, maxnorm = _SCHEDULE[matrix.dtype.name]
        const = lambda value: constant(value, matrix.dtype)  # noqa: E731
        squarings = maximum(floor(log(l1_norm / const(maxnorm)) / log(const(2.0))), 0.0)
        # [n, n], broadcast over the batch (n may be known only at run time)
        ident = matrix_diag(ones(shape(flat)[-1:], matrix.dtype))
        scaled = flat / power(const(2.0), squarings)
        pairs = [_pade(flat if degree != degrees[-1] else scaled, degree, ident)
                 for degree in degrees]

        def chosen(part):
            result = pairs[-1][part]
            for bound, pair in zip(reversed(bounds), reversed(pairs[:-1])):
                result = where(less(l1_norm, const(bound)), pair[part], result)
            return result
        u, v = chosen(0), chosen(1)
        finite = is_finite(reduce_max(l1_norm))
        result = cond(finite, lambda: matrix_solve(-u + v, u + v),
                      lambda: fill(shape(flat), constant(np.nan, matrix.dtype)))
        most = reduce_max(squarings)
        _, result = while_loop(
            lambda i, _: cond(finite, lambda: less(i, most), lambda: constant(False)),
            lambda i, r: (i + 1.0, where(less(i, squarings), matmul(r, r), r)),
            [const(0.0), result])
        return reshape(result, original_shape)
