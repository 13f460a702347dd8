"""More of TF1's ``tf.nn``, as compositions of graphc ops: ``conv1d_transpose`` and the
rank-generic ``conv_transpose``; the loss scaling helpers of distributed training
(``compute_average_loss``, ``scale_regularization_loss``: one replica here, so their values
are TF's with ``num_replicas_in_sync == 1``); ``approx_max_k``/``approx_min_k`` (exact on
the CPU, as TF's CPU kernels are: the recall target is then always met).

Example:
    >>> up = gc.nn.conv_transpose(h, w, [8, 32, 16], strides=2)   # 1-D: [batch, width, ch]
    >>> loss = gc.nn.compute_average_loss(per_example, global_batch_size=64)
    >>> values, indices = gc.nn.approx_max_k(scores, k=5)
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.array import concat
from graphc.ops.batch_gather import batch_gather
from graphc.ops.conv3d import conv3d_transpose
from graphc.ops.conv_variants import _channels_back, _channels_last, _formats, _one_dim
from graphc.ops.conv_variants import conv2d_transpose
from graphc.ops.elementwise import multiply, truediv
from graphc.ops.indexing import gather
from graphc.ops.reduce import reduce_sum
from graphc.ops.select import cast
from graphc.ops.shape_ops import broadcast_to, expand_dims, shape, squeeze, transpose
from graphc.ops.sorting import argsort, top_k
from graphc.static_values import constant_value_as_shape

__all__ = ["conv1d_transpose", "conv_transpose", "compute_average_loss",
           "scale_regularization_loss", "approx_max_k", "approx_min_k"]


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NWC", dilations=None, name=None):
    """The transpose of ``conv1d``: ``input`` ``[batch, width, in_channels]`` back to
    ``output_shape`` ``[batch, out_width, out_channels]`` with a ``[width, out_channels,
    in_channels]`` filter (TF1 ``tf.nn.conv1d_transpose``: a conv2d_transpose of height 1).

    Example:
        >>> up = gc.nn.conv1d_transpose(h, w, [8, 32, 16], strides=2)
    """
    data_format = _formats("conv1d_transpose", data_format, ("NWC", "NCW"))
    stride = _one_dim(strides, "strides", "conv1d_transpose")
    dilation = 1 if dilations is None else _one_dim(dilations, "dilations", "conv1d_transpose")
    graph = graph_of(input, filters, output_shape)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope(name or "conv1d_transpose"):
        x = expand_dims(_channels_last(convert_to_tensor(input, name="input"), data_format), 1)
        w = expand_dims(convert_to_tensor(filters, name="filters"), 0)
        sizes = convert_to_tensor(output_shape, name="output_shape", dtype_hint=gdt.int32)
        if data_format == "NCW":  # output_shape is NCW too
            sizes = gather(sizes, [0, 2, 1])
        sizes = concat([sizes[:1], [1], sizes[1:]], 0)  # [batch, 1, width, channels]
        y = conv2d_transpose(x, w, sizes, [1, 1, stride, 1], padding,
                             dilations=[1, 1, dilation, 1])
        return _channels_back(squeeze(y, [1]), data_format)


_TRANSPOSES = {1: conv1d_transpose, 2: conv2d_transpose, 3: conv3d_transpose}


def conv_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                   data_format=None, dilations=None, name=None):
    """The transpose of an N-D convolution, N = len(output_shape) - 2 (1, 2 or 3), as TF's
    ``tf.nn.conv_transpose``: ``conv1d_transpose``, ``conv2d_transpose`` or
    ``conv3d_transpose`` (channels-last unless ``data_format`` says otherwise).

    Example:
        >>> up = gc.nn.conv_transpose(h, w, [2, 16, 16, 8], strides=2)
    """
    rank = constant_value_as_shape(convert_to_tensor(output_shape, dtype_hint=gdt.int32)).rank
    if rank is None:
        sizes = convert_to_tensor(output_shape, dtype_hint=gdt.int32)
        rank = sizes.shape.dims[0] if sizes.shape.rank == 1 else None
    spatial = None if rank is None else rank - 2
    if spatial not in _TRANSPOSES:
        raise ValueError(f"conv_transpose: output_shape must have 3, 4 or 5 elements (1-3 "
                         f"spatial dimensions), got {output_shape!r}")
    transposed = _TRANSPOSES[spatial]
    if spatial == 1:
        return transposed(input, filters, output_shape, strides, padding,
                          data_format or "NWC", dilations, name)
    if isinstance(strides, int):
        strides = [1] + [strides] * spatial + [1]
    if isinstance(dilations, int):
        dilations = [1] + [dilations] * spatial + [1]
    default = {2: "NHWC", 3: "NDHWC"}[spatial]
    return transposed(input, filters, output_shape, strides, padding,
                      data_format=data_format or default, dilations=dilations,
                      name=name or "conv_transpose")


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None,
                         name=None):
    """The sum of ``per_example_loss`` (times ``sample_weight``, broadcast to it) divided by
    ``global_batch_size``, by default the batch size (its first dimension) times the number
    of replicas, one here (TF's ``tf.nn.compute_average_loss``).

    Example:
        >>> loss = gc.nn.compute_average_loss(per_example, global_batch_size=64)
    """
    losses = convert_to_tensor(per_example_loss, name="per_example_loss")
    if losses.shape.rank == 0:
        raise ValueError("compute_average_loss: per_example_loss must have rank 1 or more "
                         f"(one loss per example), got a scalar {losses}")
    graph = graph_of(losses, sample_weight, global_batch_size)
    with graph.as_default(), graph.name_scope(name or "compute_average_loss"):
        if sample_weight is not None:
            weights = cast(convert_to_tensor(sample_weight, name="sample_weight"),
                           losses.dtype)
            losses = multiply(losses, broadcast_to(weights, shape(losses)))
        if global_batch_size is None:
            global_batch_size = gather(shape(losses), 0)
        return truediv(reduce_sum(losses),
                       cast(convert_to_tensor(global_batch_size), losses.dtype))


def scale_regularization_loss(regularization_loss, name=None):
    """The sum of ``regularization_loss`` divided by the number of replicas, one here (TF's
    ``tf.nn.scale_regularization_loss``).

    Example:
        >>> reg = gc.nn.scale_regularization_loss(gc.losses.get_regularization_losses())
    """
    return reduce_sum(regularization_loss, name=name or "scale_regularization_loss")


def _top_along(operand, k, dimension, largest: bool, name):
    x = convert_to_tensor(operand, name="operand")
    rank = x.shape.rank
    if rank is None or rank == 0:
        raise ValueError(f"approx_{'max' if largest else 'min'}_k: operand must have a known "
                         f"rank of 1 or more, got shape {x.shape}")
    axis = dimension % rank if -rank <= dimension < rank else None
    if axis is None:
        raise ValueError(f"approx_{'max' if largest else 'min'}_k: reduction_dimension "
                         f"{dimension} is out of range for rank {rank}")
    order = [d for d in range(rank) if d != axis] + [axis]
    back = [order.index(d) for d in range(rank)]
    with x.graph.as_default(), x.graph.name_scope(name):
        last = transpose(x, order) if axis != rank - 1 else x
        if largest:
            values, indices = top_k(last, k)
        else:  # ascending, ties by position (no negation: -x overflows integers)
            indices = argsort(last, direction="ASCENDING", stable=True)[..., :k]
            values = batch_gather(last, indices)
        if axis != rank - 1:
            values, indices = transpose(values, back), transpose(indices, back)
        return values, indices


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """``(values, indices)`` of the ``k`` largest elements along ``reduction_dimension``
    (TF's ``tf.math.approx_max_k``; exact here, as TF's CPU kernel, so any recall target
    is met).

    Example:
        >>> values, indices = gc.nn.approx_max_k(scores, k=5)
    """
    return _top_along(operand, k, reduction_dimension, True, name or "approx_max_k")


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """``(values, indices)`` of the ``k`` smallest elements along ``reduction_dimension``,
    ascending, the first of equal elements first (TF's ``tf.math.approx_min_k``; exact).

    Example:
        >>> values, indices = gc.nn.approx_min_k(distances, k=3)
    """
    return _top_along(operand, k, reduction_dimension, False, name or "approx_min_k")
