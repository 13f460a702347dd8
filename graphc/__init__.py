"""graphc: a static-graph compiler for numerical Python, with TF1's define-then-run API.

Example:
    >>> import numpy as np, graphc as gc
    >>> g = gc.Graph()
    >>> with g.as_default():
    ...     x = gc.placeholder(gc.float32, shape=(None, 3), name="x")
    ...     y = gc.reduce_sum(x * 2.0, axis=1)
    >>> with gc.Session(graph=g) as sess:
    ...     sess.run(y, feed_dict={x: np.ones((2, 3))})
    array([6., 6.], dtype=float32)
"""
from graphc import errors, registry  # noqa: F401
from graphc.convert import convert_to_tensor, graph_of  # noqa: F401
from graphc.dtypes import (DType, as_dtype, bool, double, float16, float32, float64,  # noqa
                           half, int8, int16, int32, int64, string, uint8, uint16, uint32,
                           uint64)
from graphc.graph import Graph, Operation, Tensor, get_default_graph, reset_default_graph  # noqa
from graphc.ops.array import concat, split, stack, unstack  # noqa: F401
from graphc.ops.indexing import gather, slice, strided_slice  # noqa: F401
from graphc.ops.padding import pad, tile  # noqa: F401
from graphc.ops.control import (check_numerics, group, identity, no_op, placeholder,  # noqa
                                placeholder_with_default, stop_gradient, tuple)
from graphc.ops.creation import (constant, fill, one_hot, ones, ones_like, range,  # noqa
                                 zeros, zeros_like)
from graphc.ops.elementwise import *  # noqa: F401,F403
from graphc.ops.elementwise import abs, pow, round  # noqa: F401
from graphc.ops.linalg import einsum, matmul, tensordot  # noqa: F401
from graphc.ops.random import (random_normal, random_uniform, set_random_seed,  # noqa
                               truncated_normal)
from graphc.ops.reduce import *  # noqa: F401,F403
from graphc.ops.select import (cast, clip_by_value, saturate_cast, to_float, to_int32,  # noqa
                               to_int64, where)
from graphc.ops.shape_ops import (broadcast_to, expand_dims, rank, reshape, shape,  # noqa
                                  size, squeeze, sum_to_shape, transpose)
from graphc.shapes import Dimension, TensorShape, dimension_value  # noqa: F401
from graphc.static_values import constant_value as get_static_value  # noqa: F401
from graphc.variables import (GraphKeys, Variable, assign, assign_add, assign_sub,  # noqa
                              global_variables, global_variables_initializer,
                              initialize_all_variables, trainable_variables,
                              variables_initializer)
from graphc import operators  # noqa: F401,E402 - installs Tensor operators
from graphc import compat, math, nest, nn, random  # noqa: F401,E402
from graphc import image  # noqa: F401,E402 - tf.image
from graphc.ops.space_batch import *  # noqa: E402,F401,F403 - space_to_batch(_nd), roll...
from graphc.ops.space_depth import depth_to_space, space_to_depth  # noqa: E402,F401
from graphc.ops.patches import extract_image_patches  # noqa: E402,F401
from graphc.image.transforms import random_crop  # noqa: E402,F401
from graphc.runtime import InteractiveSession, Session, get_default_session  # noqa: E402
from graphc.runtime.session import register_backend as _register_backend  # noqa: E402


def _dask_session():
    from graphc.dask import Session as DaskSession  # dask only when such a Session is made
    return DaskSession


_register_backend("dask", _dask_session)  # gc.Session(..., backend="dask")
from graphc.passes.gradients import gradients, hessians  # noqa: E402
from graphc import train  # noqa: E402,F401
from graphc.passes import OptimizerConfig, optimize  # noqa: E402,F401
from graphc.runtime.bisect import bisect  # noqa: E402,F401
from graphc.viz import render  # noqa: E402,F401
from graphc.ops.elementwise import add_n  # noqa: E402,F401
# Variable sharing, initializers, regularizers and collections (issue 11, section 3)
from graphc.variables import (add_to_collection, add_to_collections, all_variables,  # noqa
                              get_collection, get_collection_ref, initialize_local_variables,
                              is_variable_initialized, local_variables,
                              local_variables_initializer, model_variables,
                              moving_average_variables)
from graphc.variable_scope import (AUTO_REUSE, VariableScope, get_local_variable,  # noqa
                                   get_variable, get_variable_scope, no_regularizer,
                                   variable_scope)
from graphc.initializers import (constant_initializer, glorot_normal_initializer,  # noqa
                                 glorot_uniform_initializer, ones_initializer,
                                 orthogonal_initializer, random_normal_initializer,
                                 random_uniform_initializer, truncated_normal_initializer,
                                 uniform_unit_scaling_initializer,
                                 variance_scaling_initializer, zeros_initializer)
from graphc import contrib, initializers, keras, losses  # noqa: E402,F401
# What TF1 and TF2-era v1 scripts reach for besides ops: the v1 switches, flags and app.run,
# logging, session configs, device scopes and the deprecated names.
from graphc import app, flags  # noqa: E402,F401
from graphc import tf_logging as logging  # noqa: E402,F401
from graphc.compat import (disable_eager_execution, disable_resource_variables,  # noqa: E402
                           disable_v2_behavior, disable_v2_tensorshape,
                           enable_resource_variables, executing_eagerly)
# Define-by-run: eager tensors that remember their expression tree, tapes, traced functions
from graphc.eager import (ConcreteFunction, GradientTape, TensorSpec, eager,  # noqa: E402,F401
                          enable_eager_execution, function)
from graphc.config import (ConfigProto, GPUOptions, GraphOptions, OptimizerOptions,  # noqa
                           RunMetadata, RunOptions)
from graphc.deprecated import (arg_max, arg_min, div, initialize_variables,  # noqa
                               to_double)
from graphc.devices import DeviceSpec  # noqa: E402,F401
# Saving and loading graphs and checkpoints (issue 13, section 4)
from graphc.saving import import_graph_def  # noqa: E402,F401
from graphc.serialization import GraphDef, NodeDef  # noqa: E402,F401
from graphc import debugging  # noqa: E402,F401
from graphc.gradient_overrides import RegisterGradient  # noqa: E402,F401
from graphc.ops.check_ops import *  # noqa: E402,F401,F403 - TF1's tf.assert_* live at the top
from graphc.ops.debug import Assert, Print  # noqa: E402,F401
from graphc.ops.debug import print_v2 as print  # noqa: E402,F401,A001 - TF's tf.print
from graphc.ops.py_func import numpy_function, py_func  # noqa: E402,F401
# Norm clipping (issue 11, section 4)
from graphc.clip_ops import (clip_by_average_norm, clip_by_global_norm,  # noqa: E402,F401
                             clip_by_norm, global_norm)
# Input pipelines (issue 11, section 2)
from graphc import data  # noqa: E402,F401
from graphc.ops.sampling import multinomial  # noqa: E402,F401 - TF1's tf.multinomial
# Control flow (issue 12)
from graphc.control_flow import (TensorArray, case, cond, foldl, foldr, map_fn,  # noqa: E402
                                 scan, switch_case, while_loop)
# Math and array ops (issue 11, section 4)
from graphc import linalg  # noqa: E402,F401
from graphc.linalg import matrix_transpose  # noqa: E402,F401
from graphc.ops.cumulative import cumprod, cumsum  # noqa: E402,F401
from graphc.ops.indexing import unsorted_segment_sum  # noqa: E402,F401
from graphc.ops.linalg_extra import *  # noqa: E402,F401,F403
from graphc.ops.masking import *  # noqa: E402,F401,F403
from graphc.ops.math_extra import (accumulate_n, count_nonzero, lin_space, linspace,  # noqa
                                   meshgrid, norm, truncatediv, truncatemod)
from graphc.ops.matrix_diag import *  # noqa: E402,F401,F403
from graphc.ops.scatter import *  # noqa: E402,F401,F403
from graphc.ops.segment import *  # noqa: E402,F401,F403
from graphc.ops.sorting import argsort, sort, unique, unique_with_counts  # noqa: E402,F401
# Division and log products that are 0 where the plain op has no value (TF1's div_no_nan...)
from graphc.ops.safe_math import div_no_nan, xdivy, xlogy  # noqa: E402,F401
from graphc.ops.partition import dynamic_partition, dynamic_stitch  # noqa: E402,F401
from graphc.ops.random_more import random_gamma, random_poisson, random_shuffle  # noqa
from graphc.ops.batch_gather import batch_gather  # noqa: E402,F401
from graphc.ops.linalg_decomp import qr, self_adjoint_eig, self_adjoint_eigvals, svd  # noqa
from graphc.linalg_more import cholesky_solve, matrix_solve_ls  # noqa: E402,F401
# String ops: tf.strings and TF1's top-level spellings
from graphc import strings  # noqa: E402,F401
from graphc import bitwise  # noqa: E402,F401
from graphc import sets  # noqa: E402,F401
from graphc import signal  # noqa: E402,F401 - tf.signal without the complex FFTs
from graphc.tf1_extras import (AggregationMethod, Module, UnconnectedGradients,  # noqa: E402
                               VariableAggregation, VariableSynchronization,
                               assert_same_float_dtype, assert_variables_initialized,
                               conv2d_backprop_filter_v2, conv2d_backprop_input_v2,
                               grad_pass_through, is_symbolic_tensor, op_scope, recompute_grad,
                               timestamp, variable_op_scope, vectorized_map)
from graphc.errors import OpError  # noqa: E402,F401
from graphc.strings_split import string_split  # noqa: E402,F401
# the API and format versions (tf.version, TF1's tf.VERSION ...) and TF2's switches
from graphc import version  # noqa: E402,F401
from graphc.version import (COMPILER_VERSION, CXX11_ABI_FLAG, CXX_VERSION,  # noqa: E402,F401
                            GIT_VERSION, GRAPH_DEF_VERSION, GRAPH_DEF_VERSION_MIN_CONSUMER,
                            GRAPH_DEF_VERSION_MIN_PRODUCER, MONOLITHIC_BUILD, VERSION)
from graphc.compat import (control_flow_v2_enabled, disable_control_flow_v2,  # noqa: E402,F401
                           disable_tensor_equality, enable_control_flow_v2,
                           enable_tensor_equality, enable_v2_behavior,
                           executing_eagerly_outside_functions, resource_variables_enabled)
from graphc.ops.fingerprint import to_hash_bucket_fast as string_to_hash_bucket_fast  # noqa
from graphc.tf_logging import get_logger  # noqa: E402,F401
from graphc import distributions  # noqa: E402,F401
from graphc import saved_model  # noqa: E402,F401
from graphc import lookup  # noqa: E402,F401
from graphc.lookup import tables_initializer  # noqa: E402,F401
initialize_all_tables = tables_initializer  # TF1's deprecated name
from graphc.saving import graph_util  # noqa: E402,F401 - tf.graph_util (freezing graphs)
from graphc.ops.strings import as_string, reduce_join, regex_replace, substr  # noqa: E402,F401
from graphc.ops.decode_raw import decode_raw  # noqa: E402,F401
from graphc.ops.decode_csv import decode_csv  # noqa: E402,F401
from graphc.ops.bitcast import bitcast  # noqa: E402,F401
from graphc.tf1_helpers import add_check_numerics_ops, cross, histogram_fixed_width_bins  # noqa
from graphc.ops.string_codecs import decode_base64, decode_compressed, encode_base64  # noqa
from graphc.ops.strings import join as string_join  # noqa: E402,F401
from graphc.ops.strings import strip as string_strip  # noqa: E402,F401
from graphc.ops.strings import to_number as string_to_number  # noqa: E402,F401
from graphc.ops.search_repeat import (parallel_stack, repeat, searchsorted,  # noqa: E402
                                      unravel_index, where_v2)
from graphc.tf1_compositions import (is_non_decreasing, is_strictly_increasing,  # noqa
                                     scalar_mul, unsorted_segment_sqrt_n)
from graphc.ops.shape_checks import (broadcast_dynamic_shape,  # noqa: E402,F401
                                     broadcast_static_shape, ensure_shape, identity_n, shape_n)
from graphc.function_tools import (NoGradient, NotDifferentiable, custom_gradient,  # noqa
                                   get_seed, init_scope, is_tensor, make_template, no_gradient)
from graphc.ops.counting import (bincount, histogram_fixed_width,  # noqa: E402,F401
                                 invert_permutation, setdiff1d)
from graphc.ops.special_math import (acos, acosh, asin, asinh, atan, atan2, atanh,  # noqa
                                     cosh, digamma, erfc, igamma, igammac, lbeta, lgamma,
                                     log_sigmoid, polygamma, rint, sinh, zeta)
# TF1's streaming metrics (tf.metrics) and tf.confusion_matrix
from graphc import metrics  # noqa: E402,F401
# Sparse variable updates (tf.scatter_update, scatter_add, scatter_nd_update...)
from graphc.variable_scatter import *  # noqa: E402,F401,F403
from graphc.metrics.classes import confusion_matrix  # noqa: E402,F401
# TensorBoard summaries (issue 11, section 5); tf.Summary, tf.Event... come from tensorboard
from graphc import summary  # noqa: E402,F401
# Networks as trees of layers, and training loops over a Session (issue 13)
from graphc import layers, training  # noqa: E402,F401
# Files, graph files and unit tests: tf.gfile, tf.io, tf.test
from graphc import gfile  # noqa: E402,F401
from graphc import testing as test  # noqa: E402,F401
from graphc import tf_io as io  # noqa: E402,F401
from graphc import python_io  # noqa: E402,F401 - TFRecord files (tf.python_io)
# SparseTensor and tf.train.Example parsing (TF1's top-level spellings too)
from graphc import sparse  # noqa: E402,F401
from graphc.sparse.tensor import (SparseTensor, SparseTensorValue,  # noqa: E402,F401
                                  convert_to_tensor_or_sparse_tensor, sparse_placeholder)
from graphc.parsing import (FixedLenFeature, FixedLenSequenceFeature,  # noqa: E402,F401
                            SparseFeature, VarLenFeature, parse_example, parse_single_example,
                            parse_single_sequence_example)
from graphc.sparse.ops import sparse_matmul, sparse_to_dense  # noqa: E402,F401
from graphc.sparse.ops import reduce_sum as sparse_reduce_sum  # noqa: E402,F401
from graphc.sparse.ops import reorder as sparse_reorder  # noqa: E402,F401
from graphc.sparse.ops import reshape as sparse_reshape  # noqa: E402,F401
from graphc.sparse.ops import sparse_dense_matmul as sparse_tensor_dense_matmul  # noqa
from graphc.sparse.ops import to_dense as sparse_tensor_to_dense  # noqa: E402,F401
from graphc.sparse.compose import add as sparse_add  # noqa: E402,F401
from graphc.sparse.compose import concat_sparse as sparse_concat  # noqa: E402,F401
from graphc.sparse.compose import fill_empty_rows as sparse_fill_empty_rows  # noqa: E402
from graphc.sparse.compose import reset_shape as sparse_reset_shape  # noqa: E402,F401
from graphc.sparse.compose import retain as sparse_retain  # noqa: E402,F401
from graphc.sparse.compose import slice as sparse_slice  # noqa: E402,F401
from graphc.sparse.compose import to_indicator as sparse_to_indicator  # noqa: E402,F401
from graphc.sparse.compose import transpose as sparse_transpose  # noqa: E402,F401
from graphc.sparse.embedding import segment_mean as sparse_segment_mean  # noqa: E402,F401
from graphc.sparse.embedding import segment_sqrt_n as sparse_segment_sqrt_n  # noqa: E402
from graphc.sparse.embedding import segment_sum as sparse_segment_sum  # noqa: E402,F401
from graphc.sparse.reductions import maximum as sparse_maximum  # noqa: E402,F401
from graphc.sparse.reductions import minimum as sparse_minimum  # noqa: E402,F401
from graphc.sparse.reductions import reduce_max as sparse_reduce_max  # noqa: E402,F401
from graphc.sparse.reductions import reduce_max_sparse as sparse_reduce_max_sparse  # noqa
from graphc.sparse.reductions import reduce_sum_sparse as sparse_reduce_sum_sparse  # noqa
from graphc.sparse.reductions import softmax as sparse_softmax  # noqa: E402,F401
from graphc.sparse.reductions import split as sparse_split  # noqa: E402,F401
from graphc.tf_io import matching_files, read_file, write_file  # noqa: E402,F401
# Queue-based input pipelines: queues, readers (TF1's tf.FIFOQueue, tf.TextLineReader...)
from graphc import queues as queue  # noqa: E402,F401 - tf.queue
from graphc.queues import (FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase,  # noqa
                           RandomShuffleQueue)
from graphc.readers import (FixedLengthRecordReader, IdentityReader, ReaderBase,  # noqa
                            TextLineReader, WholeFileReader)
from graphc.ops.count_up_to import count_up_to  # noqa: E402,F401
from graphc.monitored import report_uninitialized_variables  # noqa: E402,F401

newaxis = None


def name_scope(name, default_name=None, values=None):
    """Open a name scope in the default graph (or the graph of ``values``).

    Example:
        >>> with gc.name_scope("layer1"):
        ...     h = gc.nn.relu(gc.matmul(x, W1))   # op "layer1/Relu"...
    """
    graph = graph_of(*(values or []))
    return _entered(graph, graph.name_scope(name if name is not None else default_name))


def device(device_name_or_function):
    """Ops created inside ask for a device (TF1 ``tf.device``); see ``Graph.device``.

    Example:
        >>> with gc.device("/gpu:0"):
        ...     logits = gc.matmul(x, W)       # logits.device == "/device:GPU:0"
    """
    return get_default_graph().device(device_name_or_function)


def tables_initializer(name="init_all_tables"):
    """An op initializing every lookup table: graphc has none yet, so a no-op (TF1's value
    when a graph has no tables), for the scripts that run it next to the variables'."""
    return no_op(name=name)


def control_dependencies(control_inputs):
    """Ops created inside run after ``control_inputs`` (default graph).

    Example:
        >>> with gc.control_dependencies([update]):
        ...     y = gc.identity(x)
    """
    return get_default_graph().control_dependencies(control_inputs)


class _entered:
    """Enter ``graph.as_default()`` together with one of its context managers."""

    def __init__(self, graph, context):
        self._graph_context = graph.as_default()
        self._context = context

    def __enter__(self):
        self._graph_context.__enter__()
        return self._context.__enter__()

    def __exit__(self, *exc):
        try:
            return self._context.__exit__(*exc)
        finally:
            self._graph_context.__exit__(*exc)


def __getattr__(name):
    if name in summary.PROTO_NAMES:  # imported on first use: tensorboard is an optional extra
        return getattr(summary, name)
    raise AttributeError(f"module 'graphc' has no attribute {name!r}")


from graphc.version import GRAPHC_VERSION as __version__  # noqa: E402
