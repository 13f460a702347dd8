"""The hook protocol of monitored sessions (TF1's ``tf.train.SessionRunHook``).

A hook sees the life of a ``MonitoredSession``: ``begin`` once before the session exists
(the graph can still grow), ``after_create_session`` once the variables are initialized or
restored, ``before_run``/``after_run`` around every ``run`` of the caller, and ``end`` when
the session closes without an error. ``before_run`` may return ``SessionRunArgs``: its
fetches run in the same step as the caller's, and their values come back to ``after_run``
in ``SessionRunValues.results``.

Example:
    >>> class CountSteps(gc.train.SessionRunHook):
    ...     def begin(self):
    ...         self.steps = 0
    ...     def before_run(self, run_context):
    ...         return gc.train.SessionRunArgs(loss)
    ...     def after_run(self, run_context, run_values):
    ...         self.steps += 1
    ...         if run_values.results < 0.01:
    ...             run_context.request_stop()
"""
from __future__ import annotations

import collections

__all__ = ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues"]


class SessionRunHook:
    """Base class of hooks: every method does nothing (override what you need)."""

    def begin(self):
        """Called once before the session is created; the graph may still be changed."""

    def after_create_session(self, session, coord):
        """Called once the session is initialized or restored; the graph is finalized."""

    def before_run(self, run_context):
        """Called before each ``run``; return ``SessionRunArgs`` to add fetches or feeds."""
        return None

    def after_run(self, run_context, run_values):
        """Called after each ``run`` that succeeded, with this hook's results."""

    def end(self, session):
        """Called when the session closes: by ``close()`` or by leaving its ``with`` block
        normally or on OutOfRangeError (an exhausted input), not on other errors."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What a hook adds to one run: ``fetches`` (any nesting ``Session.run`` takes),
    ``feed_dict`` and ``options``.

    Example:
        >>> gc.train.SessionRunArgs({"loss": loss, "step": global_step})
    """

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """The caller's arguments of the current run, its session, and the stop request.

    Example:
        >>> run_context.original_args.fetches     # what the caller asked for
        >>> run_context.request_stop()            # should_stop() is True after this run
    """

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self) -> SessionRunArgs:
        return self._original_args

    @property
    def session(self):
        """The raw session: runs on it call no hook."""
        return self._session

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def request_stop(self) -> None:
        """Ask the monitored session to stop: ``should_stop()`` turns True after this run."""
        self._stop_requested = True


class SessionRunValues(collections.namedtuple("SessionRunValues",
                                              ["results", "options", "run_metadata"])):
    """What ``after_run`` receives: the values of this hook's ``SessionRunArgs.fetches``
    (None when it asked for none), and the run's options and metadata."""
