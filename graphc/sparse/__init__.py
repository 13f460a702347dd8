"""``gc.sparse``: TF1's ``tf.sparse``, SparseTensors and the ops on them.

Example:
    >>> st = gc.SparseTensor([[0, 1], [2, 0]], [3.0, 4.0], [3, 2])
    >>> dense = gc.sparse.to_dense(st)
"""
from graphc.sparse.tensor import (SparseTensor, SparseTensorValue,  # noqa: F401
                                  convert_to_tensor_or_sparse_tensor, sparse_placeholder)

from graphc.sparse.ops import (from_dense, reduce_sum, reorder, reshape,  # noqa: F401
                               sparse_dense_matmul, to_dense)

from graphc.sparse.compose import (add, concat_sparse, expand_dims, eye,  # noqa: F401
                                   fill_empty_rows, reset_shape, retain, slice, to_indicator,
                                   transpose)
from graphc.sparse.embedding import segment_mean, segment_sqrt_n, segment_sum  # noqa: F401
from graphc.sparse.reductions import (maximum, minimum, reduce_max,  # noqa: F401
                                      reduce_max_sparse, reduce_sum_sparse, softmax, split)

placeholder = sparse_placeholder
concat = concat_sparse
matmul = sparse_dense_matmul  # TF1's tf.sparse.matmul

__all__ = ["SparseTensor", "SparseTensorValue", "placeholder", "to_dense", "from_dense",
           "reorder", "reshape", "sparse_dense_matmul", "matmul", "reduce_sum", "add",
           "concat", "expand_dims", "eye", "fill_empty_rows", "reset_shape", "retain",
           "slice", "to_indicator", "transpose", "segment_sum", "segment_mean",
           "segment_sqrt_n", "maximum", "minimum", "reduce_max", "reduce_max_sparse",
           "reduce_sum_sparse", "softmax", "split"]
