"""TF1's queues (``tf.FIFOQueue``, ``tf.RandomShuffleQueue``, ``tf.PaddingFIFOQueue``,
``tf.PriorityQueue``, their base ``tf.QueueBase``, also under ``tf.queue`` and ``tf.io``).

A queue object builds graph ops; the queue itself lives in each Session (two Sessions on one
graph have separate queues). An element is a tuple of tensors, one per component, of the
queue's ``dtypes`` and ``shapes`` (and ``names``, whose queues take and give dicts). The
blocking rules (``graphc.ops.queue_state``): an enqueue waits while the queue is full, a
dequeue until enough elements are there; once closed, enqueues raise CancelledError and a
dequeue that would wait raises OutOfRangeError. Threads feed queues while the main thread
dequeues (``gc.train.QueueRunner``, ``gc.train.start_queue_runners``).

Example:
    >>> q = gc.FIFOQueue(capacity=10, dtypes=[gc.float32, gc.int32], shapes=[[2], []])
    >>> enqueue = q.enqueue_many([features, labels])     # rows of [n, 2] and [n]
    >>> x, y = q.dequeue_many(4)                         # [4, 2] and [4]
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor, get_default_graph
from graphc.nodes import _user_location
from graphc.ops.array import stack
from graphc.ops.indexing import gather
from graphc.ops.random import get_seed
from graphc.shapes import TensorShape

__all__ = ["QueueBase", "FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue",
           "PriorityQueue"]


def _as_shapes(shapes, count: int, what: str, partial: bool = False) -> list:
    """TF1's shape lists: None (unknown), one shape (a list of ints), or one per component;
    given shapes must be fully defined (``partial``: of known rank, dimensions may be None)."""
    if shapes is None:
        return [TensorShape(None)] * count
    if isinstance(shapes, TensorShape) or (isinstance(shapes, (list, tuple)) and all(
            d is None or isinstance(d, int) for d in shapes)):
        shapes = [shapes]  # one component's shape given alone
    shapes = [TensorShape(s) for s in shapes]
    if len(shapes) != count:
        raise ValueError(f"{what}: shapes must have the same length as dtypes ({count}), "
                         f"got {len(shapes)} shapes")
    if any(s.rank is None for s in shapes):
        raise ValueError(f"{what}: all shapes must have a defined rank: "
                         f"{[str(s) for s in shapes]}")
    if not partial and not all(s.is_fully_defined() for s in shapes):
        raise ValueError(f"{what}: all shapes must be fully defined: {[str(s) for s in shapes]}"
                         " (a PaddingFIFOQueue takes unknown dimensions)")
    return shapes


def _as_list(values) -> list:
    return list(values) if isinstance(values, (list, tuple)) else [values]


class QueueBase:
    """The operations every queue has, on the queue ``queue_ref`` (a ``queue`` op's handle).

    Example:
        >>> q.enqueue([x, y]); q.dequeue(); q.dequeue_many(32); q.size(); q.close()
    """

    _kind = "FIFOQueue"

    def __init__(self, dtypes, shapes, names, queue_ref):
        self._dtypes = [gdt.as_dtype(d) for d in _as_list(dtypes)]
        self._shapes = _as_shapes(shapes, len(self._dtypes), type(self).__name__, partial=True)
        self._names = list(names) if names is not None else None
        if self._names is not None and len(self._names) != len(self._dtypes):
            raise ValueError(f"{type(self).__name__}: names must have the same length as "
                             f"dtypes ({len(self._dtypes)}), got {self._names}")
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def _create(kind, capacity, dtypes, shapes, names, shared_name, name, **attrs):
        """The ``queue`` op of a new queue (its handle), named ``name`` in the scope."""
        dtypes = [gdt.as_dtype(d) for d in _as_list(dtypes)]
        if not dtypes:
            raise ValueError(f"{kind}: dtypes must name at least one component")
        shapes = _as_shapes(shapes, len(dtypes), kind, partial=kind == "PaddingFIFOQueue")
        graph = get_default_graph()
        return graph.create_op("queue", [], dict(
            kind=kind, component_types=tuple(dtypes), shapes=tuple(shapes),
            capacity=int(capacity), shared_name=shared_name or "", **attrs),
            name=name).outputs[0]

    @staticmethod
    def from_list(index, queues) -> "QueueBase":
        """The queue ``queues[index]`` (``index`` a scalar tensor chosen at run time); the
        queues must have the same dtypes, shapes and names (TF1 ``QueueBase.from_list``).

        Example:
            >>> q = gc.QueueBase.from_list(gc.cast(is_training, gc.int32), [test_q, train_q])
        """
        queues = list(queues)
        if not queues or not all(isinstance(q, QueueBase) for q in queues):
            raise TypeError("A list of queues expected")
        first = queues[0]
        for other in queues[1:]:
            if (other.dtypes, [str(s) for s in other.shapes], other.names) != (
                    first.dtypes, [str(s) for s in first.shapes], first.names):
                raise TypeError(f"Queue '{other.name}' has dtypes {other.dtypes}, shapes "
                                f"{other.shapes} and names {other.names}, queue "
                                f"'{first.name}' {first.dtypes}, {first.shapes} and "
                                f"{first.names}: from_list needs them equal")
        with first._graph().as_default():
            ref = gather(stack([q.queue_ref for q in queues], name="refs"), index,
                         name="QueueFromList")
        return QueueBase(first.dtypes, first.shapes, first.names, ref)

    # -- properties -----------------------------------------------------------------------
    queue_ref = property(lambda self: self._queue_ref, doc="The queue's handle tensor.")
    name = property(lambda self: self._name, doc="The queue op's name (its last part).")
    dtypes = property(lambda self: list(self._dtypes))
    shapes = property(lambda self: list(self._shapes))
    names = property(lambda self: None if self._names is None else list(self._names))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self._queue_ref.op.name}' {self._dtypes}>"

    # -- building ops ---------------------------------------------------------------------
    def _graph(self):
        return self._queue_ref.graph

    def _components(self, vals, many: bool, where: str) -> list:
        """``vals`` as one tensor per component, checked against dtypes and shapes."""
        if isinstance(vals, dict):
            if self._names is None:
                raise ValueError(f"Queue '{self._name}' must have names to enqueue a "
                                 f"dictionary (at {where})")
            if sorted(self._names) != sorted(vals):
                raise ValueError(f"Keys in dictionary to enqueue do not match names of "
                                 f"Queue.  Dictionary: {sorted(vals)},Queue: "
                                 f"{sorted(self._names)} (queue '{self._name}', at {where})")
            vals = [vals[key] for key in self._names]
        else:
            if self._names is not None:
                raise ValueError(f"You must enqueue a dictionary in a Queue with names "
                                 f"(queue '{self._name}' has names {self._names}, at {where})")
            vals = _as_list(vals)
        if len(vals) != len(self._dtypes):
            raise ValueError(f"Queue '{self._name}' has {len(self._dtypes)} components "
                             f"({[d.name for d in self._dtypes]}), but {len(vals)} values "
                             f"were given to enqueue (at {where})")
        tensors = []
        for index, (value, dtype, shape) in enumerate(zip(vals, self._dtypes, self._shapes)):
            try:
                tensor = convert_to_tensor(value, dtype=dtype, name=f"component_{index}")
            except (TypeError, ValueError) as err:
                raise type(err)(f"component_{index} of queue '{self._name}': {err} (at "
                                f"{where})") from None
            element = tensor.shape
            if many:
                if element.rank == 0:
                    raise ValueError(f"Shape () must have rank at least 1: enqueue_many "
                                     f"slices component_{index} of queue '{self._name}' "
                                     f"along axis 0 (at {where})")
                element = TensorShape(None) if element.rank is None else \
                    TensorShape(element.dims[1:])
            if not shape.is_compatible_with(element):
                raise ValueError(f"Shapes {element} and {shape} are incompatible: "
                                 f"component_{index} of queue '{self._name}' (at {where})")
            tensors.append(tensor)
        return tensors

    def _enqueue(self, vals, many: bool, name, default: str):
        where = _user_location()
        graph = self._graph()
        with graph.as_default(), graph.atomic(), \
                graph.name_scope(name or f"{self._name}_{default}") as scope:
            tensors = self._components(vals, many, where)
            return graph.create_op("queue_enqueue_many" if many else "queue_enqueue",
                                   [self._queue_ref] + tensors, {}, name=scope)

    def enqueue(self, vals, name=None):
        """An op putting one element in (waits while the queue is full).

        Example:
            >>> sess.run(q.enqueue([x_value, y_value]))
        """
        return self._enqueue(vals, False, name, "enqueue")

    def enqueue_many(self, vals, name=None):
        """An op putting the rows of ``vals`` (sliced along axis 0) in as elements."""
        return self._enqueue(vals, True, name, "EnqueueMany")

    def _dequeue(self, op_type: str, inputs: list, name: str):
        graph = self._graph()
        with graph.as_default():
            op = graph.create_op(op_type, [self._queue_ref] + inputs, {
                "component_types": tuple(self._dtypes), "shapes": tuple(self._shapes)},
                name=name)
        outputs = list(op.outputs)
        if self._names is not None:
            return dict(zip(self._names, outputs))
        return outputs[0] if len(outputs) == 1 else outputs

    def dequeue(self, name=None):
        """One element: a tensor (one component), a list, or a dict (queues with names);
        waits until there is one, OutOfRangeError once the queue is closed and empty."""
        return self._dequeue("queue_dequeue", [], name or f"{self._name}_Dequeue")

    def _count(self, n):
        graph = self._graph()
        with graph.as_default():
            return convert_to_tensor(n, dtype=gdt.int32, name="n") \
                if not isinstance(n, Tensor) else n

    def dequeue_many(self, n, name=None):
        """``n`` elements as batches (a leading axis of size ``n`` on every component);
        waits until there are ``n``.

        Example:
            >>> images, labels = q.dequeue_many(128)
        """
        return self._dequeue("queue_dequeue_many", [self._count(n)],
                             name or f"{self._name}_DequeueMany")

    def dequeue_up_to(self, n, name=None):
        """Like ``dequeue_many``, but a closed queue gives its last (fewer) elements."""
        return self._dequeue("queue_dequeue_up_to", [self._count(n)],
                             name or f"{self._name}_DequeueUpTo")

    def close(self, cancel_pending_enqueues=False, name=None):
        """An op closing the queue (enqueues then fail; with ``cancel_pending_enqueues``
        also the waiting ones)."""
        graph = self._graph()
        with graph.as_default():
            return graph.create_op("queue_close", [self._queue_ref], {
                "cancel_pending_enqueues": bool(cancel_pending_enqueues)},
                name=name or f"{self._name}_Close")

    def is_closed(self, name=None):
        """A bool scalar: whether the queue is closed."""
        graph = self._graph()
        with graph.as_default():
            return graph.create_op("queue_is_closed", [self._queue_ref], {},
                                   name=name or f"{self._name}_Is_Closed").outputs[0]

    def size(self, name=None):
        """An int32 scalar: the number of elements in the queue."""
        graph = self._graph()
        with graph.as_default():
            return graph.create_op("queue_size", [self._queue_ref], {},
                                   name=name or f"{self._name}_Size").outputs[0]


class FIFOQueue(QueueBase):
    """A queue whose elements leave in the order they came (TF1 ``tf.FIFOQueue``).

    Example:
        >>> q = gc.FIFOQueue(32, [gc.string], shapes=[[]])
    """

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None,
                 name="fifo_queue"):
        ref = QueueBase._create("FIFOQueue", capacity, dtypes, shapes, names, shared_name,
                                name)
        super().__init__(dtypes, shapes, names, ref)


class PaddingFIFOQueue(QueueBase):
    """A FIFO queue whose components may have unknown dimensions (``None`` in ``shapes``):
    ``dequeue_many`` pads each batch to its largest element with zeros (empty strings)
    (TF1 ``tf.PaddingFIFOQueue``).

    Example:
        >>> q = gc.PaddingFIFOQueue(32, [gc.int32], shapes=[[None]])
    """

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None,
                 name="padding_fifo_queue"):
        dtypes = _as_list(dtypes)
        if shapes is None:
            raise ValueError("PaddingFIFOQueue needs shapes (None for unknown dimensions)")
        ref = QueueBase._create("PaddingFIFOQueue", capacity, dtypes, shapes, names,
                                shared_name, name)
        super().__init__(dtypes, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """A queue whose elements leave in random order; until it is closed, a dequeue leaves
    at least ``min_after_dequeue`` elements in it, so the order mixes that many
    (TF1 ``tf.RandomShuffleQueue``). ``seed`` (with the graph seed) makes the order
    reproducible: the same in every Session.

    Example:
        >>> q = gc.RandomShuffleQueue(100, 50, [gc.float32], shapes=[[3]], seed=7)
    """

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None,
                 seed=None, shared_name=None, name="random_shuffle_queue"):
        seed, seed2 = get_seed(seed)
        ref = QueueBase._create("RandomShuffleQueue", capacity, dtypes, shapes, names,
                                shared_name, name, min_after_dequeue=int(min_after_dequeue),
                                seed=seed, seed2=seed2)
        super().__init__(dtypes, shapes, names, ref)


class PriorityQueue(QueueBase):
    """A queue whose elements leave smallest priority first: component 0 of every element
    is its int64 scalar priority, before the ``types`` components (TF1 ``tf.PriorityQueue``;
    equal priorities leave in the order they came). ``names``, as in TF1, name every
    component, the priority first.

    Example:
        >>> q = gc.PriorityQueue(10, [gc.string], shapes=[[]])
        >>> q.enqueue([3, "c"]); q.enqueue([1, "a"])           # dequeue gives 1, b"a" first
    """

    def __init__(self, capacity, types, shapes=None, names=None, shared_name=None,
                 name="priority_queue"):
        types = _as_list(types)
        if shapes is not None:
            shapes = [TensorShape([])] + _as_shapes(shapes, len(types), "PriorityQueue")
        dtypes = [gdt.int64] + types
        ref = QueueBase._create("PriorityQueue", capacity, dtypes, shapes, names,
                                shared_name, name)
        super().__init__(dtypes, shapes, names, ref)
