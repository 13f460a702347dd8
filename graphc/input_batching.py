"""TF1's queue-based batching (``tf.train.batch``, ``shuffle_batch``, ``batch_join``,
``shuffle_batch_join`` and their ``maybe_`` forms, which enqueue only where ``keep_input``).

Each call makes a queue (FIFO, padding FIFO with ``dynamic_pad``, or random-shuffle), a
QueueRunner whose threads enqueue the given tensors (one element per run, or the rows of
each with ``enqueue_many``), and the dequeue of one batch. The results keep the form of
``tensors``: a dict stays a dict; a list gives a list, or the tensor itself when it holds
one tensor (TF1's quirk). ``allow_smaller_final_batch`` gives the last, smaller batch once
the input is exhausted (a batch dimension of None); otherwise the remainder is dropped.

Example:
    >>> images, labels = gc.train.shuffle_batch([image, label], batch_size=128,
    ...                                         capacity=2000, min_after_dequeue=1000)
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc import summary
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.monitored.coordinator import QueueRunner, add_queue_runner
from graphc.ops.elementwise import maximum
from graphc.ops.masking import boolean_mask
from graphc.ops.select import cast
from graphc.ops.shape_ops import expand_dims, reshape
from graphc.queues import FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

__all__ = ["batch", "batch_join", "shuffle_batch", "shuffle_batch_join", "maybe_batch",
           "maybe_batch_join", "maybe_shuffle_batch", "maybe_shuffle_batch_join"]


def _as_tensor_list(tensors) -> list:
    if isinstance(tensors, dict):
        return [tensors[key] for key in sorted(tensors)]
    return list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]


def _as_original_type(original, dequeued):
    if isinstance(original, dict):
        values = dequeued if isinstance(dequeued, list) else [dequeued]
        return {key: values[i] for i, key in enumerate(sorted(original))}
    return dequeued


def _validate(tensor_list: list, what: str) -> list:
    if not tensor_list:
        raise ValueError(f"Expected at least one tensor in {what}().")
    return [convert_to_tensor(t) for t in tensor_list]


def _validate_join(tensor_lists, what: str) -> list:
    lists = [_validate(_as_tensor_list(t), what) for t in tensor_lists]
    if not lists:
        raise ValueError(f"Expected at least one input in {what}().")
    dtypes = [t.dtype for t in lists[0]]
    for other in lists[1:]:
        if [t.dtype for t in other] != dtypes:
            raise TypeError(f"{what}: expected types {[d.name for d in dtypes]} in every "
                            f"input, got {[t.dtype.name for t in other]}")
    return lists


def _validate_keep_input(keep_input, enqueue_many: bool):
    keep_input = convert_to_tensor(keep_input, dtype=gdt.bool)
    rank = keep_input.shape.rank
    if rank is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and rank == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if rank > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _shapes(tensor_lists, shapes, enqueue_many: bool, dynamic_pad: bool, what: str):
    """The element shape of each component (from the tensors when not given); every
    dimension must be known unless ``dynamic_pad``."""
    if shapes is None:
        shapes = []
        for index in range(len(tensor_lists[0])):
            merged = TensorShape(None)
            for tensors in tensor_lists:
                found = tensors[index].shape
                if found.rank is None:
                    raise ValueError(f"Cannot infer Tensor's rank: {tensors[index]!r}")
                if enqueue_many:
                    if found.rank == 0:
                        raise ValueError(f"{what}: with enqueue_many, {tensors[index].name!r}"
                                         " needs a batch dimension (rank at least 1)")
                    found = TensorShape(found.dims[1:])
                merged = merged.merge_with(found)
            shapes.append(merged)
    shapes = [TensorShape(s) for s in shapes]
    if not dynamic_pad and not all(s.is_fully_defined() for s in shapes):
        raise ValueError(f"All shapes must be fully defined: {[str(s) for s in shapes]} "
                         f"({what}; dynamic_pad=True pads unknown dimensions)")
    return shapes


def _selected(tensors: list, keep_input, enqueue_many: bool) -> list:
    """The rows ``keep_input`` selects, as a batch to enqueue with enqueue_many."""
    if not enqueue_many:
        tensors = [expand_dims(t, 0) for t in tensors]
        keep_input = reshape(keep_input, [1])
    return [boolean_mask(t, keep_input) for t in tensors]


def _enqueue_ops(queue, tensor_lists, threads_per_list: int, enqueue_many: bool,
                 keep_input) -> None:
    """Add a QueueRunner whose threads enqueue each of ``tensor_lists``."""
    always = constant_value(keep_input)
    ops = []
    for tensors in tensor_lists:
        if always is not None and always.ndim == 0 and bool(always):
            op = (queue.enqueue_many if enqueue_many else queue.enqueue)(tensors)
        else:
            op = queue.enqueue_many(_selected(tensors, keep_input, enqueue_many))
        ops.extend([op] * threads_per_list)
    add_queue_runner(QueueRunner(queue, ops))


def _dequeue(queue, batch_size, allow_smaller_final_batch: bool, name: str):
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _batch(tensor_lists, original, batch_size, keep_input, num_threads, capacity,
           enqueue_many, shapes, dynamic_pad, allow_smaller_final_batch, shared_name, name,
           what):
    graph = get_default_graph()
    with graph.name_scope(name or what) as scope:
        lists = _validate_join(tensor_lists, what)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        shapes = _shapes(lists, shapes, enqueue_many, dynamic_pad, what)
        dtypes = [t.dtype for t in lists[0]]
        queue_type = PaddingFIFOQueue if dynamic_pad else FIFOQueue
        queue = queue_type(capacity=capacity, dtypes=dtypes, shapes=shapes,
                           shared_name=shared_name)
        _enqueue_ops(queue, lists, num_threads, enqueue_many, keep_input)
        summary.scalar(f"fraction_of_{capacity}_full",
                       cast(queue.size(), gdt.float32) * (1.0 / capacity))
        return _as_original_type(original, _dequeue(queue, batch_size,
                                                    allow_smaller_final_batch, scope))


def _shuffle_batch(tensor_lists, original, batch_size, capacity, min_after_dequeue,
                   keep_input, num_threads, seed, enqueue_many, shapes,
                   allow_smaller_final_batch, shared_name, name, what):
    graph = get_default_graph()
    with graph.name_scope(name or what) as scope:
        if capacity <= min_after_dequeue:
            raise ValueError(f"capacity {capacity} must be bigger than min_after_dequeue "
                             f"{min_after_dequeue}.")
        lists = _validate_join(tensor_lists, what)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        shapes = _shapes(lists, shapes, enqueue_many, False, what)
        queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue,
                                   seed=seed, dtypes=[t.dtype for t in lists[0]],
                                   shapes=shapes, shared_name=shared_name)
        _enqueue_ops(queue, lists, num_threads, enqueue_many, keep_input)
        full = cast(maximum(0, queue.size() - min_after_dequeue), gdt.float32) * (
            1.0 / (capacity - min_after_dequeue))
        summary.scalar(f"fraction_over_{min_after_dequeue}_of_"
                       f"{capacity - min_after_dequeue}_full", full)
        return _as_original_type(original, _dequeue(queue, batch_size,
                                                    allow_smaller_final_batch, scope))


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
          dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches of ``batch_size`` elements of ``tensors`` (a list or dict), in order, filled
    by ``num_threads`` threads (TF1 ``tf.train.batch``).

    Example:
        >>> image_batch, label_batch = gc.train.batch([image, label], batch_size=32)
    """
    return _batch([tensors], tensors, batch_size, True, num_threads, capacity, enqueue_many,
                  shapes, dynamic_pad, allow_smaller_final_batch, shared_name, name, "batch")


def maybe_batch(tensors, keep_input, batch_size, num_threads=1, capacity=32,
                enqueue_many=False, shapes=None, dynamic_pad=False,
                allow_smaller_final_batch=False, shared_name=None, name=None):
    """``batch`` of the elements for which ``keep_input`` (a bool scalar, or a vector of one
    per row with ``enqueue_many``) is True (TF1 ``tf.train.maybe_batch``)."""
    return _batch([tensors], tensors, batch_size, keep_input, num_threads, capacity,
                  enqueue_many, shapes, dynamic_pad, allow_smaller_final_batch, shared_name,
                  name, "batch")


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None,
               dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None,
               name=None):
    """Batches of elements from every entry of ``tensors_list`` (lists or dicts of one
    structure), each enqueued by its own thread (TF1 ``tf.train.batch_join``).

    Example:
        >>> batch = gc.train.batch_join([[x1, y1], [x2, y2]], batch_size=16)
    """
    return _batch(tensors_list, tensors_list[0] if tensors_list else [], batch_size, True, 1,
                  capacity, enqueue_many, shapes, dynamic_pad, allow_smaller_final_batch,
                  shared_name, name, "batch_join")


def maybe_batch_join(tensors_list, keep_input, batch_size, capacity=32, enqueue_many=False,
                     shapes=None, dynamic_pad=False, allow_smaller_final_batch=False,
                     shared_name=None, name=None):
    """``batch_join`` of the elements for which ``keep_input`` is True."""
    return _batch(tensors_list, tensors_list[0] if tensors_list else [], batch_size,
                  keep_input, 1, capacity, enqueue_many, shapes, dynamic_pad,
                  allow_smaller_final_batch, shared_name, name, "batch_join")


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None,
                  enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                  shared_name=None, name=None):
    """Batches of ``batch_size`` random elements of ``tensors``, drawn from a random-shuffle
    queue holding at least ``min_after_dequeue`` of them (TF1 ``tf.train.shuffle_batch``).

    Example:
        >>> images, labels = gc.train.shuffle_batch([image, label], 128, capacity=2000,
        ...                                         min_after_dequeue=1000, seed=1)
    """
    return _shuffle_batch([tensors], tensors, batch_size, capacity, min_after_dequeue, True,
                          num_threads, seed, enqueue_many, shapes, allow_smaller_final_batch,
                          shared_name, name, "shuffle_batch")


def maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input,
                        num_threads=1, seed=None, enqueue_many=False, shapes=None,
                        allow_smaller_final_batch=False, shared_name=None, name=None):
    """``shuffle_batch`` of the elements for which ``keep_input`` is True."""
    return _shuffle_batch([tensors], tensors, batch_size, capacity, min_after_dequeue,
                          keep_input, num_threads, seed, enqueue_many, shapes,
                          allow_smaller_final_batch, shared_name, name, "shuffle_batch")


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None,
                       enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                       shared_name=None, name=None):
    """``shuffle_batch`` over several inputs, each enqueued by its own thread (TF1
    ``tf.train.shuffle_batch_join``)."""
    return _shuffle_batch(tensors_list, tensors_list[0] if tensors_list else [], batch_size,
                          capacity, min_after_dequeue, True, 1, seed, enqueue_many, shapes,
                          allow_smaller_final_batch, shared_name, name, "shuffle_batch_join")


def maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue,
                             keep_input, seed=None, enqueue_many=False, shapes=None,
                             allow_smaller_final_batch=False, shared_name=None, name=None):
    """``shuffle_batch_join`` of the elements for which ``keep_input`` is True."""
    return _shuffle_batch(tensors_list, tensors_list[0] if tensors_list else [], batch_size,
                          capacity, min_after_dequeue, keep_input, 1, seed, enqueue_many,
                          shapes, allow_smaller_final_batch, shared_name, name,
                          "shuffle_batch_join")
