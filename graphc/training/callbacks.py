"""Callbacks of ``fit``: they see the training state after every epoch and may stop it.

Example:
    >>> stop = gc.training.EarlyStopping(monitor="val_loss", patience=3,
    ...                                  restore_best_weights=True)
    >>> history = gc.training.fit(sess, train_op, [x, y], [X, Y], epochs=50,
    ...                           validation_data=[Xv, Yv], callbacks=[stop])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from graphc.variables import GraphKeys

__all__ = ["Callback", "EarlyStopping", "EpochLogger", "History", "TrainingState"]


@dataclass
class TrainingState:
    """What callbacks see: the session, the epoch (1-based) and its ``logs`` (metric ->
    value, ``val_``-prefixed for validation, ``steps_per_second``); set ``stop_training``."""

    session: object
    epochs: int
    epoch: int = 0
    logs: dict = field(default_factory=dict)
    stop_training: bool = False


class Callback:
    """Override the hooks you need; each receives the TrainingState."""

    def on_train_begin(self, state: TrainingState) -> None:
        pass

    def on_epoch_end(self, state: TrainingState) -> None:
        pass

    def on_train_end(self, state: TrainingState) -> None:
        pass


class History(Callback):
    """``history[name]``: the value of ``name`` after each epoch (what ``fit`` returns)."""

    def __init__(self):
        self.history: dict = {}
        self.epochs: list = []

    def on_epoch_end(self, state):
        self.epochs.append(state.epoch)
        for name, value in state.logs.items():
            self.history.setdefault(name, []).append(value)

    def __getitem__(self, name):
        return self.history[name]


class EpochLogger(Callback):
    """Print one line per epoch: its metrics and the training steps per second.

    Example:
        >>> gc.training.EpochLogger(print_fn=logging.info)
    """

    def __init__(self, print_fn=print):
        self.print_fn = print_fn

    def on_epoch_end(self, state):
        shown = "  ".join(f"{k} {v:.4f}" for k, v in state.logs.items()
                          if k != "steps_per_second")
        self.print_fn(f"epoch {state.epoch}/{state.epochs}  {shown}  "
                      f"{state.logs['steps_per_second']:.1f} steps/s")


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: a log name (``val_loss``, ``val_accuracy``, ``loss``...).
        mode: "min", "max", or "auto" (max for names containing "acc", else min).
        restore_best_weights: load the global variables' values of the best epoch at the end.

    Example:
        >>> gc.training.EarlyStopping("val_accuracy", patience=2)
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.maximize = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.restore_best_weights = restore_best_weights
        self.best, self.best_epoch, self.stopped_epoch = None, None, None
        self._wait, self._saved = 0, None

    def on_train_begin(self, state):
        self.best, self.best_epoch, self.stopped_epoch = None, None, None
        self._wait, self._saved = 0, None

    def on_epoch_end(self, state):
        if self.monitor not in state.logs:
            raise KeyError(f"EarlyStopping: no {self.monitor!r} in the logs "
                           f"{sorted(state.logs)} (validation_data gives val_ metrics)")
        value = state.logs[self.monitor]
        sign = 1.0 if self.maximize else -1.0
        if self.best is None or (not math.isnan(value) and
                                 sign * (value - self.best) > self.min_delta):
            self.best, self.best_epoch, self._wait = value, state.epoch, 0
            if self.restore_best_weights:
                variables = state.session.graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
                self._saved = (variables, state.session.run(variables))
            return
        self._wait += 1
        if self._wait > self.patience:
            state.stop_training, self.stopped_epoch = True, state.epoch

    def on_train_end(self, state):
        if self.restore_best_weights and self._saved is not None:
            for variable, value in zip(*self._saved):
                variable.load(value, state.session)
