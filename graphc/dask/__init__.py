"""A Dask backend: the same graph, on data bigger than memory or on a cluster.

``graphc.dask.Session`` has the NumPy Session's interface; feeds may be dask arrays (from
zarr, ``.npy`` memmaps, ``dask.array`` generators) or NumPy arrays, chunked along the batch
axis (axis 0). Each op's ``OpDef.distribution`` says how it splits (``graphc.registry.Split``);
an op that declares nothing is an error when chunked values reach it. Needs the optional
extra ``graphc[dask]``; dask is imported only when a Session is made.

Example:
    >>> import graphc.dask
    >>> with graphc.dask.Session(graph=g, chunks="128MiB") as sess:
    ...     sess.run(gc.global_variables_initializer())
    ...     sess.run(train_op, {x: X, y: Y})          # full-batch gradient step
    ...     for xb, yb in graphc.dask.minibatches([X, Y], 4096):
    ...         numpy_session.run(train_op, {x: xb, y: yb})   # minibatch SGD
"""
from __future__ import annotations

from .session import Session, import_dask
from .streaming import minibatches

__all__ = ["Session", "minibatches", "import_dask"]
