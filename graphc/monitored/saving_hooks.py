"""TF1's hooks that write files: checkpoints (``CheckpointSaverHook`` and its listeners),
summaries (``SummarySaverHook``) and the steps-per-second summary (``StepCounterHook``).

Summary events need the optional ``tensorboard`` package; without it the checkpoint hook
still saves checkpoints (it only skips its CHECKPOINT events), and the step counter logs
instead of writing.

Example:
    >>> saver_hook = gc.train.CheckpointSaverHook("run", save_steps=100)
    >>> summary_hook = gc.train.SummarySaverHook(save_steps=10, output_dir="run",
    ...                                          summary_op=gc.summary.merge_all())
"""
from __future__ import annotations

import os

from graphc import tf_logging as logging
from graphc.graph import get_default_graph
from graphc.monitored.basic_hooks import SecondOrStepTimer, global_step_of
from graphc.monitored.run_hook import SessionRunArgs, SessionRunHook
from graphc.saving import write_graph
from graphc.summary import FileWriterCache
from graphc.summary.protos import protos
from graphc.variables import GraphKeys

__all__ = ["CheckpointSaverListener", "CheckpointSaverHook", "SummarySaverHook",
           "StepCounterHook", "summary_writer_for", "default_saver"]


def summary_writer_for(logdir):
    """The cached FileWriter of ``logdir``, or None without tensorboard (said once)."""
    try:
        protos()
    except ImportError as err:
        logging.log_first_n(logging.WARN, "No summary events are written: %s", 1, err)
        return None
    return FileWriterCache.get(logdir)


def default_saver():
    """The graph's one Saver of the SAVERS collection, None when it has none.

    Raises:
        RuntimeError: the collection holds several.
    """
    savers = get_default_graph().get_collection(GraphKeys.SAVERS)
    if len(savers) > 1:
        raise RuntimeError("More than one item in collection SAVERS. Please indicate which "
                           "one to use by passing it to the constructor.")
    return savers[0] if savers else None


def _session_log(status, **fields):
    session_log = protos().SessionLog
    return session_log(status=getattr(session_log, status), **fields)


class CheckpointSaverListener:
    """Called around each save of a ``CheckpointSaverHook``; ``after_save`` returning True
    requests a stop.

    Example:
        >>> class Evaluate(gc.train.CheckpointSaverListener):
        ...     def after_save(self, session, global_step_value):
        ...         print("saved", global_step_value)
    """

    def begin(self):
        pass

    def before_save(self, session, global_step_value):
        pass

    def after_save(self, session, global_step_value):
        pass

    def end(self, session, global_step_value):
        pass


class CheckpointSaverHook(SessionRunHook):
    """Saves a checkpoint when the session starts, every ``save_secs`` seconds or
    ``save_steps`` steps (exactly one), and at the end.

    Args:
        checkpoint_dir: folder of the checkpoints (``<dir>/model.ckpt-<step>``), created when
            missing.
        saver: the Saver to use; default the scaffold's, else the SAVERS collection's.
        listeners: ``CheckpointSaverListener``s.
        save_graph_def: also write ``graph.pbtxt`` and each checkpoint's ``.meta``.

    Raises:
        ValueError: both ``saver`` and ``scaffold``; ``checkpoint_dir`` is a file.

    Example:
        >>> gc.train.CheckpointSaverHook("run", save_steps=100)
    """

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, saver=None,
                 checkpoint_basename="model.ckpt", scaffold=None, listeners=None,
                 save_graph_def=True):
        if saver is not None and scaffold is not None:
            raise ValueError("You cannot provide both saver and scaffold.")
        checkpoint_dir = os.fspath(checkpoint_dir)
        if os.path.exists(checkpoint_dir) and not os.path.isdir(checkpoint_dir):
            raise ValueError(f"CheckpointSaverHook: checkpoint_dir {checkpoint_dir!r} is a "
                             "file, not a directory")
        logging.info("Create CheckpointSaverHook.")
        self._saver, self._scaffold = saver, scaffold
        self._checkpoint_dir = checkpoint_dir
        self._save_path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._listeners = list(listeners or [])
        self._save_graph_def = save_graph_def

    def begin(self):
        os.makedirs(self._checkpoint_dir, exist_ok=True)
        self._summary_writer = summary_writer_for(self._checkpoint_dir)
        self._global_step = global_step_of("CheckpointSaverHook")
        for listener in self._listeners:
            listener.begin()

    def after_create_session(self, session, coord):
        step = int(session.run(self._global_step))
        if self._save_graph_def:
            try:
                write_graph(get_default_graph(), self._checkpoint_dir, "graph.pbtxt")
            except TypeError as err:  # a graph holding Python objects (py_func, datasets)
                logging.warning("CheckpointSaverHook: no graph.pbtxt written: %s", err)
        # the checkpoint written here holds the state at the session's first step
        self._save(session, step)
        self._timer.update_last_triggered_step(step)

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step)

    def after_run(self, run_context, run_values):
        if self._timer.should_trigger_for_step(run_values.results + 1):
            step = int(run_context.session.run(self._global_step))
            if self._timer.should_trigger_for_step(step):
                self._timer.update_last_triggered_step(step)
                if self._save(run_context.session, step):
                    run_context.request_stop()

    def end(self, session):
        step = int(session.run(self._global_step))
        if step != self._timer.last_triggered_step():
            self._save(session, step)
        for listener in self._listeners:
            listener.end(session, step)

    def _get_saver(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        return default_saver()

    def _save(self, session, step) -> bool:
        """Save at ``step``; whether a listener asked to stop."""
        for listener in self._listeners:
            listener.before_save(session, step)
        logging.info("Saving checkpoints for %d into %s.", step, self._save_path)
        saver = self._get_saver()
        if saver is None:
            raise RuntimeError("CheckpointSaverHook found no Saver: give it one, a Scaffold, "
                               "or add one to the SAVERS collection")
        saver.save(session, self._save_path, global_step=step,
                   write_meta_graph=self._save_graph_def)
        if self._summary_writer is not None:
            self._summary_writer.add_session_log(
                _session_log("CHECKPOINT", checkpoint_path=self._save_path), step)
        stop = False
        for listener in self._listeners:
            stop = bool(listener.after_save(session, step)) or stop
        return stop


class SummarySaverHook(SessionRunHook):
    """Writes the value of ``summary_op`` (or the scaffold's) every ``save_steps`` steps or
    ``save_secs`` seconds, at the global step after the run.

    Raises:
        ValueError: not exactly one of ``scaffold`` and ``summary_op``.

    Example:
        >>> gc.train.SummarySaverHook(save_steps=10, output_dir="run",
        ...                           summary_op=gc.summary.merge_all())
    """

    def __init__(self, save_steps=None, save_secs=None, output_dir=None, summary_writer=None,
                 scaffold=None, summary_op=None):
        if (scaffold is None) == (summary_op is None):
            raise ValueError("Exactly one of scaffold or summary_op must be provided.")
        self._summary_op, self._scaffold = summary_op, scaffold
        self._summary_writer, self._output_dir = summary_writer, output_dir
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)

    def begin(self):
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = summary_writer_for(self._output_dir)
        self._next_step = None
        self._global_step = global_step_of("SummarySaverHook")

    def _get_summary_op(self):
        summary_op = self._scaffold.summary_op if self._scaffold is not None else \
            self._summary_op
        if summary_op is None:
            return None
        return summary_op if isinstance(summary_op, list) else [summary_op]

    def before_run(self, run_context):
        self._request_summary = self._next_step is None or \
            self._timer.should_trigger_for_step(self._next_step)
        requests = {"global_step": self._global_step}
        if self._request_summary and self._get_summary_op() is not None:
            requests["summary"] = self._get_summary_op()
        return SessionRunArgs(requests)

    def after_run(self, run_context, run_values):
        if self._summary_writer is None:
            return
        results = run_values.results
        step = results["global_step"] + 1
        if self._next_step is None or self._request_summary:
            step = int(run_context.session.run(self._global_step))
        if self._next_step is None:
            self._summary_writer.add_session_log(_session_log("START"), step)
        if self._request_summary:
            self._timer.update_last_triggered_step(step)
            for summary in results.get("summary", ()):
                self._summary_writer.add_summary(summary, step)
        self._next_step = step + 1

    def end(self, session=None):
        if self._summary_writer is not None:
            self._summary_writer.flush()


class StepCounterHook(SessionRunHook):
    """Writes (and logs) the global steps per second as the summary
    ``global_step/sec`` every ``every_n_steps`` steps or ``every_n_secs`` seconds.

    Example:
        >>> gc.train.StepCounterHook(every_n_steps=100, output_dir="run")
    """

    def __init__(self, every_n_steps=100, every_n_secs=None, output_dir=None,
                 summary_writer=None):
        if (every_n_steps is None) == (every_n_secs is None):
            raise ValueError("exactly one of every_n_steps and every_n_secs should be "
                             "provided.")
        self._timer = SecondOrStepTimer(every_steps=every_n_steps, every_secs=every_n_secs)
        self._summary_writer, self._output_dir = summary_writer, output_dir

    def begin(self):
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = summary_writer_for(self._output_dir)
        self._global_step = global_step_of("StepCounterHook")
        self._summary_tag = f"{self._global_step.op.name}/sec"

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step)

    def after_run(self, run_context, run_values):
        if not self._timer.should_trigger_for_step(run_values.results + 1):
            return
        step = int(run_context.session.run(self._global_step))
        if not self._timer.should_trigger_for_step(step):
            return
        elapsed_secs, elapsed_steps = self._timer.update_last_triggered_step(step)
        if elapsed_secs:
            steps_per_sec = elapsed_steps / elapsed_secs
            if self._summary_writer is not None:
                pb = protos()
                self._summary_writer.add_summary(pb.Summary(value=[pb.Summary.Value(
                    tag=self._summary_tag, simple_value=steps_per_sec)]), step)
            logging.info("%s: %g", self._summary_tag, steps_per_sec)
