"""The ``checkpoint`` state file of a checkpoint folder, in TF1's text format, and the
functions that read it (``tf.train.latest_checkpoint``, ``get_checkpoint_state``)::

    model_checkpoint_path: "/tmp/run/model.ckpt-200"
    all_model_checkpoint_paths: "/tmp/run/model.ckpt-100"
    all_model_checkpoint_paths: "/tmp/run/model.ckpt-200"

Paths are written absolute, or relative to the folder with ``save_relative_paths``; relative
paths are read relative to the folder. The file is replaced atomically, and a Saver writes it
only after the checkpoint it names is complete on disk.

Example:
    >>> state = gc.train.get_checkpoint_state("/tmp/run")
    >>> state.model_checkpoint_path, len(state.all_model_checkpoint_paths)
    ('/tmp/run/model.ckpt-200', 2)
"""
from __future__ import annotations

import os
import re
import warnings

from graphc.serialization.container import write_atomic

__all__ = ["CheckpointState", "get_checkpoint_state", "latest_checkpoint",
           "update_checkpoint_state", "checkpoint_exists", "remove_checkpoint"]

_LINE = re.compile(r'^\s*(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([-+\w.]+))\s*$')
_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", '"': b'"', "'": b"'", "\\": b"\\"}


class CheckpointState:
    """TF1's CheckpointState: the newest checkpoint and every one still kept, oldest first.

    Example:
        >>> gc.train.get_checkpoint_state("run").all_model_checkpoint_paths[-1]
        'run/model.ckpt-200'
    """

    def __init__(self, model_checkpoint_path: str = "", all_model_checkpoint_paths=()):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)

    def __str__(self) -> str:
        lines = [f'model_checkpoint_path: "{_escape(self.model_checkpoint_path)}"']
        lines += [f'all_model_checkpoint_paths: "{_escape(path)}"'
                  for path in self.all_model_checkpoint_paths]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"CheckpointState({self.model_checkpoint_path!r}, " \
               f"{self.all_model_checkpoint_paths!r})"


def _escape(text: str) -> str:
    """C-style escapes, as protobuf's text format writes strings."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


def _unescape(text: str) -> str:
    out, index = bytearray(), 0
    while index < len(text):
        char = text[index]
        if char != "\\":
            out += char.encode("utf-8")
            index += 1
            continue
        following = text[index + 1:index + 2]
        octal = re.match(r"[0-7]{1,3}", text[index + 1:])
        if following in _ESCAPES:
            out += _ESCAPES[following]
            index += 2
        elif octal:
            out.append(int(octal.group(), 8) & 0xFF)
            index += 1 + len(octal.group())
        elif following == "x" and re.match(r"[0-9a-fA-F]{2}", text[index + 2:index + 4]):
            out.append(int(text[index + 2:index + 4], 16))
            index += 4
        else:
            raise ValueError(f"invalid escape \\{following}")
    return out.decode("utf-8")


def parse_state(text: str, source: str) -> CheckpointState:
    """The CheckpointState of a state file's text; ValueError naming the bad line."""
    state = CheckpointState()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError(f"{source}:{number}: cannot parse {line!r}")
        key, quoted = match.group(1), match.group(2)
        if key == "model_checkpoint_path" and quoted is not None:
            state.model_checkpoint_path = _unescape(quoted)
        elif key == "all_model_checkpoint_paths" and quoted is not None:
            state.all_model_checkpoint_paths.append(_unescape(quoted))
        # other keys (TF's timestamps) carry nothing graphc needs
    if not state.model_checkpoint_path:
        raise ValueError(f"{source}: no model_checkpoint_path")
    return state


def _state_path(checkpoint_dir: str, latest_filename=None) -> str:
    return os.path.join(checkpoint_dir, latest_filename or "checkpoint")


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState of folder ``checkpoint_dir``, or None when it has no state file
    (or one that cannot be parsed: a warning says why, as TF1 logs it).

    Example:
        >>> state = gc.train.get_checkpoint_state("run")
        >>> state and state.model_checkpoint_path
        'run/model.ckpt-200'
    """
    path = _state_path(os.fspath(checkpoint_dir), latest_filename)
    try:
        with open(path, encoding="utf-8") as handle:
            state = parse_state(handle.read(), path)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        warnings.warn(f"{path}: {err}; checkpoint state ignored", stacklevel=2)
        return None
    folder = os.fspath(checkpoint_dir)
    state.model_checkpoint_path = _from_folder(folder, state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [_from_folder(folder, p)
                                        for p in state.all_model_checkpoint_paths]
    return state


def _from_folder(folder: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(folder, path)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The newest checkpoint of ``checkpoint_dir`` if it exists on disk, else None (TF1).

    Example:
        >>> saver.restore(sess, gc.train.latest_checkpoint("run"))
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    return None


def checkpoint_exists(checkpoint_prefix) -> bool:
    """Whether a checkpoint is stored at ``checkpoint_prefix`` (``model.ckpt-100``).

    Example:
        >>> gc.train.checkpoint_exists(saver.save(sess, "run/model.ckpt"))
        True
    """
    return os.path.isfile(os.fspath(checkpoint_prefix))


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=False) -> None:
    """Replace the state file of ``save_dir`` atomically (TF1's update_checkpoint_state);
    ``model_checkpoint_path`` is appended to the list when it is not its last entry.

    Example:
        >>> gc.train.update_checkpoint_state("run", "run/model.ckpt-200")
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths = [p for p in paths if p != model_checkpoint_path] + [model_checkpoint_path]
    folder = os.fspath(save_dir)

    def written(path):
        if save_relative_paths:
            return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))
        return os.path.abspath(path)

    state = CheckpointState(written(model_checkpoint_path), [written(p) for p in paths])
    write_atomic(_state_path(folder, latest_filename), str(state).encode("utf-8"))


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=None,
                      meta_graph_suffix: str = "meta") -> None:
    """Delete the checkpoint at ``checkpoint_prefix`` and its meta graph (TF1).

    Example:
        >>> gc.train.remove_checkpoint("run/model.ckpt-100")
    """
    for path in (os.fspath(checkpoint_prefix), f"{checkpoint_prefix}.{meta_graph_suffix}"):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
