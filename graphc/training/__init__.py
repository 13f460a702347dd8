"""``gc.training``: minibatches, ``fit``/``evaluate``/``predict`` over a Session, metrics,
callbacks and a progress bar.

Example:
    >>> loss = gc.training.sparse_softmax_loss(y, logits)
    >>> acc = gc.training.accuracy(y, logits)
    >>> step = gc.training.train_op(loss, gc.train.AdamOptimizer(1e-3))
    >>> history = gc.training.fit(sess, step, [x, y], [X, Y], epochs=10, batch_size=32,
    ...                           metrics={"loss": loss, "accuracy": acc},
    ...                           validation_data=[Xv, Yv],
    ...                           callbacks=[gc.training.EarlyStopping(patience=2)])
"""
from graphc.training.batches import minibatches  # noqa: F401
from graphc.training.callbacks import (Callback, EarlyStopping, EpochLogger,  # noqa: F401
                                       History, TrainingState)
from graphc.training.fit import evaluate, fit, predict, train_op  # noqa: F401
from graphc.training.metrics import RunningMeans, accuracy, sparse_softmax_loss  # noqa: F401
from graphc.training.progress import progress_bar  # noqa: F401
