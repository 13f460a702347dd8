"""``gc.math``: TF1's ``tf.math`` namespace (the same functions as the top level)."""
from graphc.ops.elementwise import *  # noqa: F401,F403
from graphc.ops.elementwise import abs, pow, round  # noqa: F401 - shadowed builtins, explicitly
from graphc.ops.nn import log_softmax, softmax  # noqa: F401
from graphc.ops.reduce import *  # noqa: F401,F403
from graphc.ops.select import *  # noqa: F401,F403
from graphc.ops.indexing import unsorted_segment_sum  # noqa: F401
from graphc.ops.shape_ops import sum_to_shape  # noqa: F401
# TF1's remaining tf.math functions (issue 11)
from graphc.ops.cumulative import cumprod, cumsum  # noqa: F401,E402
from graphc.ops.math_extra import (accumulate_n, count_nonzero, lin_space, linspace,  # noqa
                                   reduce_std, reduce_variance, truncatediv, truncatemod)
from graphc.ops.segment import *  # noqa: F401,F403,E402
from graphc.ops.sorting import in_top_k, top_k  # noqa: F401,E402
from graphc.ops.safe_math import *  # noqa: E402,F401,F403
from graphc.metrics.classes import confusion_matrix  # noqa: E402,F401
from graphc.ops.special_math import *  # noqa: E402,F401,F403
from graphc.ops.activations import softsign  # noqa: E402,F401
from graphc.ops.counting import bincount, invert_permutation, setdiff1d  # noqa: E402,F401
from graphc.ops.cumulative import cumulative_logsumexp  # noqa: E402,F401
from graphc.tf1_compositions import (is_non_decreasing,  # noqa: E402,F401
                                     is_strictly_increasing, polyval, reduce_euclidean_norm,
                                     scalar_mul, unsorted_segment_sqrt_n)
from graphc.nn_norm import l2_normalize  # noqa: E402,F401
from graphc.ops.safe_math import mul_no_nan as multiply_no_nan  # noqa: E402,F401
from graphc.ops.search_repeat import searchsorted  # noqa: E402,F401
from graphc.tf1_compositions import zero_fraction  # noqa: E402,F401
from graphc.nn_more import approx_max_k, approx_min_k  # noqa: F401,E402
