"""``fit``, ``evaluate`` and ``predict`` over a Session, and ``train_op`` that also runs the
layers' update ops.

A model is whatever tensors the user built: ``fit`` feeds minibatches of ``data`` into the
placeholders ``inputs`` and runs the train op with the metric tensors, which it averages over
each epoch (weighted by batch size). If the graph has a ``gc.layers.learning_phase()``,
training runs feed it True (Dropout drops, BatchNormalization uses batch statistics) and
``evaluate``/``predict`` leave it False.

Example:
    >>> loss = gc.training.sparse_softmax_loss(y, logits)
    >>> step = gc.training.train_op(loss, gc.train.AdamOptimizer(1e-3))
    >>> with gc.Session() as sess:
    ...     sess.run(gc.global_variables_initializer())
    ...     history = gc.training.fit(sess, step, [x, y], [X, Y], epochs=5, batch_size=64,
    ...                               metrics={"loss": loss}, validation_data=[Xv, Yv])
    ...     scores = gc.training.evaluate(sess, {"loss": loss}, [x, y], [Xt, Yt])
"""
from __future__ import annotations

import time

import numpy as np

from graphc.convert import convert_to_tensor
from graphc.layers.switch import LEARNING_PHASE
from graphc.ops.control import group
from graphc.training.batches import as_arrays, batch_count, minibatches
from graphc.training.callbacks import EpochLogger, History, TrainingState
from graphc.training.metrics import RunningMeans
from graphc.training.progress import progress_bar
from graphc.variables import GraphKeys

__all__ = ["train_op", "fit", "evaluate", "predict"]



def _fed_placeholders(tensors) -> set:
    """The placeholders (that have no default) that computing ``tensors`` needs."""
    seen, found = set(), set()
    stack = [convert_to_tensor(t).op if not hasattr(t, "type") else t for t in tensors]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type == "placeholder":
            found.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return found


def train_op(loss, optimizer, var_list=None, global_step=None, name="train_op"):
    """``optimizer.minimize(loss)`` grouped with the graph's ``UPDATE_OPS`` that the same
    feeds can run (BatchNormalization's moving averages): TF1's
    ``with control_dependencies(UPDATE_OPS): minimize``. An update that needs a placeholder
    the loss does not (a layer also called on another input) is left out.

    Example:
        >>> step = gc.training.train_op(loss, gc.train.MomentumOptimizer(0.1, 0.9))
    """
    loss = convert_to_tensor(loss)
    graph = loss.graph
    with graph.as_default():
        step = optimizer.minimize(loss, var_list=var_list, global_step=global_step)
        needed = _fed_placeholders([loss])
        updates = [u for u in graph.get_collection(GraphKeys.UPDATE_OPS)
                   if _fed_placeholders([u]) <= needed]
        return group(step, *updates, name=name)


def _as_inputs(inputs) -> list:
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _check_pairing(who, inputs, arrays):
    if len(inputs) != len(arrays):
        raise ValueError(f"{who}: {len(inputs)} input placeholders "
                         f"{[getattr(t, 'name', t) for t in inputs]} but {len(arrays)} arrays")


def _training_feed(graph, training: bool, feed_dict) -> dict:
    feed = dict(feed_dict or {})
    phase = graph.get_collection(LEARNING_PHASE)
    if phase and training:
        feed.setdefault(phase[0], True)
    return feed


def _metric_items(metrics):
    if metrics is None:
        return [], []
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict of name -> scalar tensor, got {metrics!r}")
    return list(metrics), list(metrics.values())


def fit(session, train_op, inputs, data, epochs=1, batch_size=32, metrics=None,
        validation_data=None, callbacks=None, shuffle=True, seed=None, progress=None,
        verbose=True, feed_dict=None, validation_batch_size=256) -> History:
    """Train for ``epochs`` passes over ``data``.

    Args:
        session: the Session (variables initialized).
        train_op: the op one step runs (see ``train_op``).
        inputs: a placeholder or a list of them, matched with ``data``'s arrays.
        data: an array or a list of arrays with one example per row.
        metrics: ``{name: scalar tensor}`` averaged per epoch (e.g. loss, accuracy); the
            same tensors are evaluated on ``validation_data`` as ``val_<name>``.
        callbacks: Callback objects (EarlyStopping...); ``fit`` adds a History and, with
            ``verbose``, an EpochLogger printing each epoch's metrics and steps/s.
        shuffle, seed: a new order every epoch, all drawn from ``seed``.
        progress: a tqdm bar per epoch: None only on a terminal, True always (if tqdm is
            installed), False never.
        feed_dict: extra feeds for every run.

    Returns:
        The History: ``history["loss"]`` per epoch, ``history["steps_per_second"]``.

    Example:
        >>> h = gc.training.fit(sess, step, [x, y], [X, Y], epochs=3, metrics={"loss": loss})
    """
    inputs, arrays = _as_inputs(inputs), as_arrays(data, "fit")
    _check_pairing("fit", inputs, arrays)
    names, tensors = _metric_items(metrics)
    history = History()
    callbacks = [history] + ([EpochLogger()] if verbose else []) + list(callbacks or [])
    state = TrainingState(session, epochs)
    rng = np.random.default_rng(seed)
    base_feed = _training_feed(session.graph, True, feed_dict)
    steps = batch_count(len(arrays[0]), batch_size)
    for callback in callbacks:
        callback.on_train_begin(state)
    for epoch in range(1, epochs + 1):
        means = RunningMeans(names)
        started = time.perf_counter()
        with progress_bar(steps, f"epoch {epoch}/{epochs}", progress) as bar:
            for batch in minibatches(arrays, batch_size, shuffle=shuffle, rng=rng):
                feed = dict(base_feed)
                feed.update(zip(inputs, batch))
                _, values = session.run([train_op, tensors], feed_dict=feed)
                means.add(values, len(batch[0]))
                bar.update(1, **dict(zip(names[:1], values[:1])))
        elapsed = time.perf_counter() - started
        state.epoch, state.logs = epoch, means.result()
        if validation_data is not None:
            scores = evaluate(session, metrics, inputs, validation_data,
                              batch_size=validation_batch_size, feed_dict=feed_dict)
            state.logs.update({f"val_{k}": v for k, v in scores.items()})
        state.logs["steps_per_second"] = steps / elapsed if elapsed > 0 else float("inf")
        for callback in callbacks:
            callback.on_epoch_end(state)
        if state.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end(state)
    return history


def evaluate(session, metrics, inputs, data, batch_size=256, feed_dict=None) -> dict:
    """``{name: mean over data}`` of scalar metric tensors, in inference mode.

    Example:
        >>> gc.training.evaluate(sess, {"accuracy": acc}, [x, y], [X_test, y_test])
        {'accuracy': 0.97}
    """
    inputs, arrays = _as_inputs(inputs), as_arrays(data, "evaluate")
    _check_pairing("evaluate", inputs, arrays)
    names, tensors = _metric_items(metrics)
    means = RunningMeans(names)
    for batch in minibatches(arrays, batch_size, shuffle=False):
        feed = dict(feed_dict or {})
        feed.update(zip(inputs, batch))
        means.add(session.run(tensors, feed_dict=feed), len(batch[0]))
    return means.result()


def predict(session, outputs, inputs, data, batch_size=256, feed_dict=None):
    """``outputs`` (a tensor or a list) for every row of ``data``, batch by batch, in
    inference mode; arrays joined along the first axis.

    Example:
        >>> probs = gc.training.predict(sess, gc.nn.softmax(logits), x, X_test)
    """
    inputs, arrays = _as_inputs(inputs), as_arrays(data, "predict")
    _check_pairing("predict", inputs, arrays)
    several = isinstance(outputs, (list, tuple))
    fetches = list(outputs) if several else [outputs]
    parts: list = [[] for _ in fetches]
    for batch in minibatches(arrays, batch_size, shuffle=False):
        feed = dict(feed_dict or {})
        feed.update(zip(inputs, batch))
        for part, value in zip(parts, session.run(fetches, feed_dict=feed)):
            part.append(value)
    joined = [np.concatenate(part) for part in parts]
    return joined if several else joined[0]
