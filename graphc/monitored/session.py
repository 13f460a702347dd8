"""Sessions that initialize, restore, save and call hooks on their own (TF1's
``tf.train.MonitoredSession``, ``SingularMonitoredSession``, ``MonitoredTrainingSession``).

Layers, outermost first, as TF1's: recovery (an AbortedError or UnavailableError closes
the session and makes a new one, which restores the last checkpoint), the coordinator
(queue-runner threads, stopped and joined on close), the hooks (their ``SessionRunArgs``
merged into each run of the caller), and the raw ``Session``. Leaving the ``with`` block on
OutOfRangeError (an exhausted input) or StopIteration is a normal end: hooks' ``end`` runs
and the error is swallowed.

Example:
    >>> with gc.train.MonitoredTrainingSession(checkpoint_dir="run", hooks=[
    ...         gc.train.StopAtStepHook(last_step=1000)]) as sess:
    ...     while not sess.should_stop():
    ...         sess.run(train_op)
"""
from __future__ import annotations

import inspect

from graphc.errors import AbortedError, OutOfRangeError, UnavailableError
from graphc.fetches import FetchStructure
from graphc.graph import get_default_graph
from graphc import tf_logging as logging
from graphc.monitored.coordinator import Coordinator, start_queue_runners
from graphc.monitored.run_hook import SessionRunArgs, SessionRunContext, SessionRunValues
from graphc.monitored.scaffold import ChiefSessionCreator
from graphc.variables import GraphKeys

__all__ = ["MonitoredSession", "SingularMonitoredSession", "StepContext"]

_PREEMPTION_ERRORS = (AbortedError, UnavailableError)


class StepContext:
    """What ``run_step_fn``'s function receives: the raw ``session``, ``run_with_hooks``
    and ``request_stop`` (which also ends the step function)."""

    def __init__(self, session, run_with_hooks):
        self._session, self._run_with_hooks = session, run_with_hooks

    session = property(lambda self: self._session)

    def run_with_hooks(self, *args, **kwargs):
        return self._run_with_hooks(*args, **kwargs)

    def request_stop(self):
        raise StopIteration("step_fn has requested the iterations to stop.")


def _merged_feeds(user_feeds, hook_feeds: dict):
    if not hook_feeds:
        return user_feeds
    if not user_feeds:
        return hook_feeds
    both = set(user_feeds) & set(hook_feeds)
    if both:
        raise RuntimeError(f"Same tensor is fed by a SessionRunHook and user. {both}")
    return {**user_feeds, **hook_feeds}


class MonitoredSession:
    """A session whose hooks see every run (``begin`` is called here, before the session
    exists), restored or initialized by ``session_creator`` (default
    ``ChiefSessionCreator()``).

    Example:
        >>> creator = gc.train.ChiefSessionCreator(checkpoint_dir="run")
        >>> with gc.train.MonitoredSession(session_creator=creator, hooks=hooks) as sess:
        ...     while not sess.should_stop():
        ...         sess.run(train_op)
    """

    _should_recover = True
    StepContext = StepContext  # TF1's tf.train.MonitoredSession.StepContext

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        self._graph = get_default_graph()
        self._graph_was_finalized = self._graph.finalized
        self._hooks = list(hooks or [])
        self._creator = session_creator or ChiefSessionCreator()
        self._grace_secs = stop_grace_period_secs
        self._raw = self._coord = None
        self._stop_requested = False
        try:
            for hook in self._hooks:
                hook.begin()
            self._create()
        except BaseException:
            self._unfinalize()
            raise

    # -- the layers -----------------------------------------------------------------------
    def _create(self) -> None:
        with self._graph.as_default():
            self._raw = self._creator.create_session()
        self._coord = Coordinator(clean_stop_exception_types=[])  # threads' errors all count
        try:
            if self._graph.get_collection(GraphKeys.QUEUE_RUNNERS):
                start_queue_runners(self._raw, self._coord)
            for hook in self._hooks:
                hook.after_create_session(self._raw, self._coord)
        except BaseException:
            self._close_layers()
            raise

    def _close_layers(self) -> None:
        """Stop and join the threads (re-raising the error one reported), then close the
        raw session."""
        coord, raw = self._coord, self._raw
        self._coord = self._raw = None
        try:
            if coord is not None:
                coord.request_stop()
                coord.join(stop_grace_period_secs=self._grace_secs, ignore_live_threads=True)
        finally:
            if raw is not None:
                raw.close()

    def _unfinalize(self) -> None:
        if not self._graph_was_finalized:
            self._graph._finalized = False  # TF1's _unsafe_unfinalize: the graph was open

    def _hooked_run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        context = SessionRunContext(SessionRunArgs(fetches, feed_dict), self._raw)
        all_fetches, hook_feeds = {"caller": fetches}, {}
        for hook in self._hooks:
            request = hook.before_run(context)
            if request is None:
                continue
            if request.fetches is not None:
                all_fetches[hook] = request.fetches
            if request.feed_dict:
                both = set(hook_feeds) & set(request.feed_dict)
                if both:
                    raise RuntimeError(f"Same tensor is fed by two hooks. {both}")
                hook_feeds.update(request.feed_dict)
            if request.options is not None and options is None:
                options = request.options
        feeds = _merged_feeds(feed_dict, hook_feeds)
        try:
            outputs = self._raw.run(all_fetches, feed_dict=feeds, options=options,
                                    run_metadata=run_metadata)
        except (TypeError, ValueError, KeyError) as err:
            self._raise_for_bad_hook_fetches(all_fetches, err)
            raise
        for hook in self._hooks:
            hook.after_run(context, SessionRunValues(outputs.get(hook), options,
                                                     run_metadata))
        self._stop_requested = self._stop_requested or context.stop_requested
        return outputs["caller"]

    def _raise_for_bad_hook_fetches(self, all_fetches: dict, err) -> None:
        """A failed run: name the hook whose fetches the graph cannot run, if one's are."""
        for hook, fetches in all_fetches.items():
            if hook == "caller":
                continue
            try:
                FetchStructure(self._graph, fetches)
            except (TypeError, ValueError, KeyError) as hook_err:
                raise type(err)(f"{type(hook).__name__}.before_run asked for fetches the "
                                f"graph cannot run ({fetches!r}): {hook_err}") from err

    # -- the public API -------------------------------------------------------------------
    @property
    def graph(self):
        """The session's graph (None once closed, as TF1's)."""
        return None if self._raw is None else self._graph

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """``Session.run`` with every hook's ``before_run``/``after_run`` around it.

        Raises:
            RuntimeError: the session is closed, or a stop was requested before.
        """
        if self._raw is None:
            raise RuntimeError("Session is already closed.")
        while True:
            try:
                return self._hooked_run(fetches, feed_dict, options, run_metadata)
            except _PREEMPTION_ERRORS as err:
                if not self._should_recover:
                    raise
                logging.info("An error was raised. This may be due to a preemption in a "
                             "connected worker or parameter server. The current session "
                             "will be closed and a new session will be created. Error: %s",
                             err)
                self._close_layers()
                self._create()

    def run_step_fn(self, step_fn):
        """Call ``step_fn(step_context)`` once and return its value.

        Raises:
            StopIteration: ``step_fn`` called ``step_context.request_stop()`` (the ``with``
                block of the session ends there, normally).

        Example:
            >>> sess.run_step_fn(lambda step_context: step_context.run_with_hooks(train_op))
        """
        if list(inspect.signature(step_fn).parameters) not in (["step_context"],
                                                                 ["self", "step_context"]):
            raise ValueError("`step_fn` may either have one `step_context` argument, or "
                             "`self` and `step_context` arguments if it's an instance "
                             "method.")
        return step_fn(StepContext(self._raw, self.run))

    def should_stop(self) -> bool:
        """Whether a hook or the coordinator asked to stop (True once closed).

        Raises:
            Exception: the error a queue-runner thread reported to the coordinator.
        """
        if self._raw is None:
            return True
        self._coord.raise_requested_exception()
        return self._stop_requested or self._coord.should_stop()

    def close(self) -> None:
        """Call every hook's ``end``, then stop the threads and close the session."""
        self._close_internal(None)

    def _close_internal(self, exception_type) -> None:
        try:
            if exception_type is None and self._raw is not None:
                for hook in self._hooks:
                    hook.end(self._raw)
        finally:
            try:
                if self._raw is None:
                    raise RuntimeError("Session is already closed.")
                self._close_layers()
            finally:
                self._unfinalize()

    def _tf_sess(self):
        return self._raw

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        if exception_type in (OutOfRangeError, StopIteration):
            exception_type = None
        self._close_internal(exception_type)
        return exception_type is None


class SingularMonitoredSession(MonitoredSession):
    """A ``MonitoredSession`` for one process: a chief session creator of its own, no
    recovery, and ``raw_session()``.

    Example:
        >>> with gc.train.SingularMonitoredSession(checkpoint_dir="run") as sess:
        ...     sess.raw_session().run(W)    # no hook sees this run
    """

    _should_recover = False

    def __init__(self, hooks=None, scaffold=None, master="", config=None,
                 checkpoint_dir=None, stop_grace_period_secs=120,
                 checkpoint_filename_with_path=None):
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                      checkpoint_dir=checkpoint_dir,
                                      checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks, stop_grace_period_secs)

    def raw_session(self):
        """The underlying Session (runs on it call no hook)."""
        return self._tf_sess()
