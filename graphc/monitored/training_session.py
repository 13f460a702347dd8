"""``tf.train.MonitoredTrainingSession``: a MonitoredSession with TF1's standard hooks.

Example:
    >>> with gc.train.MonitoredTrainingSession(checkpoint_dir="run",
    ...                                        save_checkpoint_steps=100) as sess:
    ...     while not sess.should_stop():
    ...         sess.run(train_op)
"""
from __future__ import annotations

import os

from graphc.monitored.saving_hooks import (CheckpointSaverHook, StepCounterHook,
                                           SummarySaverHook)
from graphc.monitored.scaffold import ChiefSessionCreator, Scaffold, WorkerSessionCreator
from graphc.monitored.session import MonitoredSession

__all__ = ["MonitoredTrainingSession", "USE_DEFAULT"]

USE_DEFAULT = object()  # TF1's marker: "not given", as opposed to None ("never")


def _steps_or_secs(steps, secs, default_secs=None, default_steps=None) -> tuple:
    """TF1's rule: with neither given, the default; with one given, the other is off."""
    if steps is USE_DEFAULT and secs is USE_DEFAULT:
        return default_steps, default_secs
    return (None if steps is USE_DEFAULT else steps), (None if secs is USE_DEFAULT else secs)


def _checked_dir(name: str, path):
    if path is None:
        return None
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"MonitoredTrainingSession: {name} {path!r} exists and is not a "
                         "directory")
    return path


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None,  # noqa: N802
                             scaffold=None, hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=USE_DEFAULT, save_summaries_steps=USE_DEFAULT,
                             save_summaries_secs=USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100,
                             max_wait_secs=7200, save_checkpoint_steps=USE_DEFAULT,
                             summary_dir=None, save_graph_def=True):
    """A MonitoredSession that (for the chief) restores ``checkpoint_dir``'s latest
    checkpoint or initializes, saves checkpoints every 600 seconds (or as
    ``save_checkpoint_steps``/``_secs`` say), writes summaries every 100 steps and the
    steps per second every ``log_step_count_steps`` into ``summary_dir`` (default
    ``checkpoint_dir``), and calls ``chief_only_hooks`` and then ``hooks``.

    Raises:
        ValueError: ``checkpoint_dir`` or ``summary_dir`` is an existing file (nothing has
            been created or run then).

    Example:
        >>> hooks = [gc.train.StopAtStepHook(last_step=1000)]
        >>> with gc.train.MonitoredTrainingSession(checkpoint_dir="run", hooks=hooks,
        ...                                        save_checkpoint_steps=100) as sess:
        ...     while not sess.should_stop():
        ...         sess.run(train_op)
    """
    checkpoint_dir = _checked_dir("checkpoint_dir", checkpoint_dir)
    summary_dir = _checked_dir("summary_dir", summary_dir) or checkpoint_dir
    save_summaries_steps, save_summaries_secs = _steps_or_secs(
        save_summaries_steps, save_summaries_secs, default_steps=100)
    save_checkpoint_steps, save_checkpoint_secs = _steps_or_secs(
        save_checkpoint_steps, save_checkpoint_secs, default_secs=600)
    scaffold = scaffold or Scaffold()
    if not is_chief:
        creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config,
                                       max_wait_secs=max_wait_secs)
        return MonitoredSession(session_creator=creator, hooks=hooks or [],
                                stop_grace_period_secs=stop_grace_period_secs)
    all_hooks = list(chief_only_hooks or [])
    creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir,
                                  master=master, config=config)
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(StepCounterHook(output_dir=summary_dir,
                                             every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or \
                (save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(SummarySaverHook(scaffold=scaffold, save_steps=save_summaries_steps,
                                              save_secs=save_summaries_secs,
                                              output_dir=summary_dir))
    if checkpoint_dir and ((save_checkpoint_secs and save_checkpoint_secs > 0) or
                           (save_checkpoint_steps and save_checkpoint_steps > 0)):
        all_hooks.append(CheckpointSaverHook(checkpoint_dir, save_steps=save_checkpoint_steps,
                                             save_secs=save_checkpoint_secs, scaffold=scaffold,
                                             save_graph_def=save_graph_def))
    all_hooks.extend(hooks or [])
    return MonitoredSession(session_creator=creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)
