"""``gc.train``: TF1's optimizers, learning-rate schedules, moving averages and the global
step (TF1's ``tf.train`` namespace).

The optimizer machinery (``Optimizer``, slots, the global step) is in ``graphc/optimizer.py``;
Adagrad, Adadelta, proximal gradient descent and FTRL in ``graphc/optimizers_more.py``; the
schedules in ``graphc/learning_rate.py``; ``ExponentialMovingAverage`` in
``graphc/moving_averages.py``. This module holds the classic four optimizers and re-exports
the rest.

Example:
    >>> step = gc.train.get_or_create_global_step()
    >>> lr = gc.train.exponential_decay(0.1, step, decay_steps=100, decay_rate=0.96)
    >>> train_op = gc.train.MomentumOptimizer(lr, 0.9).minimize(loss, global_step=step)
"""
from __future__ import annotations

from graphc.learning_rate import (cosine_decay, cosine_decay_restarts,  # noqa: F401
                                  exponential_decay, inverse_time_decay, linear_cosine_decay,
                                  natural_exp_decay, noisy_linear_cosine_decay,
                                  piecewise_constant, polynomial_decay)
from graphc.moving_averages import ExponentialMovingAverage, assign_moving_average  # noqa
from graphc.ops.control import group
from graphc.ops.elementwise import sqrt, square
from graphc.ops.select import cast
from graphc.optimizer import (Optimizer, create_global_step, get_global_step,  # noqa: F401
                              get_or_create_global_step, global_step)
from graphc.optimizers_more import (AdadeltaOptimizer, AdagradOptimizer,  # noqa: F401
                                    FtrlOptimizer, ProximalAdagradOptimizer,
                                    ProximalGradientDescentOptimizer)
from graphc.variables import assign, assign_sub

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer",
           "RMSPropOptimizer", "get_or_create_global_step", "get_global_step",
           "create_global_step", "global_step"]


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``.

    Example:
        >>> train_op = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
    """

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad, var):
        return assign_sub(var, self._as(self._learning_rate, var) * grad).op


class MomentumOptimizer(Optimizer):
    """``accum = momentum * accum + grad; var -= lr * accum`` (Nesterov: ``lr * (grad +
    momentum * accum)``), with TF1's slot name "Momentum".

    Example:
        >>> opt = gc.train.MomentumOptimizer(0.01, momentum=0.9, use_nesterov=True)
    """

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate, self._momentum, self._nesterov = learning_rate, momentum, use_nesterov

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "momentum")

    def _apply_dense(self, grad, var):
        lr, mu = self._as(self._learning_rate, var), self._as(self._momentum, var)
        accum = assign(self._slot(var, "momentum"), self._slot(var, "momentum").value() * mu
                       + grad)
        step = (grad + mu * accum) if self._nesterov else accum
        return assign_sub(var, lr * step).op


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba), exactly as TF1 computes it (slots "m" and "v": ``W/Adam``,
    ``W/Adam_1``; ``beta1_power`` and ``beta2_power`` kept once)::

        lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
        var -= lr_t * m / (sqrt(v) + epsilon)

    Example:
        >>> train_op = gc.train.AdamOptimizer(1e-3).minimize(loss)
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _create_slots(self, var_list):
        first = min(var_list, key=lambda v: v.name)
        self._powers = (self._non_slot("beta1_power", self._beta1, first),
                        self._non_slot("beta2_power", self._beta2, first))
        for var in var_list:
            self._slot(var, "m")
            self._slot(var, "v")

    def _apply_dense(self, grad, var):
        beta1, beta2 = self._as(self._beta1, var), self._as(self._beta2, var)
        beta1_power, beta2_power = (cast(p.value(), var.dtype) for p in self._powers)
        lr = self._as(self._lr, var) * sqrt(1.0 - beta2_power) / (1.0 - beta1_power)
        m_slot, v_slot = self._slot(var, "m"), self._slot(var, "v")
        m = assign(m_slot, beta1 * m_slot.value() + (1.0 - beta1) * grad)
        v = assign(v_slot, beta2 * v_slot.value() + (1.0 - beta2) * square(grad))
        return assign_sub(var, lr * m / (sqrt(v) + self._as(self._epsilon, var))).op

    def _finish(self, update_ops, name):
        beta1_power, beta2_power = self._powers
        graph = beta1_power.graph
        with graph.control_dependencies(update_ops):  # advance t after every update read it
            bump1 = assign(beta1_power, beta1_power.value() * self._beta1)
            bump2 = assign(beta2_power, beta2_power.value() * self._beta2)
        return group(*update_ops, bump1, bump2, name=name)


class RMSPropOptimizer(Optimizer):
    """TF1's RMSProp: ``ms = decay * ms + (1 - decay) * g^2``; ``mom = momentum * mom + lr * g /
    sqrt(ms + eps)``; ``var -= mom`` (centered: ``ms - mg^2`` in the root). "rms" starts at 1;
    the slots are ``W/RMSProp`` (rms), ``W/RMSProp_1`` (momentum; centered: mg, then momentum).

    Example:
        >>> opt = gc.train.RMSPropOptimizer(0.01, decay=0.9)
    """

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._lr, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, centered

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "rms", initial=1.0)
            if self._centered:  # TF1's order, which names them RMSProp, _1 and _2
                self._slot(var, "mg")
            self._slot(var, "momentum")

    def _apply_dense(self, grad, var):
        lr, decay = self._as(self._lr, var), self._as(self._decay, var)
        rms_slot = self._slot(var, "rms")
        ms = assign(rms_slot, decay * rms_slot.value() + (1.0 - decay) * square(grad))
        denominator = ms
        if self._centered:
            mg_slot = self._slot(var, "mg")
            mg = assign(mg_slot, decay * mg_slot.value() + (1.0 - decay) * grad)
            denominator = ms - square(mg)
        mom_slot = self._slot(var, "momentum")
        mom = assign(mom_slot, self._as(self._momentum, var) * mom_slot.value()
                     + lr * grad / sqrt(denominator + self._as(self._epsilon, var)))
        return assign_sub(var, mom).op


# -- saving and loading (graphc/saving/) ---------------------------------------------------
from graphc.saving import (CheckpointState, MetaGraphDef, NewCheckpointReader,  # noqa: E402,F401
                           Saver, checkpoint_exists, export_meta_graph, get_checkpoint_state,
                           import_meta_graph, latest_checkpoint, list_variables, load_variable,
                           remove_checkpoint, update_checkpoint_state, write_graph)
# TF1 spellings of the summary writer and reader that tutorials reach through tf.train
from graphc.summary import FileWriter as SummaryWriter  # noqa: E402,F401
from graphc.summary import summary_iterator  # noqa: E402,F401
# Monitored training: sessions that initialize, restore, save and call hooks (graphc/monitored/)
from graphc.monitored import (CheckpointSaverHook, CheckpointSaverListener,  # noqa: E402,F401
                              ChiefSessionCreator, Coordinator, FeedFnHook, FinalOpsHook,
                              GlobalStepWaiterHook, LoggingTensorHook, LooperThread,
                              MonitoredSession, MonitoredTrainingSession,
                              NanLossDuringTrainingError, NanTensorHook, QueueRunner, Scaffold,
                              SecondOrStepTimer, SessionCreator, SessionManager, SessionRunArgs,
                              SessionRunContext, SessionRunHook, SessionRunValues,
                              SingularMonitoredSession, StepCounterHook, StopAtStepHook,
                              SummarySaverHook, Supervisor, WorkerSessionCreator,
                              add_queue_runner, assert_global_step, checkpoints_iterator,
                              get_checkpoint_mtimes, init_from_checkpoint, load_checkpoint,
                              start_queue_runners, warm_start)
from graphc.monitored import coordinator as queue_runner  # noqa: E402,F401 - TF1's module
from graphc.monitored.cluster import (ClusterSpec, basic_train_loop,  # noqa: E402,F401
                                      replica_device_setter)
piecewise_constant_decay = piecewise_constant  # TF1's other name for it
from graphc.summary import FileWriterCache as SummaryWriterCache  # noqa: E402,F401
# Queue-based input pipelines: producers and batching (graphc/input_*.py)
from graphc.input_producers import (input_producer, limit_epochs,  # noqa: E402,F401
                                    match_filenames_once, range_input_producer,
                                    slice_input_producer, string_input_producer)
from graphc.input_batching import (batch, batch_join, maybe_batch,  # noqa: E402,F401
                                   maybe_batch_join, maybe_shuffle_batch,
                                   maybe_shuffle_batch_join, shuffle_batch, shuffle_batch_join)
# tf.train.Example and its kin: protobuf classes built on first use (graphc/example_proto.py)
from graphc import example_proto as _example_proto  # noqa: E402


def __getattr__(name):
    if name in _example_proto.NAMES:
        return _example_proto.message_class(name)
    raise AttributeError(f"module 'graphc.train' has no attribute {name!r}")
