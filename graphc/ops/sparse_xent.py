"""Sparse softmax cross-entropy (integer class labels) and its one-kernel backprop, as TF1's
SparseSoftmaxCrossEntropyWithLogits computes loss and gradient together."""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops import xent_loops
from graphc.ops.common import FLOAT, apply_op, check_kind, rand, randint
from graphc.ops.nn import _labeled, _py_log_softmax, _py_softmax, softmax
from graphc.ops.reduce import reduce_sum
from graphc.ops.shape_ops import expand_dims
from graphc.registry import OpDef

__all__ = ["sparse_softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_backprop",
           "sparse_softmax_cross_entropy_pair", "SPARSE_XENT_PAIR"]


def _sparse_dtypes(in_dtypes, attrs):
    check_kind("sparse_softmax_cross_entropy_with_logits", in_dtypes[0], "integer", "labels")
    check_kind("sparse_softmax_cross_entropy_with_logits", in_dtypes[1], FLOAT, "logits")
    return [in_dtypes[1]]


def _sparse_shapes(inputs, attrs):
    labels, logits = inputs[0].shape, inputs[1].shape
    if logits.rank < 1 or not labels.is_compatible_with(logits[:-1]):
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels shape {labels} must "
                         f"equal logits shape {logits} without its last dimension")
    return [labels.merge_with(logits[:-1])]


def _check_labels(labels, classes: int) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)].ravel()[0]
        raise ValueError(f"Received a label value of {bad} which is outside the valid range "
                         f"of [0, {classes})")


def _sparse_kernel(labels, logits):
    _check_labels(labels, logits.shape[-1])
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    log_total = np.log(np.sum(np.exp(shifted), axis=-1))
    picked = np.take_along_axis(shifted, labels[..., None].astype(np.intp), axis=-1)[..., 0]
    return log_total - picked


def _sparse_backprop_kernel(labels, logits):
    """softmax(logits) - one_hot(labels): TF1's backprop output of the fused op."""
    classes = logits.shape[-1]
    _check_labels(labels, classes)
    probs = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    probs /= np.sum(probs, axis=-1, keepdims=True)
    rows = probs.reshape(-1, classes)
    rows[np.arange(len(rows)), labels.reshape(-1)] -= 1
    return probs


def _sparse_xent_grad(op, dy):
    labels, logits = op.inputs
    return [None, expand_dims(dy, -1) * sparse_softmax_cross_entropy_backprop(labels, logits)]


def _sparse_backprop_grad(op, dy):
    """The softmax's vector-Jacobian product (the one-hot part is constant)."""
    probs = softmax(op.inputs[1])
    return [None, probs * (dy - reduce_sum(dy * probs, axis=-1, keepdims=True))]


def _sparse_backprop_shapes(inputs, attrs):
    _sparse_shapes(inputs, attrs)  # the labels must match the logits' leading dims
    return [inputs[1].shape]


def _py_sparse_backprop(labels, logits):
    rows = [[p - (j == int(k)) for j, p in enumerate(_py_softmax(row.tolist()))]
            for row, k in zip(logits.reshape(-1, logits.shape[-1]), labels.ravel())]
    return np.array(rows).reshape(logits.shape)


SPARSE_BACKPROP = registry.register(OpDef(
    name="sparse_softmax_cross_entropy_backprop", dtypes=lambda d, a: [_sparse_dtypes(d, a)[0]],
    shapes=_sparse_backprop_shapes,
    kernel=_sparse_backprop_kernel, grad=_sparse_backprop_grad, fresh_output=True,
    distribution=registry.Split("rowwise", (0, 1)),
    reference=_py_sparse_backprop,
    samples=lambda: [_labeled(randint(4, low=0, high=5), rand(4, 5, low=-3, high=3)),
                     _labeled(randint(2, 3, low=0, high=4), rand(2, 3, 4))],
    error_samples=lambda: [_labeled(randint(4, low=0, high=3), rand(3, 5),
                                    match="without its last dimension")],
    doc="softmax(logits) - one_hot(labels): the gradient of the sparse cross-entropy, in "
        "one kernel (TF1's backprop output of SparseSoftmaxCrossEntropyWithLogits)."))


@registry.public(SPARSE_BACKPROP)
def sparse_softmax_cross_entropy_backprop(labels=None, logits=None, name=None):
    """``softmax(logits) - one_hot(labels)``, the per-class gradient of
    ``sparse_softmax_cross_entropy_with_logits`` (what its gradient builds on).

    Example:
        >>> d_logits = gc.nn.sparse_softmax_cross_entropy_backprop(labels=y, logits=logits)
    """
    return apply_op("sparse_softmax_cross_entropy_backprop", [labels, logits],
                    name=name or "SparseSoftmaxCrossEntropyBackprop")


SPARSE_XENT = registry.register(OpDef(
    raises_on_values=True,  # labels out of range
    name="sparse_softmax_cross_entropy_with_logits", dtypes=_sparse_dtypes,
    shapes=_sparse_shapes, kernel=_sparse_kernel, grad=_sparse_xent_grad,
    distribution=registry.Split("rowwise", (0, 1)),
    reference=lambda labels, logits: np.array(
        [-_py_log_softmax(row.tolist())[int(k)] for row, k in
         zip(logits.reshape(-1, logits.shape[-1]), labels.ravel())]).reshape(labels.shape),
    samples=lambda: [_labeled(randint(4, low=0, high=5), rand(4, 5, low=-3, high=3)),
                     _labeled(randint(2, 3, low=0, high=4), rand(2, 3, 4))],
    error_samples=lambda: [_labeled(randint(4, low=0, high=3), rand(3, 5),
                                    match="without its last dimension"),
                           _labeled(rand(4), rand(4, 5), error=TypeError,
                                    match="integer labels")],
    doc="Cross-entropy of softmax(logits) against integer class labels; labels outside "
        "[0, classes) are a run-time error."))


@registry.public(SPARSE_XENT)
def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """Per-example ``-log_softmax(logits)[label]`` for integer ``labels``.

    Example:
        >>> loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
        ...     labels=y, logits=logits))
    """
    if _sentinel is not None or labels is None or logits is None:
        raise ValueError("sparse_softmax_cross_entropy_with_logits: pass labels= and logits= "
                         "by name")
    return apply_op("sparse_softmax_cross_entropy_with_logits", [labels, logits],
                    name=name or "SparseSoftmaxCrossEntropyWithLogits")


def _pair_kernel(labels, logits):
    """Both kernels' results from one softmax: the max, shift, exp and row sums that
    ``_sparse_kernel`` and ``_sparse_backprop_kernel`` each compute, computed once with the
    same NumPy calls in the same order, so both outputs are bitwise theirs (the exact steps
    by graphc.ops.xent_loops' compiled loops where they take the arrays: the same bits)."""
    classes = logits.shape[-1]
    compiled = _compiled_pair(labels, logits, classes)
    if compiled is not None:
        return compiled
    _check_labels(labels, classes)
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    probs = np.exp(shifted)
    totals = np.sum(probs, axis=-1, keepdims=True)
    picked = np.take_along_axis(shifted, labels[..., None].astype(np.intp), axis=-1)[..., 0]
    loss = np.log(totals[..., 0]) - picked
    probs /= totals
    rows = probs.reshape(-1, classes)
    rows[np.arange(len(rows)), labels.reshape(-1)] -= 1
    return loss, probs


def _compiled_pair(labels, logits, classes):
    """``_pair_kernel``'s results with its exact steps compiled (xent_loops), or None where
    the loops do not take these arrays (no numba, other dtypes, no classes, strided, labels
    not of the logits' leading shape: NumPy's calls then raise as before)."""
    if (not xent_loops.HAVE_NUMBA or labels.shape != logits.shape[:-1]
            or logits.dtype.type not in (np.float32, np.float64)
            or labels.dtype.type not in (np.int32, np.int64) or classes == 0
            or not (logits.flags.c_contiguous and labels.flags.c_contiguous)):
        return None
    prepare, finish = xent_loops.xent_loops()
    table = logits.reshape(-1, classes)
    flat_labels = labels.reshape(-1)
    shifted = np.empty_like(table)
    picked = np.empty(len(table), logits.dtype)
    if prepare(flat_labels, table, shifted, picked) >= 0:
        _check_labels(labels, classes)  # raises, naming the label
    probs = np.exp(shifted, out=shifted)
    totals = np.sum(probs, axis=-1, keepdims=True)
    loss = np.log(totals[:, 0])
    finish(flat_labels, picked, probs, totals, loss)
    return loss.reshape(labels.shape), probs.reshape(logits.shape)


def _pair_grad(op, dy_loss, dy_backprop):
    """The two ops' gradients, summed (the xent_pairs pass makes this op after
    differentiation, so only a graph differentiated after ``gc.optimize`` meets it)."""
    loss_grad = None if dy_loss is None else _sparse_xent_grad(op, dy_loss)[1]
    backprop_grad = None if dy_backprop is None else _sparse_backprop_grad(op, dy_backprop)[1]
    if loss_grad is None or backprop_grad is None:
        return [None, backprop_grad if loss_grad is None else loss_grad]
    return [None, loss_grad + backprop_grad]


SPARSE_XENT_PAIR = registry.register(OpDef(
    raises_on_values=True,  # labels out of range
    name="sparse_softmax_cross_entropy_pair",
    dtypes=lambda d, a: _sparse_dtypes(d, a) * 2,
    shapes=lambda ins, a: _sparse_shapes(ins, a) + [ins[1].shape],
    kernel=_pair_kernel, grad=_pair_grad, fresh_output=True,
    distribution=registry.Split("rowwise", (0, 1)),
    reference=lambda labels, logits: (SPARSE_XENT.reference(labels, logits),
                                      _py_sparse_backprop(labels, logits)),
    samples=lambda: [_labeled(randint(4, low=0, high=5), rand(4, 5, low=-3, high=3)),
                     _labeled(randint(2, 3, low=0, high=4), rand(2, 3, 4))],
    error_samples=lambda: [_labeled(randint(4, low=0, high=3), rand(3, 5),
                                    match="without its last dimension")],
    doc="The sparse cross-entropy and its backprop (softmax - one_hot) from one softmax, as "
        "TF1's SparseSoftmaxCrossEntropyWithLogits gives both (made by the xent_pairs pass "
        "where a graph computes both for the same labels and logits)."))


@registry.public(SPARSE_XENT_PAIR)
def sparse_softmax_cross_entropy_pair(labels=None, logits=None, name=None):
    """``(loss, backprop)``: ``sparse_softmax_cross_entropy_with_logits`` and
    ``sparse_softmax_cross_entropy_backprop`` of the same labels and logits, from one softmax.

    Example:
        >>> loss, d_logits = sparse_softmax_cross_entropy_pair(labels=y, logits=logits)
    """
    return apply_op("sparse_softmax_cross_entropy_pair", [labels, logits],
                    name=name or "SparseSoftmaxCrossEntropyPair")
