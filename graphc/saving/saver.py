"""``gc.train.Saver``: checkpoints of variable values with TF1's API.

A checkpoint is one container file of kind "checkpoint" at the save path (``model.ckpt-100``,
as TF1's V1 format kept one file), holding each variable's value under its checkpoint name
with a SHA-256 per tensor and per file (docs/formats.md). A save writes, in this order, each
step atomically (temporary file, fsync, rename): the checkpoint, its ``.meta`` graph, then the
``checkpoint`` state file, and only then deletes checkpoints beyond ``max_to_keep``. A crash at
any moment therefore leaves the state file naming a complete checkpoint.

A restore reads and checks everything first (the file's checksums and format version, every
name, dtype and shape) and only then assigns all the variables in one ``session.run`` of the
Saver's restore op, which the runtime applies all-or-nothing: a restore that fails leaves every
variable exactly as it was.

Example:
    >>> saver = gc.train.Saver(max_to_keep=3)
    >>> path = saver.save(sess, "run/model.ckpt", global_step=100)   # 'run/model.ckpt-100'
    >>> saver.restore(sess, gc.train.latest_checkpoint("run"))
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from graphc.errors import InvalidArgumentError, NotFoundError
from graphc.graph import get_default_graph
from graphc.ops.control import group, placeholder
from graphc.saving import checkpoint_state
from graphc.saving.meta_graph import export_meta_graph
from graphc.serialization import container
from graphc.variables import GraphKeys, Variable, assign

__all__ = ["Saver", "read_checkpoint"]


def read_checkpoint(path: str) -> tuple:
    """``(header, {name: array})`` of the checkpoint at ``path``, every checksum verified.

    Raises NotFoundError when no checkpoint is there and DataLossError for a damaged one."""
    if not checkpoint_state.checkpoint_exists(path):
        tensorflow = os.path.exists(f"{path}.index")  # TF's V2 format: .index + .data-*
        raise NotFoundError(None, None, f"Failed to find any matching files for {path!r}: " + (
            "it is a TensorFlow checkpoint (.index and .data files), which graphc does not "
            "read" if tensorflow else "no checkpoint is stored there"))
    return container.decode(container.read_bytes(path, "checkpoint"), "checkpoint", path)


def _names_of(var_list) -> dict:
    """``{checkpoint name: Variable}`` for TF1's var_list forms (None, a list, a dict)."""
    if var_list is None:
        var_list = get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES) + \
            get_default_graph().get_collection(GraphKeys.SAVEABLE_OBJECTS)
    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:
        items = [(getattr(v, "op", None) and v.op.name, v) for v in var_list]
    names = {}
    for name, variable in items:
        if not isinstance(variable, Variable):
            raise TypeError(f"Saver var_list entries must be Variables, got {variable!r} "
                            f"(for name {name!r})")
        if not isinstance(name, str) or not name:
            raise TypeError(f"Saver checkpoint names must be strings, got {name!r}")
        if name in names:
            raise ValueError(f"At least two variables have the same name: {name}")
        names[name] = variable
    return names


class Saver:
    """Saves and restores variables (TF1's ``tf.train.Saver``).

    Args:
        var_list: None (every global variable, named by its op name), a list of Variables
            (same naming) or a dict ``{checkpoint name: Variable}``.
        reshape: restore a value of another shape with the same number of elements.
        max_to_keep: how many recent checkpoints to keep (None or 0: all).
        allow_empty: build a Saver that does nothing when there are no variables.
        save_relative_paths: write paths in the state file relative to its folder.
        pad_step_number: write steps with 8 digits (``model.ckpt-00000100``).
        saver_def: rebuild a Saver on the ops of ``as_saver_def()`` (``import_meta_graph``).

    ``sharded``, ``keep_checkpoint_every_n_hours``, ``write_version`` and ``builder`` are
    accepted for TF1 programs and have no effect: a checkpoint is always one file.

    Example:
        >>> saver = gc.train.Saver({"weights": W}, max_to_keep=2)
        >>> saver.save(sess, "/tmp/model.ckpt", global_step=step)
        '/tmp/model.ckpt-10'
    """

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=None, pad_step_number=False, save_relative_paths=False,
                 filename=None, import_scope=None):
        self._last_checkpoints: list = []
        self._pad_step_number = bool(pad_step_number)
        if saver_def is not None:
            self._from_def(saver_def, import_scope)
            return
        self._reshape, self._max_to_keep = bool(reshape), max_to_keep
        self._save_relative_paths, self._filename = bool(save_relative_paths), filename
        self._names = _names_of(var_list)
        if not self._names:
            if not allow_empty:
                raise ValueError("No variables to save")
            self._restore_op, self._feeds = None, {}
            return
        graphs = {v.graph for v in self._names.values()}
        if len(graphs) > 1:
            raise ValueError("Saver var_list holds Variables of different graphs")
        graph = graphs.pop()
        with graph.as_default(), graph.atomic(), graph.control_dependencies(None), \
                graph.device(None), graph.name_scope(name or "save"):
            self._feeds = {ckpt: placeholder(v.dtype, v.shape, name="restore_value")
                           for ckpt, v in self._names.items()}
            self._restore_op = group(*[assign(v, self._feeds[ckpt]).op
                                       for ckpt, v in self._names.items()], name="restore_all")

    def _from_def(self, saver_def: dict, import_scope) -> None:
        graph = get_default_graph()
        prefix = f"{import_scope}/" if import_scope else ""
        variables = {v.op.name: v for v in graph._variable_reads.values()}
        try:
            self._names = {ckpt: variables[prefix + name]
                           for ckpt, name in saver_def["names"].items()}
            self._feeds = {ckpt: graph.get_tensor_by_name(prefix + name)
                           for ckpt, name in saver_def["restore_feeds"].items()}
            self._restore_op = saver_def["restore_op"] and graph.get_operation_by_name(
                prefix + saver_def["restore_op"])
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"saver_def names something the graph lacks: {err}") from None
        self._reshape = bool(saver_def.get("reshape", False))
        self._max_to_keep = saver_def.get("max_to_keep", 5)
        self._save_relative_paths = bool(saver_def.get("save_relative_paths", False))
        self._filename = saver_def.get("filename")
        self._pad_step_number = bool(saver_def.get("pad_step_number", False))

    def as_saver_def(self) -> dict:
        """This Saver as plain data (stored in meta graphs; TF1's SaverDef)."""
        return {"version": container.FORMAT_VERSION,
                "names": {ckpt: v.op.name for ckpt, v in self._names.items()},
                "restore_feeds": {ckpt: t.name for ckpt, t in self._feeds.items()},
                "restore_op": self._restore_op.name if self._restore_op else None,
                "reshape": self._reshape, "max_to_keep": self._max_to_keep,
                "save_relative_paths": self._save_relative_paths, "filename": self._filename,
                "pad_step_number": self._pad_step_number}

    # -- saving ---------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Write the variables' values of ``sess`` to ``save_path`` (``-<global_step>``
        appended when given); returns the checkpoint's path, or None for an empty Saver.

        Example:
            >>> saver.save(sess, "run/model.ckpt", global_step=100)
            'run/model.ckpt-100'
        """
        if not self._names:
            return None
        save_path = os.fspath(save_path)
        if latest_filename and os.path.basename(latest_filename) != latest_filename:
            raise ValueError(f"'latest_filename' must be a file name, got {latest_filename!r}")
        if global_step is not None:
            step = global_step if isinstance(global_step, (int, np.integer)) else \
                sess.run(global_step)
            save_path = f"{save_path}-{int(step):08d}" if self._pad_step_number else \
                f"{save_path}-{int(step)}"
        folder = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(folder):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        names = sorted(self._names)
        values = sess.run([self._names[name].value() for name in names])
        container.write_atomic(save_path, container.encode_chunks("checkpoint", {}, dict(
            zip(names, values))))
        if write_meta_graph:
            self._write_meta_graph(sess.graph, f"{save_path}.{meta_graph_suffix}")
        stale = self._record(save_path)
        if write_state:
            checkpoint_state.update_checkpoint_state(
                folder, save_path, self._last_checkpoints, latest_filename,
                save_relative_paths=self._save_relative_paths)
        for path in stale:  # after the state file stopped naming them
            checkpoint_state.remove_checkpoint(path, meta_graph_suffix=meta_graph_suffix)
        return save_path

    def _write_meta_graph(self, graph, path: str) -> None:
        """The checkpoint's ``.meta``; a graph holding Python objects (a py_func's function,
        a dataset) has none, with a warning: the checkpoint itself is what must not fail."""
        try:
            export_meta_graph(path, graph=graph, saver_def=self.as_saver_def())
        except TypeError as err:
            if os.path.exists(path):
                os.remove(path)  # an older .meta would describe another graph
            warnings.warn(f"Saver.save: no meta graph written to {path!r}: {err}",
                          stacklevel=3)

    def _record(self, save_path: str) -> list:
        """Append ``save_path`` to the kept checkpoints; the ones beyond max_to_keep."""
        kept = [p for p in self._last_checkpoints if p != save_path] + [save_path]
        stale = []
        if self._max_to_keep:
            stale, kept = kept[:-self._max_to_keep], kept[-self._max_to_keep:]
        self._last_checkpoints = kept
        return stale

    @property
    def last_checkpoints(self) -> list:
        """The kept checkpoints, oldest first."""
        return list(self._last_checkpoints)

    def set_last_checkpoints(self, last_checkpoints) -> None:
        self._last_checkpoints = list(last_checkpoints)

    def recover_last_checkpoints(self, checkpoint_paths) -> None:
        """Adopt the checkpoints of ``checkpoint_paths`` still on disk (after a restart)."""
        self._last_checkpoints = [p for p in checkpoint_paths
                                  if checkpoint_state.checkpoint_exists(p)]

    # -- restoring ------------------------------------------------------------------------
    def restore(self, sess, save_path) -> None:
        """Assign the values stored at ``save_path`` to the variables, all or none.

        Raises:
            ValueError: ``save_path`` is None.
            NotFoundError: no checkpoint there, or it lacks some variable's name.
            DataLossError: a truncated or corrupted file, or another format version.
            InvalidArgumentError: a stored shape or dtype differs from the variable's.

        Example:
            >>> saver.restore(sess, "run/model.ckpt-100")
        """
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        if not self._names:
            return
        save_path = os.fspath(save_path)
        _, arrays = read_checkpoint(save_path)
        missing = sorted(set(self._names) - set(arrays))
        if missing:
            others = sorted(set(arrays) - set(self._names))
            raise NotFoundError(None, None, f"Restoring from {save_path!r}: the checkpoint has "
                                f"no value for {missing}; it holds {others or 'nothing else'}"
                                " besides the names this Saver restores")
        feeds, problems = {}, []
        for name, variable in self._names.items():
            value, want = arrays[name], variable.shape.as_list()
            if value.dtype != variable.dtype.np:
                problems.append(f"{name!r}: the checkpoint holds {value.dtype}"
                                f"{list(value.shape)}, the variable is {variable.dtype.name}"
                                f"{want}")
            elif list(value.shape) != want:
                if self._reshape and value.size == int(np.prod(want)):
                    value = value.reshape(want)
                else:
                    problems.append(f"{name!r}: the checkpoint holds shape "
                                    f"{list(value.shape)}, the variable {variable.name!r} has "
                                    f"{want}")
            feeds[self._feeds[name]] = value
        if problems:
            raise InvalidArgumentError(None, None, f"Restoring from {save_path!r} failed, "
                                       "no variable was changed: " + "; ".join(problems))
        sess.run(self._restore_op, feed_dict=feeds)

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False,
                          clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False):
        """``gc.train.export_meta_graph`` with this Saver's record.

        Example:
            >>> saver.export_meta_graph("model.meta")
        """
        graph = next(iter(self._names.values())).graph if self._names else None
        return export_meta_graph(filename, collection_list=collection_list, as_text=as_text,
                                 graph=graph, clear_devices=clear_devices,
                                 saver_def=self.as_saver_def())
