"""TF1's standard hooks that need no files: stopping at a step, NaN checks, logging
tensors, final ops, feeds and waiting for a global step (``basic_session_run_hooks``).

Example:
    >>> hooks = [gc.train.StopAtStepHook(last_step=1000), gc.train.NanTensorHook(loss),
    ...          gc.train.LoggingTensorHook({"loss": loss}, every_n_iter=100)]
    >>> with gc.train.MonitoredTrainingSession(hooks=hooks) as sess:
    ...     while not sess.should_stop():
    ...         sess.run(train_op)
"""
from __future__ import annotations

import time

import numpy as np

from graphc import tf_logging as logging
from graphc.graph import Operation, Tensor, get_default_graph
from graphc.monitored.run_hook import SessionRunArgs, SessionRunHook
from graphc.optimizer import get_global_step
from graphc.variables import Variable

__all__ = ["SecondOrStepTimer", "StopAtStepHook", "NanLossDuringTrainingError",
           "NanTensorHook", "LoggingTensorHook", "FinalOpsHook", "FeedFnHook",
           "GlobalStepWaiterHook", "global_step_of", "assert_global_step"]


def global_step_of(hook_name: str):
    """The default graph's global step, or the RuntimeError TF1 raises for ``hook_name``."""
    step = get_global_step()
    if step is None:
        raise RuntimeError(f"Global step should be created to use {hook_name}.")
    return step


def assert_global_step(global_step_tensor) -> None:
    """Check that ``global_step_tensor`` can be a global step: an integer scalar Variable or
    Tensor (TF1).

    Raises:
        TypeError: it is not.
    """
    if not isinstance(global_step_tensor, (Variable, Tensor)):
        raise TypeError(f'Existing "global_step" must be a Variable or Tensor: '
                        f"{global_step_tensor}.")
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(f'Existing "global_step" does not have integer type: '
                        f"{global_step_tensor.dtype}")
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f'Existing "global_step" is not scalar: {shape}')


def as_graph_element(obj):
    """A tensor, op or variable of the default graph; names (``"loss:0"``) are looked up."""
    if isinstance(obj, (Tensor, Operation, Variable)):
        return obj
    if isinstance(obj, str):
        return get_default_graph().as_graph_element(obj)
    raise TypeError(f"Hooks fetch tensors, operations, variables or their names; got {obj!r}")


class SecondOrStepTimer:
    """Triggers every ``every_secs`` seconds or every ``every_steps`` steps (exactly one),
    and always on the first step asked about.

    Example:
        >>> timer = gc.train.SecondOrStepTimer(every_steps=10)
        >>> if timer.should_trigger_for_step(step):
        ...     elapsed_secs, elapsed_steps = timer.update_last_triggered_step(step)
    """

    def __init__(self, every_secs=None, every_steps=None):
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")
        self._every_secs, self._every_steps = every_secs, every_steps
        self.reset()

    def reset(self) -> None:
        self._last_time = self._last_step = None

    def should_trigger_for_step(self, step) -> bool:
        if self._last_step is None:
            return True
        if self._last_step == step:
            return False
        if self._every_secs is not None:
            return time.time() >= self._last_time + self._every_secs
        return step >= self._last_step + self._every_steps

    def update_last_triggered_step(self, step) -> tuple:
        """Record a trigger at ``step``; ``(seconds, steps)`` since the last (None, None
        the first time)."""
        now = time.time()
        elapsed = (None, None) if self._last_time is None else \
            (now - self._last_time, step - self._last_step)
        self._last_time, self._last_step = now, step
        return elapsed

    def last_triggered_step(self):
        return self._last_step


class StopAtStepHook(SessionRunHook):
    """Requests a stop when the global step reaches ``last_step``, or ``num_steps`` past its
    value when the session was created (exactly one of them).

    Example:
        >>> gc.train.StopAtStepHook(last_step=1000)
    """

    def __init__(self, num_steps=None, last_step=None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        if num_steps is not None and num_steps < 0:
            raise ValueError(f"'num_steps' should be a non-negative integer, got {num_steps}.")
        self._num_steps, self._last_step = num_steps, last_step

    def begin(self):
        self._global_step = global_step_of("StopAtStepHook")

    def after_create_session(self, session, coord):
        if self._last_step is None:
            self._last_step = int(session.run(self._global_step)) + self._num_steps

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step)

    def after_run(self, run_context, run_values):
        # the fetched value is read before the train op's increment: check the real one
        if run_values.results + 1 >= self._last_step and \
                run_context.session.run(self._global_step) >= self._last_step:
            run_context.request_stop()


class NanLossDuringTrainingError(RuntimeError):
    """The loss a ``NanTensorHook`` watches became NaN."""

    def __str__(self):
        return "NaN loss during training."


class NanTensorHook(SessionRunHook):
    """Raises ``NanLossDuringTrainingError`` when ``loss_tensor`` is NaN (or, with
    ``fail_on_nan_loss=False``, logs a warning and requests a stop).

    Example:
        >>> gc.train.NanTensorHook(loss)
    """

    def __init__(self, loss_tensor, fail_on_nan_loss=True):
        self._loss_tensor, self._fail_on_nan_loss = loss_tensor, fail_on_nan_loss

    def before_run(self, run_context):
        return SessionRunArgs(self._loss_tensor)

    def after_run(self, run_context, run_values):
        if np.isnan(run_values.results).any():
            message = "Model diverged with loss = NaN."
            if self._fail_on_nan_loss:
                logging.error(message)
                raise NanLossDuringTrainingError
            logging.warning(message)
            run_context.request_stop()


class LoggingTensorHook(SessionRunHook):
    """Logs tensors every ``every_n_iter`` runs or ``every_n_secs`` seconds (and/or at the
    end), as ``"tag = value, ..."`` or as ``formatter(values_by_tag)`` says.

    Args:
        tensors: a dict ``{tag: tensor or name}`` (logged in sorted tag order) or a list of
            tensors or names (logged in that order, each tagged by itself).

    Example:
        >>> gc.train.LoggingTensorHook({"loss": loss, "step": step}, every_n_iter=100)
    """

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        only_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("either at_end and/or exactly one of every_n_iter and "
                             "every_n_secs must be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if isinstance(tensors, dict):
            self._tag_order = sorted(tensors)
        else:
            self._tag_order = list(tensors)
            tensors = {item: item for item in tensors}
        self._tensors, self._formatter, self._log_at_end = tensors, formatter, at_end
        self._timer = None if only_at_end else SecondOrStepTimer(every_n_secs, every_n_iter)

    def begin(self):
        if self._timer is not None:
            self._timer.reset()
        self._iter_count = 0
        self._current_tensors = {tag: as_graph_element(t) for tag, t in self._tensors.items()}

    def before_run(self, run_context):
        self._should_trigger = self._timer is not None and \
            self._timer.should_trigger_for_step(self._iter_count)
        return SessionRunArgs(self._current_tensors) if self._should_trigger else None

    def _log_tensors(self, values: dict) -> None:
        elapsed_secs = None
        if self._timer is not None:
            elapsed_secs, _ = self._timer.update_last_triggered_step(self._iter_count)
        with np.printoptions(suppress=True):
            if self._formatter is not None:
                logging.info(self._formatter(values))
                return
            stats = ", ".join(f"{tag} = {values[tag]}" for tag in self._tag_order)
        if elapsed_secs is not None:
            logging.info("%s (%.3f sec)", stats, elapsed_secs)
        else:
            logging.info("%s", stats)

    def after_run(self, run_context, run_values):
        if self._should_trigger:
            self._log_tensors(run_values.results)
        self._iter_count += 1

    def end(self, session):
        if self._log_at_end:
            self._log_tensors(session.run(self._current_tensors))


class FinalOpsHook(SessionRunHook):
    """Runs ``final_ops`` when the session ends; their values are ``final_ops_values``.

    Example:
        >>> final = gc.train.FinalOpsHook({"accuracy": accuracy})
        >>> # after the with block: final.final_ops_values["accuracy"]
    """

    def __init__(self, final_ops, final_ops_feed_dict=None):
        self._final_ops, self._feed_dict = final_ops, final_ops_feed_dict
        self._final_ops_values = None

    @property
    def final_ops_values(self):
        return self._final_ops_values

    def end(self, session):
        if self._final_ops is not None:
            self._final_ops_values = session.run(self._final_ops, feed_dict=self._feed_dict)


class FeedFnHook(SessionRunHook):
    """Feeds ``feed_fn()``'s dict into every run.

    Example:
        >>> gc.train.FeedFnHook(lambda: {x: next(batches)})
    """

    def __init__(self, feed_fn):
        self.feed_fn = feed_fn

    def before_run(self, run_context):
        return SessionRunArgs(fetches=None, feed_dict=self.feed_fn())


class GlobalStepWaiterHook(SessionRunHook):
    """Holds the first run until the global step reaches ``wait_until_step`` (workers that
    start after the chief trained a while).

    Example:
        >>> gc.train.GlobalStepWaiterHook(wait_until_step=100)
    """

    def __init__(self, wait_until_step, poll_secs=0.5):
        self._wait_until_step, self._poll_secs = wait_until_step, poll_secs

    def begin(self):
        self._worker_is_started = False
        self._global_step = global_step_of("GlobalStepWaiterHook")

    def before_run(self, run_context):
        if self._worker_is_started:
            return None
        while self._wait_until_step > 0 and \
                run_context.session.run(self._global_step) < self._wait_until_step:
            logging.info("Waiting for global step %d before starting training.",
                         self._wait_until_step)
            time.sleep(self._poll_secs)
        self._worker_is_started = True
        return None
