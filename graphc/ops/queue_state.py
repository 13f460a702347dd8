"""The queues of TF1's input pipelines as Session state: FIFO, random-shuffle, padding-FIFO
and priority queues holding tuples of arrays (one per component), with TF1's blocking rules.

- An enqueue waits while the queue is full; ``enqueue_many`` puts its elements in one by one
  as room appears (a batch larger than the capacity goes through), and pending enqueues are
  served in the order they came, so one batch's elements stay together.
- A dequeue waits until enough elements are there (more than ``min_after_dequeue`` for a
  random-shuffle queue), taking them as they come (a batch larger than the capacity comes
  out); pending dequeues are served in order, so each gets consecutive elements.
- ``close()``: later enqueues fail with CancelledError; dequeues still take what is left,
  and a dequeue that would wait for more fails with OutOfRangeError instead (a random-shuffle
  queue then ignores ``min_after_dequeue``). ``cancel_pending_enqueues`` also ends the
  enqueues waiting for room, with CancelledError. ``cancel()`` (the Session closes) ends
  every waiting run with CancelledError.

Example:
    >>> queue = FIFOQueueState("q", capacity=2)
    >>> queue.enqueue_many([(np.int32(1),), (np.int32(2),)], op=None)
    >>> queue.dequeue_many(1, op=None)     # [(np.int32(1),)]
"""
from __future__ import annotations

import collections
import heapq
import itertools
import threading

import numpy as np

from graphc.errors import CancelledError, InvalidArgumentError, OutOfRangeError, describe_op

__all__ = ["QueueState", "FIFOQueueState", "RandomShuffleQueueState",
           "PaddingFIFOQueueState", "PriorityQueueState", "QUEUE_KINDS"]


class _Pending:
    """One waiting enqueue or dequeue; ``cancelled`` ends its wait with CancelledError."""

    __slots__ = ("cancelled",)

    def __init__(self):
        self.cancelled = False


class QueueState:
    """A bounded FIFO queue of element tuples shared by the runs of one Session.

    ``capacity < 0`` means unbounded. Subclasses change where elements go (``_push``),
    which leave (``_take``) and how a batch of them becomes arrays (``batch``).
    """

    kind = "FIFOQueue"

    def __init__(self, name: str, capacity: int, min_after_dequeue: int = 0, seed=None):
        self.name = name
        self.capacity = int(capacity)
        self.min_after_dequeue = int(min_after_dequeue)
        self._cond = threading.Condition()
        self._closed = False
        self._enqueuers: collections.deque = collections.deque()
        self._dequeuers: collections.deque = collections.deque()
        self._init_storage(seed)

    # -- storage (subclasses override) ----------------------------------------------------
    def _init_storage(self, seed) -> None:
        self._items: collections.deque = collections.deque()

    def _size(self) -> int:
        return len(self._items)

    def _push(self, element: tuple) -> None:
        self._items.append(element)

    def _take(self, count: int) -> list:
        return [self._items.popleft() for _ in range(count)]

    def _restore(self, elements: list) -> None:
        """Put taken ``elements`` back where they were (a failed dequeue_many)."""
        self._items.extendleft(reversed(elements))

    def batch(self, elements: list, op) -> list:
        """The elements' components stacked into arrays with a leading batch axis."""
        if not elements:
            raise InvalidArgumentError(None, op, f"{describe_op(op)}: cannot batch zero "
                                       "elements")
        return [np.stack(parts) for parts in zip(*elements)]

    # -- the operations -------------------------------------------------------------------
    def size(self) -> int:
        with self._cond:
            return self._size()

    def is_closed(self) -> bool:
        with self._cond:
            return self._closed

    def close(self, cancel_pending_enqueues: bool = False) -> None:
        with self._cond:
            self._closed = True
            if cancel_pending_enqueues:
                for pending in self._enqueuers:
                    pending.cancelled = True
            self._cond.notify_all()

    def cancel(self) -> None:
        """End every waiting enqueue and dequeue with CancelledError (the Session closed)."""
        with self._cond:
            self._closed = True
            for pending in itertools.chain(self._enqueuers, self._dequeuers):
                pending.cancelled = True
            self._cond.notify_all()

    def enqueue_many(self, elements: list, op) -> None:
        """Put ``elements`` (tuples of arrays) in, waiting for room as needed."""
        if not elements:
            return  # as TF1: an empty batch is no enqueue, even into a closed queue
        with self._cond:
            if self._closed:
                raise CancelledError(None, op, f"{self.kind} '{self.name}' is closed "
                                     f"({describe_op(op)})")
            pending = _Pending()
            self._enqueuers.append(pending)
            try:
                done = 0
                while True:
                    if pending.cancelled:
                        raise CancelledError(None, op, "Enqueue operation was cancelled "
                                             f"({describe_op(op)})")
                    if self._enqueuers[0] is pending:
                        start = done
                        while done < len(elements) and (
                                self.capacity < 0 or self._size() < self.capacity):
                            self._push(elements[done])
                            done += 1
                        if done > start:
                            self._cond.notify_all()
                        if done == len(elements):
                            return
                    self._cond.wait()
            finally:
                self._enqueuers.remove(pending)
                self._cond.notify_all()

    def dequeue_many(self, count: int, op, allow_smaller: bool = False) -> list:
        """Take ``count`` elements (fewer, but at least one, from a closed queue when
        ``allow_smaller``), waiting until they are there. The elements are taken as they
        come, so ``count`` may exceed the capacity; a closed queue that cannot give them
        all gets them back (at the front) and the dequeue fails."""
        with self._cond:
            pending = _Pending()
            self._dequeuers.append(pending)
            taken: list = []
            try:
                while True:
                    if pending.cancelled:
                        raise CancelledError(None, op, "Dequeue operation was cancelled "
                                             f"({describe_op(op)})")
                    if self._dequeuers[0] is pending:
                        keep = 0 if self._closed else self.min_after_dequeue
                        room = min(count - len(taken), self._size() - keep)
                        if room > 0:
                            taken.extend(self._take(room))
                            self._cond.notify_all()  # room for the waiting enqueues
                        if len(taken) == count or (self._closed and allow_smaller and taken):
                            return taken
                        if self._closed:
                            self._restore(taken)
                            raise OutOfRangeError(
                                None, op, f"{self.kind} '{self.name}' is closed and has "
                                f"insufficient elements (requested {count}, current size "
                                f"{self._size()}) ({describe_op(op)})")
                    self._cond.wait()
            finally:
                self._dequeuers.remove(pending)
                self._cond.notify_all()


class FIFOQueueState(QueueState):
    """Elements leave in the order they came (TF1 ``FIFOQueue``)."""


class RandomShuffleQueueState(QueueState):
    """Elements leave in random order, drawn from a generator seeded by ``seed`` (a pair:
    the same sequence in every Session), and a dequeue leaves ``min_after_dequeue``
    elements behind until the queue is closed (TF1 ``RandomShuffleQueue``)."""

    kind = "RandomShuffleQueue"

    def _init_storage(self, seed) -> None:
        self._items: list = []
        self._rng = np.random.default_rng(None if seed is None else
                                          [int(s) & 0xFFFFFFFF for s in seed])

    def _take(self, count: int) -> list:
        taken = []
        for _ in range(count):
            index = int(self._rng.integers(len(self._items)))
            # swap the drawn element to the end: removal in O(1)
            self._items[index], self._items[-1] = self._items[-1], self._items[index]
            taken.append(self._items.pop())
        return taken

    def _restore(self, elements: list) -> None:
        self._items.extend(elements)


class PaddingFIFOQueueState(QueueState):
    """A FIFO queue whose batches pad each component to the largest shape among the batch's
    elements, with zeros (empty strings for strings) (TF1 ``PaddingFIFOQueue``)."""

    kind = "PaddingFIFOQueue"

    def batch(self, elements: list, op) -> list:
        arrays = []
        for parts in zip(*elements):
            ranks = {np.ndim(p) for p in parts}
            if len(ranks) != 1:
                raise InvalidArgumentError(None, op, f"{describe_op(op)}: elements of ranks "
                                           f"{sorted(ranks)} cannot be batched together")
            shape = tuple(max(dims) for dims in zip(*(np.shape(p) for p in parts)))
            first = np.asarray(parts[0])
            fill = b"" if first.dtype == object else 0
            out = np.full((len(parts),) + shape, fill, dtype=first.dtype)
            for row, part in zip(out, parts):
                row[tuple(slice(0, d) for d in np.shape(part))] = part
            arrays.append(out)
        return arrays


class PriorityQueueState(QueueState):
    """Elements leave smallest priority first (component 0, an int64 scalar); equal
    priorities leave in the order they came (TF1 ``PriorityQueue``)."""

    kind = "PriorityQueue"

    def _init_storage(self, seed) -> None:
        self._items: list = []
        self._arrivals = itertools.count()

    def _push(self, element: tuple) -> None:
        heapq.heappush(self._items, (int(element[0]), next(self._arrivals), element))

    def _take(self, count: int) -> list:
        return [heapq.heappop(self._items)[2] for _ in range(count)]

    def _restore(self, elements: list) -> None:
        for element in elements:
            self._push(element)


# the ``kind`` attribute of a ``queue`` op -> the state it makes
QUEUE_KINDS = {cls.kind: cls for cls in (FIFOQueueState, RandomShuffleQueueState,
                                         PaddingFIFOQueueState, PriorityQueueState)}
