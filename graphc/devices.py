"""Device names as TF1 writes them (``/job:ps/replica:0/task:0/device:GPU:0``), for
``gc.device(...)`` scopes.

graphc runs every op on the host; the device an op was asked for is recorded on it
(``op.device``) and shown by the text IR, so multi-device programs build and run unchanged.

Example:
    >>> DeviceSpec.from_string("/gpu:1").to_string()
    '/device:GPU:1'
"""
from __future__ import annotations

import contextlib
from typing import Optional

__all__ = ["DeviceSpec", "canonical_device", "device_for_op", "device_scope"]

_TASK_FIELDS = ("job", "replica", "task")


class DeviceSpec:
    """The parts of a device name; unset parts are None (``merge_from`` fills them).

    Example:
        >>> spec = DeviceSpec(job="worker", device_type="GPU", device_index=0)
        >>> spec.to_string()
        '/job:worker/device:GPU:0'
    """

    __slots__ = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job = job
        self.replica = None if replica is None else int(replica)
        self.task = None if task is None else int(task)
        self.device_type = None if device_type is None else str(device_type).upper()
        self.device_index = None if device_index is None else int(device_index)

    @classmethod
    def from_string(cls, spec: str) -> "DeviceSpec":
        """Parse ``/job:x/replica:0/task:0/device:GPU:0``, ``/gpu:0``, ``/cpu:*`` and the
        like; raises ValueError naming the part it does not understand."""
        parsed = cls()
        for part in (p for p in spec.split("/") if p):
            pieces = part.split(":")
            key = pieces[0].lower()
            if len(pieces) == 2 and key in _TASK_FIELDS:
                value = pieces[1] if key == "job" else int(pieces[1])
                setattr(parsed, key, value)
            elif len(pieces) == 3 and key == "device":
                parsed._set_device(pieces[1], pieces[2], spec)
            elif len(pieces) == 2 and key != "device":
                parsed._set_device(pieces[0], pieces[1], spec)
            else:
                raise ValueError(f"Unknown attribute {part!r} in device name {spec!r}; "
                                 "write e.g. '/device:GPU:0', '/cpu:0' or '/job:ps/task:0'")
        return parsed

    def _set_device(self, device_type: str, index: str, spec: str) -> None:
        if self.device_type is not None:
            raise ValueError(f"Cannot specify multiple device types in {spec!r}")
        self.device_type = device_type.upper()
        self.device_index = None if index == "*" else int(index)

    def merge_from(self, other: "DeviceSpec") -> None:
        """Take every part that ``other`` sets."""
        for name in self.__slots__:
            value = getattr(other, name)
            if value is not None:
                setattr(self, name, value)

    def to_string(self) -> str:
        parts = [f"/{name}:{getattr(self, name)}" for name in _TASK_FIELDS
                 if getattr(self, name) is not None]
        if self.device_type is not None:
            index = "*" if self.device_index is None else self.device_index
            parts.append(f"/device:{self.device_type}:{index}")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<DeviceSpec '{self.to_string()}'>"


def canonical_device(device) -> str:
    """A device name (string, DeviceSpec or None) in TF's canonical form ('' for none)."""
    if device is None or device == "":
        return ""
    if isinstance(device, DeviceSpec):
        return device.to_string()
    if not isinstance(device, str):
        raise TypeError(f"A device must be a string, a DeviceSpec or a function of the op, "
                        f"got {device!r}")
    return DeviceSpec.from_string(device).to_string()


def device_for_op(scopes, op) -> str:
    """The device of ``op`` under the ``gc.device`` scopes ``scopes`` (outermost first).

    As in TF1, the innermost scope decides first: a device function's result replaces the
    op's device (the function sees, as ``op.device``, the device the scopes inside it chose),
    a device name only fills the parts still unset; a ``None`` scope ends the walk (it
    clears the scopes outside it).
    """
    current: Optional[DeviceSpec] = DeviceSpec()
    for scope in reversed(scopes):
        if scope is None:
            break
        if callable(scope):
            op.device = current.to_string()
            current = DeviceSpec.from_string(canonical_device(scope(op)))
        else:
            merged = DeviceSpec.from_string(scope)
            merged.merge_from(current)
            current = merged
    return current.to_string()


@contextlib.contextmanager
def device_scope(scopes: list, device_name_or_function):
    """Push a ``gc.device`` scope onto a graph's ``scopes`` for the ``with`` block: a device
    name (merged into outer scopes' names), a function from each new op to a name (as
    multi-tower code writes), or None (clears the outer scopes).

    Example:
        >>> with g.device("/gpu:1"):
        ...     y = gc.matmul(x, W)        # y.op.device == "/device:GPU:1"
    """
    scope = device_name_or_function
    if scope is not None and not callable(scope):
        scope = canonical_device(scope)  # a bad name fails here, not at the first op
    scopes.append(scope)
    try:
        yield
    finally:
        scopes.pop()
