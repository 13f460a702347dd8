"""Op families. Importing this package registers every op type in ``graphc.registry``."""
from graphc.ops import (array, control, conv, creation, elementwise, indexing, linalg,  # noqa
                        nn, padding, random, reduce, select, shape_ops, state)
from graphc.ops import activations, conv_grads, conv_variants, fused, normalization  # noqa: F401,E402 - build on the others
from graphc.ops import check_ops, debug, py_func  # noqa: F401,E402 - run-time checks, user code
from graphc.ops import data  # noqa: F401,E402 - tf.data iterators
