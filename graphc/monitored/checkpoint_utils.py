"""Checkpoint utilities of TF1's ``tf.train``: initializing variables from a checkpoint
(``init_from_checkpoint``, ``warm_start``), reading one (``load_checkpoint``), and following
a folder's new checkpoints (``checkpoints_iterator``, ``get_checkpoint_mtimes``).

Both replace the chosen variables' initializers, as TF1 does: the values arrive when the
initializer runs (``global_variables_initializer()`` built afterwards, or a Scaffold's
init op), and a variable that is never initialized is never touched. graphc's initializer
assigns the checkpoint's value as read when the mapping is made (TF1 reads the file when
the initializer runs). Every entry is checked before any initializer changes: a missing
tensor, a shape or dtype that differs, or an unused name raises ValueError and leaves the
graph as it was.

Example:
    >>> gc.train.init_from_checkpoint("pretrained", {"encoder/": "encoder/"})
    >>> gc.train.warm_start("pretrained", vars_to_warm_start="dense.*")
    >>> sess.run(gc.global_variables_initializer())    # loads them
"""
from __future__ import annotations

import os
import time

from graphc import tf_logging as logging
from graphc.graph import get_default_graph
from graphc.ops.creation import constant
from graphc.saving import NewCheckpointReader, latest_checkpoint
from graphc.saving.reader import _checkpoint_path  # a folder's latest, as list_variables
from graphc.variables import GraphKeys, Variable, assign

__all__ = ["load_checkpoint", "init_from_checkpoint", "warm_start", "checkpoints_iterator",
           "get_checkpoint_mtimes"]


def load_checkpoint(ckpt_dir_or_file):
    """A ``CheckpointReader`` of the checkpoint file, or of a directory's latest.

    Example:
        >>> reader = gc.train.load_checkpoint("run")
        >>> reader.get_tensor("W")
    """
    return NewCheckpointReader(_checkpoint_path(ckpt_dir_or_file))


def _variables_by_name() -> dict:
    graph = get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_VARIABLES) + \
        graph.get_collection(GraphKeys.LOCAL_VARIABLES)
    return {v.op.name: v for v in found}


def _plan(ckpt_dir_or_file, reader, assignment_map) -> list:
    """``[(variable, checkpoint tensor name)]`` for ``assignment_map``, checked."""
    shapes, by_name = reader.get_variable_to_shape_map(), _variables_by_name()
    items = assignment_map.items() if isinstance(assignment_map, dict) else assignment_map
    plan = []
    for tensor_name, target in sorted(items, key=lambda pair: pair[0]):
        if isinstance(target, (list, tuple)):
            raise ValueError(f"init_from_checkpoint: {tensor_name!r} maps to a list of "
                             "variables (partitions); graphc has no partitioned variables")
        variable = target if isinstance(target, Variable) else by_name.get(target)
        if variable is not None:
            if tensor_name not in shapes:
                raise ValueError(f"Tensor {tensor_name} is not found in {ckpt_dir_or_file} "
                                 f"checkpoint {shapes}")
            plan.append((variable, tensor_name))
            continue
        if not isinstance(target, str) or not target.endswith("/") and target != "/":
            raise ValueError(f"init_from_checkpoint: {target!r} (for checkpoint tensor "
                             f"{tensor_name!r}) is neither a variable nor a variable's name "
                             "in the default graph, nor a scope ending in '/'")
        if not tensor_name.endswith("/"):
            raise ValueError(f"Assignment map with scope only name {target} should map to "
                             f"scope only {tensor_name}. Should be 'scope/': 'other_scope/'.")
        scope = "" if target == "/" else target
        for name in sorted(n for n in by_name if n.startswith(scope)):
            full_name = name[len(scope):]
            if tensor_name != "/":
                full_name = tensor_name + full_name
            if full_name not in shapes:
                raise ValueError(f"Tensor {full_name} ({name[len(scope):]} in {tensor_name}) "
                                 f"is not found in {ckpt_dir_or_file} checkpoint")
            plan.append((by_name[name], full_name))
    for variable, tensor_name in plan:
        want = variable.shape
        if not want.is_compatible_with(shapes[tensor_name]):
            raise ValueError(f"Shape of variable {variable.name} ({want}) doesn't match with "
                             f"shape of tensor {tensor_name} ({shapes[tensor_name]}) from "
                             "checkpoint reader.")
        stored = reader.get_variable_to_dtype_map()[tensor_name]
        if stored != variable.dtype.base_dtype:
            raise ValueError(f"init_from_checkpoint: variable {variable.name} is "
                             f"{variable.dtype.name}, checkpoint tensor {tensor_name} is "
                             f"{stored.name}")
    return plan


def _set_checkpoint_initializer(variable, value) -> None:
    graph = variable.graph
    with graph.as_default(), graph.control_dependencies(None), \
            graph.name_scope(f"{variable.op.name}/checkpoint_initializer"):
        initial = constant(value, dtype=variable.dtype.base_dtype, name="value")
        # TF1 swaps the same two fields (checkpoint_utils._set_checkpoint_initializer)
        variable._initializer_op = assign(variable, initial).op
        variable._initial_value = initial


def init_from_checkpoint(ckpt_dir_or_file, assignment_map) -> None:
    """Make the initializers of the mapped variables assign the checkpoint's values.

    ``assignment_map`` (a dict or a list of pairs) maps checkpoint names to: a Variable; a
    variable's name (``"scope/W"``); or, for a name ending in ``/``, a scope (``"new/"``:
    every variable under it, by the rest of its name; ``"/"``: the checkpoint's root or
    every variable).

    Raises:
        ValueError: no checkpoint there; a tensor, variable or scope not found; a shape or
            dtype that differs (no initializer was changed).

    Example:
        >>> gc.train.init_from_checkpoint("run", {"old_scope/": "new_scope/",
        ...                                       "global_step": step})
    """
    reader = load_checkpoint(ckpt_dir_or_file)
    for variable, tensor_name in _plan(ckpt_dir_or_file, reader, assignment_map):
        _set_checkpoint_initializer(variable, reader.get_tensor(tensor_name))
        logging.debug("Initialize variable %s from checkpoint %s with %s", variable.name,
                      ckpt_dir_or_file, tensor_name)


def _variables_to_warm_start(vars_to_warm_start) -> list:
    graph = get_default_graph()
    if vars_to_warm_start is None or isinstance(vars_to_warm_start, str):
        return graph.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope=vars_to_warm_start)
    if isinstance(vars_to_warm_start, list):
        if all(isinstance(v, str) for v in vars_to_warm_start):
            return [v for scope in vars_to_warm_start
                    for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES, scope=scope)]
        if all(isinstance(v, Variable) for v in vars_to_warm_start):
            return list(vars_to_warm_start)
        raise ValueError("If `vars_to_warm_start` is a list, it must be all `Variable` or "
                         f"all `str`.  Given types are {[type(v) for v in vars_to_warm_start]}")
    raise ValueError("`vars_to_warm_start must be a `list` or `str`.  Given type is "
                     f"{type(vars_to_warm_start)}")


def warm_start(ckpt_to_initialize_from, vars_to_warm_start=".*", var_name_to_vocab_info=None,
               var_name_to_prev_var_name=None) -> None:
    """Initialize variables from a checkpoint by name (TF1's ``tf.train.warm_start``).

    Args:
        vars_to_warm_start: a regex over TRAINABLE_VARIABLES (default all of them), a list
            of regexes over GLOBAL_VARIABLES, a list of Variables, or None (none).
        var_name_to_prev_var_name: ``{variable name: its name in the checkpoint}``.

    Raises:
        ValueError: a renamed variable is not among those warm-started, or an
            ``init_from_checkpoint`` error (nothing was changed).

    Example:
        >>> gc.train.warm_start("pretrained", ["dense/"],
        ...                     var_name_to_prev_var_name={"dense/kernel": "fc/kernel"})
    """
    if var_name_to_vocab_info:
        raise ValueError("warm_start: var_name_to_vocab_info (vocabulary remapping) is not "
                         "supported by graphc")
    renames = dict(var_name_to_prev_var_name or {})
    chosen = _variables_to_warm_start(vars_to_warm_start) if vars_to_warm_start else []
    names = {v.op.name: v for v in chosen}
    unused = set(renames) - set(names)
    if unused:
        raise ValueError(f"You provided the following variables in var_name_to_prev_var_name "
                         f"that were not used: {unused}.  Perhaps you misspelled them?  Here "
                         f"is the list of viable variable names: {sorted(names)}")
    logging.info("Warm-starting from: %s", ckpt_to_initialize_from)
    init_from_checkpoint(ckpt_to_initialize_from,
                         [(renames.get(name, name), v) for name, v in names.items()])
    logging.info("Warm-started %d variables.", len(names))


def _wait_for_new_checkpoint(checkpoint_dir, last_checkpoint, seconds_to_sleep, timeout):
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        path = latest_checkpoint(checkpoint_dir)
        if path is not None and path != last_checkpoint:
            return path
        if deadline is not None and time.monotonic() + seconds_to_sleep > deadline:
            return None
        time.sleep(seconds_to_sleep)


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
    """Yield each new latest checkpoint of ``checkpoint_dir`` as it appears, waiting at
    least ``min_interval_secs`` between them; stop after ``timeout`` seconds without a new
    one (unless ``timeout_fn()`` says to keep waiting).

    Example:
        >>> for path in gc.train.checkpoints_iterator("run", timeout=600):
        ...     evaluate(path)
    """
    checkpoint_path = None
    while True:
        new_path = _wait_for_new_checkpoint(checkpoint_dir, checkpoint_path, 1, timeout)
        if new_path is None:
            if timeout_fn is None or timeout_fn():
                logging.info("Timed-out waiting for a checkpoint.")
                return
            continue
        start = time.monotonic()
        checkpoint_path = new_path
        yield checkpoint_path
        remaining = start + min_interval_secs - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)


def get_checkpoint_mtimes(checkpoint_prefixes) -> list:
    """The modification times (seconds) of the checkpoints that exist, in order.

    Example:
        >>> gc.train.get_checkpoint_mtimes(saver.last_checkpoints)
    """
    return [os.stat(os.fspath(p)).st_mtime_ns / 1e9 for p in checkpoint_prefixes
            if os.path.isfile(os.fspath(p))]
