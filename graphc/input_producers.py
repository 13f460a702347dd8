"""TF1's input producers (``tf.train.string_input_producer``, ``range_input_producer``,
``slice_input_producer``, ``input_producer``, ``limit_epochs``, ``match_filenames_once``).

A producer is a FIFO queue that a ``QueueRunner`` (in the graph's QUEUE_RUNNERS collection)
fills with the rows of a tensor, shuffled each epoch when ``shuffle``; ``num_epochs`` stops
it after that many passes through a local variable (run ``gc.local_variables_initializer()``),
after which the queue closes and its readers end with OutOfRangeError, as in TF1.

Example:
    >>> filenames = gc.train.string_input_producer(["a.csv", "b.csv"], num_epochs=2)
    >>> key, line = gc.TextLineReader().read(filenames)
    >>> sess.run(gc.local_variables_initializer())
    >>> threads = gc.train.start_queue_runners(sess, coord)
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc import summary
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.monitored.coordinator import QueueRunner, add_queue_runner
from graphc.ops.control import identity
from graphc.ops.count_up_to import count_up_to
from graphc.ops.creation import constant, range as range_
from graphc.ops.debug import Assert
from graphc.ops.elementwise import greater
from graphc.ops.indexing import gather
from graphc.ops.random_more import random_shuffle
from graphc.ops.select import cast
from graphc.ops.shape_ops import shape, size
from graphc.queues import FIFOQueue
from graphc.shapes import TensorShape
from graphc.tf_io import match_filenames_once  # noqa: F401 - tf.train's name too
from graphc.variables import GraphKeys, Variable

__all__ = ["limit_epochs", "input_producer", "string_input_producer", "range_input_producer",
           "slice_input_producer", "match_filenames_once"]


def limit_epochs(tensor, num_epochs=None, name=None):
    """``tensor``, but only ``num_epochs`` times: the next run raises OutOfRangeError. The
    count is a local variable (``limit_epochs/epochs``; run
    ``gc.local_variables_initializer()``). None: no limit (``tensor`` itself).

    Example:
        >>> data = gc.train.limit_epochs(gc.constant([1, 2]), num_epochs=2)
    """
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    graph = get_default_graph()
    with graph.name_scope(name or "limit_epochs") as scope:
        tensor = convert_to_tensor(tensor)
        epochs = Variable(constant(0, dtype=gdt.int64), name="epochs", trainable=False,
                          collections=[GraphKeys.LOCAL_VARIABLES])
        counter = count_up_to(epochs, num_epochs)
        with graph.control_dependencies([counter]):
            return identity(tensor, name=scope)


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True,
                   seed=None, capacity=32, shared_name=None, summary_name=None, name=None,
                   cancel_op=None):
    """A FIFO queue of capacity ``capacity`` that a QueueRunner fills with the rows of
    ``input_tensor`` (shuffled each epoch when ``shuffle``), ``num_epochs`` times (None:
    forever).

    Example:
        >>> q = gc.train.input_producer(gc.constant([[1, 2], [3, 4]]), shuffle=False)
        >>> row = q.dequeue()
    """
    graph = get_default_graph()
    with graph.name_scope(name or "input_producer") as scope:
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        if input_tensor.shape.rank == 0:
            raise ValueError(f"input_producer: input_tensor {input_tensor.name!r} must have "
                             "rank at least 1 (its rows are the elements)")
        rows = TensorShape(None) if input_tensor.shape.rank is None else \
            TensorShape(input_tensor.shape.dims[1:])
        element_shape = rows.merge_with(TensorShape(element_shape))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or "
                             "`element_shape` must be specified")
        if shuffle:
            input_tensor = random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        queue = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype],
                          shapes=[element_shape], shared_name=shared_name, name=scope)
        enqueue = queue.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(queue, [enqueue], cancel_op=cancel_op))
        if summary_name is not None:
            summary.scalar(summary_name, cast(queue.size(), gdt.float32) * (1.0 / capacity))
        return queue


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None,
                          capacity=32, shared_name=None, name=None, cancel_op=None):
    """A queue of the strings (file names) of ``string_tensor``, ``num_epochs`` times,
    reshuffled each epoch when ``shuffle`` (TF1 ``tf.train.string_input_producer``).

    Example:
        >>> filenames = gc.train.string_input_producer(["data_batch_1.bin"], shuffle=False)
        >>> key, value = gc.FixedLengthRecordReader(3073).read(filenames)
    """
    not_null = "string_input_producer requires a non-null input tensor"
    if isinstance(string_tensor, (list, tuple)) and not string_tensor:
        raise ValueError(not_null)  # a tensor or variable is checked when it runs
    graph = get_default_graph()
    with graph.name_scope(name or "input_producer") as scope:
        string_tensor = convert_to_tensor(string_tensor, dtype=gdt.string)
        with graph.control_dependencies([Assert(greater(size(string_tensor), 0),
                                                [not_null])]):
            string_tensor = identity(string_tensor)
        return input_producer(string_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, f"fraction_of_{capacity}_full", scope, cancel_op)


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """A queue of the int32 numbers 0 .. limit - 1, ``num_epochs`` times, reshuffled each
    epoch when ``shuffle`` (TF1 ``tf.train.range_input_producer``).

    Example:
        >>> index = gc.train.range_input_producer(10, shuffle=False).dequeue()
    """
    with get_default_graph().name_scope(name or "input_producer") as scope:
        return input_producer(range_(limit), [], num_epochs, shuffle, seed, capacity,
                              shared_name, f"fraction_of_{capacity}_full", scope)


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None,
                         capacity=32, shared_name=None, name=None):
    """One row (slice along axis 0) of every tensor of ``tensor_list`` per run, the same row
    of each, ``num_epochs`` times over, shuffled when ``shuffle`` (TF1
    ``tf.train.slice_input_producer``).

    Example:
        >>> image, label = gc.train.slice_input_producer([images, labels], shuffle=False)
    """
    with get_default_graph().name_scope(name or "input_producer"):
        tensors = [convert_to_tensor(t) for t in tensor_list]
        if not tensors:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        queue = range_input_producer(shape(tensors[0])[0], num_epochs=num_epochs,
                                     shuffle=shuffle, seed=seed, capacity=capacity,
                                     shared_name=shared_name)
        index = queue.dequeue()
        return [gather(t, index) for t in tensors]
