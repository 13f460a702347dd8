"""Reading checkpoints without a graph (TF1's ``NewCheckpointReader``, ``list_variables``,
``load_variable``) and writing graphs as files (``tf.train.write_graph``).

Example:
    >>> gc.train.list_variables("run")
    [('W', [3, 2]), ('b', [2]), ('global_step', [])]
    >>> gc.train.load_variable("run/model.ckpt-100", "W")
"""
from __future__ import annotations

import os

from graphc import dtypes as gdt
from graphc.errors import NotFoundError
from graphc.graph import Graph
from graphc.saving.checkpoint_state import latest_checkpoint
from graphc.saving.saver import read_checkpoint
from graphc.serialization import container

__all__ = ["CheckpointReader", "NewCheckpointReader", "list_variables", "load_variable",
           "write_graph"]


class CheckpointReader:
    """The tensors of one checkpoint file, read and verified once.

    Example:
        >>> reader = gc.train.NewCheckpointReader("run/model.ckpt-100")
        >>> reader.get_variable_to_shape_map()["W"]
        [3, 2]
    """

    def __init__(self, path):
        self._path = os.fspath(path)
        _, self._arrays = read_checkpoint(self._path)

    def has_tensor(self, name: str) -> bool:
        return name in self._arrays

    def get_tensor(self, name: str):
        if name not in self._arrays:
            raise NotFoundError(None, None, f"Key {name} not found in checkpoint "
                                f"{self._path!r}; it holds {sorted(self._arrays)}")
        return self._arrays[name].copy()

    def get_variable_to_shape_map(self) -> dict:
        return {name: list(a.shape) for name, a in self._arrays.items()}

    def get_variable_to_dtype_map(self) -> dict:
        return {name: gdt.as_dtype(a.dtype) for name, a in self._arrays.items()}

    def debug_string(self) -> bytes:
        return "".join(f"{name} ({a.dtype}) {list(a.shape)}\n"
                       for name, a in sorted(self._arrays.items())).encode()


def NewCheckpointReader(filepattern) -> CheckpointReader:  # noqa: N802 - TF1's name
    """A CheckpointReader for the checkpoint at ``filepattern`` (TF1).

    Example:
        >>> reader = gc.train.NewCheckpointReader(gc.train.latest_checkpoint("run"))
        >>> reader.get_tensor("layer/W").shape
        (3, 2)
    """
    return CheckpointReader(filepattern)


def _checkpoint_path(ckpt_dir_or_file) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


def list_variables(ckpt_dir_or_file) -> list:
    """``[(name, shape)]`` of a checkpoint (or a folder's latest), sorted by name.

    Example:
        >>> gc.train.list_variables("run")
        [('global_step', []), ('layer/W', [3, 2])]
    """
    reader = CheckpointReader(_checkpoint_path(ckpt_dir_or_file))
    return sorted(reader.get_variable_to_shape_map().items())


def load_variable(ckpt_dir_or_file, name: str):
    """The value stored under ``name`` in a checkpoint (or a folder's latest).

    Example:
        >>> gc.train.load_variable("run", "global_step")
        array(200)
    """
    if name.endswith(":0"):
        name = name[:-2]
    return CheckpointReader(_checkpoint_path(ckpt_dir_or_file)).get_tensor(name)


def write_graph(graph_or_graph_def, logdir, name, as_text: bool = True) -> str:
    """Write a graph (or GraphDef) to ``logdir/name`` atomically; returns the path (TF1).

    ``as_text`` writes the JSON text form, otherwise the binary container; both load with
    ``gc.GraphDef.FromString(open(path, "rb").read())``.

    Example:
        >>> gc.train.write_graph(sess.graph, "logs", "graph.pbtxt")
        'logs/graph.pbtxt'
    """
    graph_def = graph_or_graph_def
    if isinstance(graph_def, Graph):
        graph_def = graph_def.as_graph_def()
    logdir = os.fspath(logdir)
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    container.write_atomic(path, graph_def.SerializeToString(as_text=as_text))
    return path
