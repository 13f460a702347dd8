"""Threads that stop together (TF1's ``tf.train.Coordinator``) and the runners that feed a
graph from threads (``QueueRunner``, ``start_queue_runners``).

A ``QueueRunner`` runs its ``enqueue_ops`` (a queue's enqueues, ``graphc.queues``; any ops)
in a loop until the coordinator stops or an op raises one of ``queue_closed_exception_types``
(OutOfRangeError: the input is exhausted), as TF1's runner does; then it closes its queue,
and a coordinator's stop closes it cancelling the waiting enqueues, so no thread stays
blocked on a full queue.

Example:
    >>> coord = gc.train.Coordinator()
    >>> threads = gc.train.start_queue_runners(sess, coord=coord)
    >>> try:
    ...     while not coord.should_stop():
    ...         sess.run(train_op)
    ... finally:
    ...     coord.request_stop()
    ...     coord.join(threads)
"""
from __future__ import annotations

import contextlib
import threading
import time

from graphc import tf_logging as logging
from graphc.default_session import get_default_session
from graphc.errors import OutOfRangeError
from graphc.graph import get_default_graph
from graphc.variables import GraphKeys

__all__ = ["Coordinator", "LooperThread", "QueueRunner", "add_queue_runner",
           "start_queue_runners"]


class Coordinator:
    """Lets threads ask each other to stop, and hands the first error to ``join``.

    Args:
        clean_stop_exception_types: errors that stop the threads without being an error
            (default: OutOfRangeError, the end of the input).

    Example:
        >>> with coord.stop_on_exception():
        ...     while not coord.should_stop():
        ...         work()
    """

    def __init__(self, clean_stop_exception_types=None):
        self._clean_stop_types = tuple(clean_stop_exception_types
                                       if clean_stop_exception_types is not None
                                       else (OutOfRangeError,))
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exception = None
        self._joined = False
        self._registered_threads: set = set()

    def _error_of(self, ex):
        """The exception in ``ex`` (an exception or ``sys.exc_info()``), None when clean."""
        if isinstance(ex, tuple):
            ex = ex[1]
        if ex is not None and not isinstance(ex, BaseException):
            raise ValueError(f"ex must be an exception or a sys.exc_info() tuple, got {ex!r}")
        return None if isinstance(ex, self._clean_stop_types) else ex

    def request_stop(self, ex=None) -> None:
        """Ask every thread to stop; the first non-clean ``ex`` is re-raised by ``join``
        (or here, once the coordinator has joined)."""
        with self._lock:
            ex = self._error_of(ex)
            if self._joined and ex is not None:
                raise ex
            if not self._stop_event.is_set():
                if ex is not None and self._exception is None:
                    logging.info("Error reported to Coordinator: %s", ex)
                    self._exception = ex
                self._stop_event.set()

    def clear_stop(self) -> None:
        """Forget the stop request and its error (to start new threads)."""
        with self._lock:
            self._joined, self._exception = False, None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """An exception raised inside requests a stop (and is kept for ``join``)."""
        try:
            yield
        except Exception as ex:  # noqa: BLE001 - reported to join, as TF1 does
            self.request_stop(ex)

    def wait_for_stop(self, timeout=None) -> bool:
        """Wait until a stop is requested (or ``timeout`` seconds); whether it was."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread) -> None:
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Wait for a stop request, then up to ``stop_grace_period_secs`` for the threads
        (given and registered) to end; re-raise the reported error.

        Raises:
            RuntimeError: threads still run after the grace period (unless
                ``ignore_live_threads``).
        """
        with self._lock:
            threads = set(threads or ()) | self._registered_threads
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stragglers = sorted(t.name for t in threads if t.is_alive())
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exception is not None:
                raise self._exception
        if stragglers:
            message = f"Coordinator stopped with threads still running: {' '.join(stragglers)}"
            if not ignore_live_threads:
                raise RuntimeError(message)
            logging.info(message)

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        """Re-raise the error a thread reported, if any."""
        with self._lock:
            if self._exception is not None:
                raise self._exception


class LooperThread(threading.Thread):
    """A daemon thread that calls ``target(*args, **kwargs)`` (or ``run_loop``) until its
    coordinator stops: back to back, or every ``timer_interval_secs`` seconds. An error
    inside is reported to the coordinator.

    Example:
        >>> gc.train.LooperThread.loop(coord, 60, target=save_summaries, args=(sess,))
    """

    def __init__(self, coord, timer_interval_secs, target=None, args=None, kwargs=None):
        if target is None and (args or kwargs):
            raise ValueError("'args' and 'kwargs' argument require that you also pass "
                             "'target'")
        super().__init__(daemon=True)
        self._coord, self._interval = coord, timer_interval_secs
        self._target_fn, self._args, self._kwargs = target, args or (), kwargs or {}
        coord.register_thread(self)

    @staticmethod
    def loop(coord, timer_interval_secs, target, args=None, kwargs=None) -> "LooperThread":
        """Start a LooperThread calling ``target``; returns it."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper

    def run(self):
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._interval is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.monotonic()
                while not self._coord.wait_for_stop(max(0.0, next_time - time.monotonic())):
                    next_time += self._interval
                    self.run_loop()
            self.stop_loop()

    def start_loop(self):
        """Called once when the thread starts."""

    def stop_loop(self):
        """Called once when the coordinator stops the loop."""

    def run_loop(self):
        """One iteration: calls ``target``."""
        if self._target_fn is not None:
            self._target_fn(*self._args, **self._kwargs)


class QueueRunner:
    """Runs each of ``enqueue_ops`` in its own thread until the coordinator stops or an op
    raises a ``queue_closed_exception_types`` error; then runs ``close_op`` once.

    Example:
        >>> runner = gc.train.QueueRunner(enqueue_ops=[fill_buffer_op])
        >>> gc.train.add_queue_runner(runner)
    """

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, name=None):
        if not enqueue_ops:
            raise ValueError("QueueRunner needs enqueue_ops: the ops its threads run")
        self._queue, self._enqueue_ops = queue, list(enqueue_ops)
        if queue is not None and hasattr(queue, "close"):  # TF1's defaults for a real queue
            close_op = close_op if close_op is not None else queue.close()
            cancel_op = cancel_op if cancel_op is not None else \
                queue.close(cancel_pending_enqueues=True)
        self._close_op, self._cancel_op = close_op, cancel_op
        self._closed_types = tuple(queue_closed_exception_types or (OutOfRangeError,))
        self._name = name or getattr(queue, "name", None) or "queue_runner"
        self._lock = threading.Lock()
        self._runs_per_session: dict = {}
        self._exceptions_raised: list = []

    name = property(lambda self: self._name)
    queue = property(lambda self: self._queue)
    enqueue_ops = property(lambda self: list(self._enqueue_ops))
    close_op = property(lambda self: self._close_op)
    cancel_op = property(lambda self: self._cancel_op)
    exceptions_raised = property(lambda self: list(self._exceptions_raised))

    def _run(self, sess, enqueue_op, coord) -> None:
        try:
            while not (coord and coord.should_stop()):
                try:
                    sess.run(enqueue_op)
                except self._closed_types:
                    return
        except Exception as ex:  # noqa: BLE001 - handed to the coordinator, as TF1 does
            with self._lock:
                self._exceptions_raised.append(ex)
            if coord is None:
                logging.error("Exception in QueueRunner: %s", ex)
                raise
            coord.request_stop(ex)
        finally:
            with self._lock:
                self._runs_per_session[sess] -= 1
                last = self._runs_per_session[sess] == 0
            if last and self._close_op is not None:
                with contextlib.suppress(Exception):
                    sess.run(self._close_op)

    def _close_on_stop(self, sess, coord) -> None:
        coord.wait_for_stop()
        if self._cancel_op is not None:
            with contextlib.suppress(Exception):
                sess.run(self._cancel_op)

    def create_threads(self, sess, coord=None, daemon=False, start=False) -> list:
        """The runner's threads for ``sess`` (none when they already run there)."""
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerThread-{self._name}-{op.name}")
                   for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(
                target=self._close_on_stop, args=(sess, coord),
                name=f"QueueRunnerThread-{self._name}-close_on_stop"))
        for thread in threads:
            if coord is not None:
                coord.register_thread(thread)
            thread.daemon = daemon
            if start:
                thread.start()
        return threads


def add_queue_runner(qr, collection=GraphKeys.QUEUE_RUNNERS) -> None:
    """Add ``qr`` to the default graph's ``collection`` (for ``start_queue_runners``)."""
    get_default_graph().add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord=None, daemon=True, start=True,
                        collection=GraphKeys.QUEUE_RUNNERS) -> list:
    """Start the threads of every QueueRunner in the graph's ``collection``; returns them.

    Example:
        >>> threads = gc.train.start_queue_runners(sess, coord)
    """
    sess = sess or get_default_session()
    if sess is None:
        raise ValueError("Cannot start queue runners: No default session is registered. "
                         "Use `with sess.as_default()` or pass an explicit session to "
                         "tf.start_queue_runners(sess=sess)")
    runners = sess.graph.get_collection(collection)
    return [thread for runner in runners
            for thread in runner.create_threads(sess, coord=coord, daemon=daemon, start=start)]
