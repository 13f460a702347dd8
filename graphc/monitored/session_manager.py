"""TF1's ``tf.train.SessionManager``: sessions that are restored from a checkpoint or
initialized, then locally initialized and checked ready (what the chief and worker session
creators of monitored sessions use).

Example:
    >>> manager = gc.train.SessionManager(ready_op=gc.report_uninitialized_variables())
    >>> sess = manager.prepare_session("", init_op=init, saver=saver, checkpoint_dir="run")
"""
from __future__ import annotations

import time

import numpy as np

from graphc import tf_logging as logging
from graphc.errors import DeadlineExceededError, FailedPreconditionError
from graphc.graph import get_default_graph
from graphc.runtime import Session
from graphc.saving import get_checkpoint_state

__all__ = ["SessionManager"]


def _name(op):
    return getattr(op, "name", None)


def not_ready_message(op, sess):
    """None when the ready op ``op`` reports nothing uninitialized, else why not."""
    if op is None:
        return None
    try:
        value = sess.run(op)
    except FailedPreconditionError as err:
        if "uninitialized" not in str(err):
            raise
        return str(err)
    if value is None or np.asarray(value).size == 0:
        return None
    return "Variables not initialized: " + ", ".join(
        v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(value).ravel())


class SessionManager:
    """Creates sessions that are restored or initialized, locally initialized and ready.

    Args:
        local_init_op: run in every new session once ``ready_for_local_init_op`` is ready.
        ready_op: a tensor of uninitialized variable names, empty when the model is ready.
        graph: the sessions' graph (default: the default graph now).
        recovery_wait_secs: how often ``wait_for_session`` checks again.

    Example:
        >>> sess = gc.train.SessionManager().prepare_session("", init_op=init)
    """

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None,
                 graph=None, recovery_wait_secs=30, local_init_run_options=None,
                 local_init_feed_dict=None):
        self._local_init_op, self._ready_op = local_init_op, ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph if graph is not None else get_default_graph()
        self._recovery_wait_secs = recovery_wait_secs
        self._local_init_feed_dict = local_init_feed_dict

    def _restore_checkpoint(self, master, saver, checkpoint_dir, checkpoint_filename_with_path,
                            wait_for_checkpoint, max_wait_secs, config) -> tuple:
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and "
                             "checkpoint_filename_with_path.")
        sess = Session(master, graph=self._graph, config=config)
        try:
            if saver is None or not (checkpoint_dir or checkpoint_filename_with_path):
                return sess, False
            if checkpoint_filename_with_path:
                saver.restore(sess, checkpoint_filename_with_path)
                return sess, True
            deadline = time.monotonic() + max_wait_secs
            state = get_checkpoint_state(checkpoint_dir)
            while wait_for_checkpoint and (state is None or not state.model_checkpoint_path) \
                    and time.monotonic() < deadline:
                logging.info("Waiting for checkpoint to be available.")
                time.sleep(min(self._recovery_wait_secs,
                               max(0.0, deadline - time.monotonic())))
                state = get_checkpoint_state(checkpoint_dir)
            if state is None or not state.model_checkpoint_path:
                return sess, False
            logging.info("Restoring parameters from %s", state.model_checkpoint_path)
            saver.restore(sess, state.model_checkpoint_path)
            saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
            return sess, True
        except BaseException:
            sess.close()
            raise

    def _try_local_init(self, sess):
        """None after running the local init op (or when there is none), else why not."""
        if self._local_init_op is None:
            return None
        not_ready = not_ready_message(self._ready_for_local_init_op, sess)
        if not_ready is None:
            sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict)
        return not_ready

    def prepare_session(self, master, init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                        max_wait_secs=7200, config=None, init_feed_dict=None, init_fn=None):
        """A session restored from the checkpoint (or, without one, initialized by
        ``init_op`` and ``init_fn(sess)``), then locally initialized and ready.

        Raises:
            RuntimeError: nothing to initialize with, or the model is still not ready
                (the session is closed then).
        """
        sess, restored = self._restore_checkpoint(
            master, saver, checkpoint_dir, checkpoint_filename_with_path,
            wait_for_checkpoint, max_wait_secs, config)
        try:
            if not restored:
                if init_op is None and not init_fn and self._local_init_op is None:
                    raise RuntimeError("Model is not initialized and no init_op or init_fn "
                                       "or local_init_op was given")
                if init_op is not None:
                    sess.run(init_op, feed_dict=init_feed_dict)
                if init_fn:
                    init_fn(sess)
            not_ready = self._try_local_init(sess)
            if not_ready is not None:
                raise RuntimeError(f"Init operations did not make model ready for "
                                   f"local_init.  Init op: {_name(init_op)}, init fn: "
                                   f"{init_fn}, error: {not_ready}")
            not_ready = not_ready_message(self._ready_op, sess)
            if not_ready is not None:
                raise RuntimeError(f"Init operations did not make model ready.  Init op: "
                                   f"{_name(init_op)}, init fn: {init_fn}, local_init_op: "
                                   f"{_name(self._local_init_op)}, error: {not_ready}")
        except BaseException:
            sess.close()
            raise
        return sess

    def recover_session(self, master, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                        max_wait_secs=7200, config=None) -> tuple:
        """``(session, initialized)``: restored from the checkpoint when there is one and
        then locally initialized; ``initialized`` says whether the model is ready."""
        sess, restored = self._restore_checkpoint(
            master, saver, checkpoint_dir, checkpoint_filename_with_path,
            wait_for_checkpoint, max_wait_secs, config)
        not_ready = self._try_local_init(sess)
        if not restored or not_ready is not None:
            return sess, False
        not_ready = not_ready_message(self._ready_op, sess)
        if not_ready is not None:
            logging.info("Restoring model from %s did not make model ready for local init:"
                         " %s", checkpoint_dir or checkpoint_filename_with_path, not_ready)
            return sess, False
        return sess, True

    def wait_for_session(self, master, config=None, max_wait_secs=float("inf")):
        """A session whose model is ready, checked every ``recovery_wait_secs``.

        Raises:
            DeadlineExceededError: not ready within ``max_wait_secs``.
        """
        deadline = time.monotonic() + max_wait_secs
        while True:
            sess = Session(master, graph=self._graph, config=config)
            not_ready = self._try_local_init(sess)
            if not_ready is None:
                not_ready = not_ready_message(self._ready_op, sess)
                if not_ready is None:
                    return sess
            sess.close()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError(None, None, "Session was not ready after waiting "
                                            f"{max_wait_secs} secs.")
            logging.info("Waiting for model to be ready.  Ready_for_local_init_op:  %s, "
                         "ready: %s", _name(self._ready_for_local_init_op), not_ready)
            time.sleep(min(self._recovery_wait_secs, remaining))
