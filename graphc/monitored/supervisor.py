"""TF1's ``tf.train.Supervisor``: the older wrapper around a SessionManager, a Coordinator
and background threads that save checkpoints and summaries every so many seconds.

``managed_session()`` restores ``logdir``'s latest checkpoint or initializes, starts the
standard services (summaries every ``save_summaries_secs``, the steps per second, a
checkpoint every ``save_model_secs``) and the graph's queue runners, and on leaving the
block stops and joins them; an OutOfRangeError inside the block is a clean stop, any other
error is re-raised after the threads stopped. As TF1's, it saves no final checkpoint.

Example:
    >>> sv = gc.train.Supervisor(logdir="run", save_model_secs=60)
    >>> with sv.managed_session() as sess:
    ...     while not sv.should_stop():
    ...         sess.run(train_op)
"""
from __future__ import annotations

import contextlib
import os
import time

from graphc import tf_logging as logging
from graphc.dtypes import as_dtype
from graphc.graph import get_default_graph
from graphc.monitored.coordinator import Coordinator, LooperThread
from graphc.monitored.scaffold import Scaffold, report_uninitialized_variables
from graphc.monitored.session_manager import SessionManager
from graphc.saving import Saver, write_graph
from graphc.summary import FileWriter, merge_all
from graphc.summary.protos import protos
from graphc.variables import GraphKeys, global_variables, global_variables_initializer

__all__ = ["Supervisor"]

USE_DEFAULT = 0  # TF1's Supervisor.USE_DEFAULT; None means "none"


def _have_tensorboard() -> bool:
    try:
        protos()
    except ImportError as err:
        logging.warning("Supervisor: no summary events are written: %s", err)
        return False
    return True


def _session_log(status):
    session_log = protos().SessionLog
    return session_log(status=getattr(session_log, status))


class _StepCounterThread(LooperThread):
    """Writes the global steps per second as ``global_step/sec`` every
    ``save_summaries_secs`` (TF1's SVStepCounterThread)."""

    def __init__(self, supervisor, sess):
        super().__init__(supervisor.coord, supervisor.save_summaries_secs)
        self._supervisor, self._sess = supervisor, sess
        self._tag = f"{supervisor.global_step.op.name}/sec"

    def start_loop(self):
        self._last_time = time.time()
        self._last_step = self._supervisor._step_value(self._sess)

    def run_loop(self):
        step, now = self._supervisor._step_value(self._sess), time.time()
        elapsed = now - self._last_time
        per_sec = (step - self._last_step) / elapsed if elapsed > 0 else float("inf")
        self._last_step, self._last_time = step, now
        pb = protos()
        self._supervisor.summary_writer.add_summary(
            pb.Summary(value=[pb.Summary.Value(tag=self._tag, simple_value=per_sec)]), step)
        logging.log_first_n(logging.INFO, "%s: %g", 10, self._tag, per_sec)


class Supervisor:
    """Initializes or restores, then runs checkpoint and summary threads (TF1).

    Args:
        logdir: checkpoints (``<logdir>/model.ckpt-<step>``), summaries and
            ``graph.pbtxt``; None: none of them.
        init_op, ready_op, local_init_op, summary_op, saver, global_step: ``USE_DEFAULT``
            takes the graph's collection or TF1's default; None turns the part off.
        save_summaries_secs, save_model_secs: the threads' intervals (0 or None: off).
        init_fn: ``init_fn(sess)``, called after ``init_op`` when nothing is restored.

    Example:
        >>> sv = gc.train.Supervisor(logdir="run")
        >>> with sv.managed_session() as sess:
        ...     sess.run(train_op)
    """

    USE_DEFAULT = USE_DEFAULT

    def __init__(self, graph=None, ready_op=USE_DEFAULT, ready_for_local_init_op=USE_DEFAULT,
                 is_chief=True, init_op=USE_DEFAULT, init_feed_dict=None,
                 local_init_op=USE_DEFAULT, logdir=None, summary_op=USE_DEFAULT,
                 saver=USE_DEFAULT, global_step=USE_DEFAULT, save_summaries_secs=120,
                 save_model_secs=600, recovery_wait_secs=30, stop_grace_secs=120,
                 checkpoint_basename="model.ckpt", session_manager=None,
                 summary_writer=USE_DEFAULT, init_fn=None, local_init_run_options=None):
        if logdir is not None and os.path.exists(logdir) and not os.path.isdir(logdir):
            raise ValueError(f"Supervisor: logdir {logdir!r} exists and is not a directory")
        self._graph = graph if graph is not None else get_default_graph()
        with self._graph.as_default():
            self._init_ops(ready_op, ready_for_local_init_op, init_op, local_init_op,
                           summary_op, saver, global_step)
        self._is_chief, self._init_feed_dict, self._init_fn = is_chief, init_feed_dict, init_fn
        self._logdir = logdir
        self._save_path = os.path.join(logdir, checkpoint_basename) if logdir else None
        self._save_summaries_secs, self._save_model_secs = save_summaries_secs, save_model_secs
        self._stop_grace_secs = stop_grace_secs
        if summary_writer is USE_DEFAULT:
            summary_writer = FileWriter(logdir) if logdir and self._is_chief and \
                _have_tensorboard() else None
        self._summary_writer = summary_writer
        self._session_manager = session_manager or SessionManager(
            local_init_op=self._local_init_op, ready_op=self._ready_op,
            ready_for_local_init_op=self._ready_for_local_init_op, graph=self._graph,
            recovery_wait_secs=recovery_wait_secs)
        self._coord = Coordinator()
        self._started_threads: list = []
        self._graph.finalize()

    def _init_ops(self, ready_op, ready_for_local_init_op, init_op, local_init_op, summary_op,
                  saver, global_step) -> None:
        def chosen(value, key, default, remember=True):
            """``value``, else the collection's first item, else ``default()`` (added to
            the collection, as TF1's Supervisor adds it)."""
            if value is not USE_DEFAULT:
                return value
            found = self._graph.get_collection(key)
            if found:
                return found[0]
            made = default()
            if made is not None and remember:
                self._graph.add_to_collection(key, made)
            return made

        self._ready_op = chosen(ready_op, GraphKeys.READY_OP, report_uninitialized_variables)
        self._ready_for_local_init_op = chosen(
            ready_for_local_init_op, GraphKeys.READY_FOR_LOCAL_INIT_OP,
            lambda: report_uninitialized_variables(global_variables()))
        self._init_op = chosen(init_op, GraphKeys.INIT_OP, global_variables_initializer)
        self._local_init_op = chosen(local_init_op, GraphKeys.LOCAL_INIT_OP,
                                     Scaffold.default_local_init_op)
        self._summary_op = chosen(summary_op, GraphKeys.SUMMARY_OP, merge_all)
        self._saver = chosen(saver, GraphKeys.SAVERS,
                             lambda: Saver() if global_variables() else None)
        self._global_step = chosen(global_step, GraphKeys.GLOBAL_STEP, self._step_by_name,
                                   remember=False)

    def _step_by_name(self):
        """TF1's fallback: a tensor named ``global_step:0`` of an integer type."""
        try:
            step = self._graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
        return step if as_dtype(step.dtype).is_integer else None

    # -- TF1's properties -----------------------------------------------------------------
    is_chief = property(lambda self: self._is_chief)
    session_manager = property(lambda self: self._session_manager)
    coord = property(lambda self: self._coord)
    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    summary_writer = property(lambda self: self._summary_writer)
    summary_op = property(lambda self: self._summary_op)
    save_summaries_secs = property(lambda self: self._save_summaries_secs)
    global_step = property(lambda self: self._global_step)
    saver = property(lambda self: self._saver)
    save_model_secs = property(lambda self: self._save_model_secs)
    save_path = property(lambda self: self._save_path)

    # -- sessions and services ------------------------------------------------------------
    def _step_value(self, sess):
        return None if self._global_step is None else int(sess.run(self._global_step))

    def _write_graph(self) -> None:
        if not (self._is_chief and self._logdir):
            return
        try:
            write_graph(self._graph, self._logdir, "graph.pbtxt")
        except TypeError as err:  # a graph holding Python objects (py_func, datasets)
            logging.warning("Supervisor: no graph.pbtxt written: %s", err)
        if self._summary_writer is not None:
            self._summary_writer.add_graph(self._graph)

    def prepare_or_wait_for_session(self, master="", config=None, wait_for_checkpoint=False,
                                    max_wait_secs=7200, start_standard_services=True):
        """The chief's restored or initialized session (a worker's, once ready), with the
        standard services and queue runners started."""
        self._coord.clear_stop()
        if self._summary_writer is not None:
            self._summary_writer.reopen()
        if self._is_chief:
            sess = self._session_manager.prepare_session(
                master, init_op=self._init_op, saver=self._saver, checkpoint_dir=self._logdir,
                wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs,
                config=config, init_feed_dict=self._init_feed_dict, init_fn=self._init_fn)
            self._write_graph()
            if start_standard_services:
                logging.info("Starting standard services.")
                self.start_standard_services(sess)
        else:
            sess = self._session_manager.wait_for_session(master, config=config,
                                                          max_wait_secs=max_wait_secs)
        if start_standard_services:
            logging.info("Starting queue runners.")
            self.start_queue_runners(sess)
        return sess

    def start_standard_services(self, sess) -> list:
        """Start the summary, step-counter and checkpoint threads (the chief only)."""
        if not self._is_chief:
            raise RuntimeError("Only chief supervisor can start standard services. Because "
                               "only chief supervisors can write events.")
        if not self._logdir:
            logging.warning("Standard services need a 'logdir' passed to the SessionManager")
            return []
        if self._summary_writer is not None:
            self._summary_writer.add_session_log(_session_log("START"), self._step_value(sess))
        threads = []
        if self._save_summaries_secs and self._summary_writer is not None:
            if self._summary_op is not None:
                threads.append(LooperThread(self._coord, self._save_summaries_secs,
                                            target=self._write_summaries, args=(sess,)))
            if self._global_step is not None:
                threads.append(_StepCounterThread(self, sess))
        if self._saver is not None and self._save_model_secs:
            threads.append(LooperThread(self._coord, self._save_model_secs,
                                        target=self._save_checkpoint, args=(sess,)))
        for thread in threads:
            thread.start()
        self._started_threads.extend(threads)
        return threads

    def _write_summaries(self, sess) -> None:
        if self._summary_op is not None:
            summary, step = sess.run([self._summary_op, self._global_step]) \
                if self._global_step is not None else (sess.run(self._summary_op), None)
            self._summary_writer.add_summary(summary, step)

    def _save_checkpoint(self, sess) -> None:
        logging.info("Saving checkpoint to path %s", self._save_path)
        self._saver.save(sess, self._save_path, global_step=self._global_step)
        if self._summary_writer is not None and self._global_step is not None:
            session_log = _session_log("CHECKPOINT")
            session_log.checkpoint_path = self._save_path
            self._summary_writer.add_session_log(session_log, self._step_value(sess))

    def start_queue_runners(self, sess, queue_runners=None) -> list:
        """Start the graph's (or the given) queue runners under this coordinator."""
        if queue_runners is None:
            queue_runners = self._graph.get_collection(GraphKeys.QUEUE_RUNNERS)
        threads = [t for runner in queue_runners
                   for t in runner.create_threads(sess, coord=self._coord, daemon=True,
                                                  start=True)]
        return threads

    def loop(self, timer_interval_secs, target, args=None, kwargs=None):
        """Call ``target`` every ``timer_interval_secs`` in a thread until the stop."""
        looper = LooperThread(self._coord, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        self._started_threads.append(looper)
        return looper

    def summary_computed(self, sess, summary, global_step=None) -> None:
        """Write a summary value computed by the caller, at the global step by default."""
        if self._summary_writer is None:
            raise RuntimeError("Writing a summary requires a summary writer.")
        if global_step is None and self._global_step is not None:
            global_step = self._step_value(sess)
        self._summary_writer.add_summary(summary, global_step)

    # -- stopping -------------------------------------------------------------------------
    def should_stop(self) -> bool:
        return self._coord.should_stop()

    def request_stop(self, ex=None) -> None:
        self._coord.request_stop(ex=ex)

    def stop_on_exception(self):
        return self._coord.stop_on_exception()

    def wait_for_stop(self) -> None:
        self._coord.wait_for_stop()

    def stop(self, threads=None, close_summary_writer=True, ignore_live_threads=False):
        """Stop and join the started threads (re-raising an error one reported), then
        write a STOP event and close the summary writer."""
        join = self._started_threads + list(threads or [])
        self._coord.request_stop()
        try:
            self._coord.join(join, stop_grace_period_secs=self._stop_grace_secs,
                             ignore_live_threads=ignore_live_threads)
        finally:
            self._started_threads = []
            if close_summary_writer and self._summary_writer is not None:
                self._summary_writer.add_session_log(_session_log("STOP"))
                self._summary_writer.close()

    @contextlib.contextmanager
    def managed_session(self, master="", config=None, start_standard_services=True,
                        close_summary_writer=True):
        """A prepared session; leaving the block stops the threads and closes it.

        Example:
            >>> with sv.managed_session() as sess:
            ...     while not sv.should_stop():
            ...         sess.run(train_op)
        """
        sess = None
        try:
            sess = self.prepare_or_wait_for_session(
                master=master, config=config, start_standard_services=start_standard_services)
            yield sess
        except Exception as ex:  # noqa: BLE001 - join re-raises it unless it is a clean stop
            self.request_stop(ex)
        finally:
            try:
                self.stop(close_summary_writer=close_summary_writer)
            finally:
                if sess is not None:
                    sess.close()
