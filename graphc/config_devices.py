"""TF's ``tf.config``: the devices graphc runs on, the intra-op thread count, and whether
``gc.function`` traces. ``gc.config`` holds these next to the session configuration messages.

graphc runs every op on the host CPU, so the physical devices are one CPU; a GPU list is
empty (the usual ``for gpu in tf.config.list_physical_devices("GPU"):
tf.config.experimental.set_memory_growth(gpu, True)`` loop does nothing, as in TF on a
machine without GPUs). The CPU may be split into several logical CPUs
(``set_logical_device_configuration``, as TF tests distribution strategies on one host):
ops placed on any of them run on the host. ``threading.set_intra_op_parallelism_threads``
sets graphc's thread count (the threading policy of graphc.runtime.threads) before the first
Session runs; the inter-op count is kept for its getter only, since a plan runs its ops in
order on the calling thread.

Example:
    >>> gc.config.list_physical_devices("GPU")
    []
    >>> gc.config.threading.set_intra_op_parallelism_threads(1)
"""
from __future__ import annotations

import collections
import types

from graphc.eager.function import run_functions_eagerly as _run_eagerly
from graphc.eager.function import functions_run_eagerly
from graphc.runtime import threads as _threads

__all__ = ["PhysicalDevice", "LogicalDevice", "LogicalDeviceConfiguration",
           "list_physical_devices", "list_logical_devices", "get_visible_devices",
           "set_visible_devices", "get_logical_device_configuration",
           "set_logical_device_configuration", "run_functions_eagerly",
           "functions_run_eagerly", "experimental", "threading"]

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])


class LogicalDeviceConfiguration(collections.namedtuple(
        "LogicalDeviceConfiguration",
        ["memory_limit", "experimental_priority", "experimental_device_ordinal"])):
    """One logical device to make of a physical one (TF's fields; graphc's CPU has no
    memory limit to apply).

    Example:
        >>> gc.config.LogicalDeviceConfiguration()
    """

    def __new__(cls, memory_limit=None, experimental_priority=None,
                experimental_device_ordinal=None):
        return super().__new__(cls, memory_limit, experimental_priority,
                               experimental_device_ordinal)


_CPU = PhysicalDevice("/physical_device:CPU:0", "CPU")
_LOGICAL: dict = {}  # physical device -> its logical device configurations, where set


def _of_type(devices, device_type):
    if device_type is None:
        return list(devices)
    return [d for d in devices if d.device_type == str(device_type).upper()]


def list_physical_devices(device_type=None) -> list:
    """The physical devices (of ``device_type``: "CPU", "GPU", ...): graphc's one CPU.

    Example:
        >>> gc.config.list_physical_devices()
        [PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]
    """
    return _of_type([_CPU], device_type)


def list_logical_devices(device_type=None) -> list:
    """The logical devices: one per logical configuration of each visible device.

    Example:
        >>> [d.name for d in gc.config.list_logical_devices("CPU")]
        ['/device:CPU:0']
    """
    logical = [LogicalDevice(f"/device:CPU:{i}", "CPU")
               for i in range(max(1, len(_LOGICAL.get(_CPU, ()))))]
    return _of_type(logical, device_type)


def _check_device(device, what):
    if not isinstance(device, PhysicalDevice) or device not in list_physical_devices():
        raise ValueError(f"{what}: unrecognized device {device!r}; the devices are "
                         f"{list_physical_devices()}")


def get_visible_devices(device_type=None) -> list:
    """The physical devices the runtime may use: the CPU, which cannot be hidden.

    Example:
        >>> gc.config.get_visible_devices("CPU")
    """
    return list_physical_devices(device_type)


def set_visible_devices(devices, device_type=None) -> None:
    """Which physical devices the runtime may use; the CPU cannot be hidden (every op runs
    on it), as in TF.

    Example:
        >>> gc.config.set_visible_devices([], "GPU")
    """
    devices = [devices] if isinstance(devices, PhysicalDevice) else list(devices)
    for device in devices:
        _check_device(device, "set_visible_devices")
        if device_type is not None and device.device_type != str(device_type).upper():
            raise ValueError(f"set_visible_devices: {device} is not a {device_type} device")
    if _CPU not in devices and device_type in (None, "CPU", "cpu"):
        raise ValueError("set_visible_devices: the CPU cannot be hidden: graphc runs every "
                         "op on it")


def get_logical_device_configuration(device) -> list | None:
    """The logical configurations set for ``device``, or None.

    Example:
        >>> gc.config.get_logical_device_configuration(cpu)
    """
    _check_device(device, "get_logical_device_configuration")
    configurations = _LOGICAL.get(device)
    return None if configurations is None else list(configurations)


def set_logical_device_configuration(device, logical_devices) -> None:
    """Split ``device`` into the logical devices of ``logical_devices`` (a list of
    LogicalDeviceConfiguration), before the first Session runs (RuntimeError after, as in
    TF).

    Example:
        >>> cpu = gc.config.list_physical_devices("CPU")[0]
        >>> two = [gc.config.LogicalDeviceConfiguration()] * 2
        >>> gc.config.set_logical_device_configuration(cpu, two)
    """
    _check_device(device, "set_logical_device_configuration")
    configurations = None if logical_devices is None else list(logical_devices)
    if configurations is not None and not all(
            isinstance(c, LogicalDeviceConfiguration) for c in configurations):
        raise ValueError("set_logical_device_configuration: logical_devices must be "
                         f"LogicalDeviceConfiguration values, got {logical_devices!r}")
    if _threads.applied() and configurations != _LOGICAL.get(device):
        raise RuntimeError("Virtual devices cannot be modified after being initialized "
                           "(a Session of this process has run)")
    if configurations is None:
        _LOGICAL.pop(device, None)
    else:
        _LOGICAL[device] = configurations


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Make ``gc.function`` run its Python function eagerly instead of tracing it (to
    debug it), or trace again (TF's ``tf.config.run_functions_eagerly``).

    Example:
        >>> gc.config.run_functions_eagerly(True)
    """
    _run_eagerly(bool(run_eagerly))


def _memory_growth(device, *enable):
    """get_memory_growth(device) and set_memory_growth(device, enable): GPUs only (TF's
    error for a CPU; graphc has no GPU)."""
    _check_device(device, "memory growth")
    raise ValueError(f"Cannot set memory growth on non-GPU devices: {device}")


def _device_details(device) -> dict:
    """TF's details of a device: none for a CPU."""
    _check_device(device, "get_device_details")
    return {}


def _intra_op(threads) -> None:
    _threads.request_threads(threads)


_INTER_OP = [0]


def _set_inter_op(threads) -> None:
    if not isinstance(threads, int) or threads < 0:
        raise ValueError(f"set_inter_op_parallelism_threads: a non-negative integer, got "
                         f"{threads!r}")
    _INTER_OP[0] = threads


threading = types.SimpleNamespace(
    get_intra_op_parallelism_threads=_threads.requested_threads,
    set_intra_op_parallelism_threads=_intra_op,
    get_inter_op_parallelism_threads=lambda: _INTER_OP[0],
    set_inter_op_parallelism_threads=_set_inter_op)

experimental = types.SimpleNamespace(
    list_physical_devices=list_physical_devices, list_logical_devices=list_logical_devices,
    get_visible_devices=get_visible_devices, set_visible_devices=set_visible_devices,
    get_memory_growth=_memory_growth, set_memory_growth=_memory_growth,
    get_virtual_device_configuration=get_logical_device_configuration,
    set_virtual_device_configuration=set_logical_device_configuration,
    VirtualDeviceConfiguration=LogicalDeviceConfiguration,
    get_device_details=_device_details)
experimental_run_functions_eagerly = run_functions_eagerly
experimental_functions_run_eagerly = functions_run_eagerly
