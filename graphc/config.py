"""TF1's session and run configuration messages: ``ConfigProto``, ``GPUOptions``,
``GraphOptions``, ``OptimizerOptions``, ``RunOptions``, ``RunMetadata``.

They accept TF's field names as keyword arguments and attributes, as the protocol buffers do
(``config.gpu_options.allow_growth = True`` works on a fresh ``ConfigProto``), and refuse
names TF does not have, so a typo is an error as in TF. graphc runs every op on the host
with NumPy: placement, thread-pool and GPU-memory settings are recorded, not acted upon.

Example:
    >>> config = gc.ConfigProto(allow_soft_placement=True, log_device_placement=False)
    >>> config.gpu_options.allow_growth = True
    >>> sess = gc.Session(config=config)
"""
from __future__ import annotations

import copy

__all__ = ["ConfigProto", "GPUOptions", "GraphOptions", "OptimizerOptions", "RunOptions",
           "RunMetadata", "RewriterConfig", "StepStats"]


class _Message:
    """A protocol-buffer-like record: a fixed set of fields with defaults. A default that is
    a class or a ``list``/``dict`` type makes a fresh value per message."""

    FIELDS: dict = {}

    def __init__(self, **fields):
        for name, default in self.FIELDS.items():
            object.__setattr__(self, name, default() if isinstance(default, type) else default)
        for name, value in fields.items():
            if name not in self.FIELDS:
                raise ValueError(f'Protocol message {type(self).__name__} has no "{name}" '
                                 f"field; its fields: {', '.join(self.FIELDS)}")
            setattr(self, name, value)

    def __setattr__(self, name, value):
        if name not in self.FIELDS:
            raise AttributeError(f'Assignment not allowed (no field "{name}" in protocol '
                                 f"message object {type(self).__name__})")
        object.__setattr__(self, name, value)

    def _changed(self) -> dict:
        fresh = type(self)()
        return {name: getattr(self, name) for name in self.FIELDS
                if getattr(self, name) != getattr(fresh, name)}

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._changed() == other._changed()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._changed().items())
        return f"{type(self).__name__}({fields})"

    def CopyFrom(self, other) -> None:  # noqa: N802 - protobuf's method names
        for name in self.FIELDS:
            object.__setattr__(self, name, copy.deepcopy(getattr(other, name)))

    def MergeFrom(self, other) -> None:  # noqa: N802
        for name, value in other._changed().items():
            object.__setattr__(self, name, copy.deepcopy(value))

    def HasField(self, name) -> bool:  # noqa: N802
        return name in self._changed()

    def ClearField(self, name) -> None:  # noqa: N802
        default = self.FIELDS[name]
        object.__setattr__(self, name, default() if isinstance(default, type) else default)


class OptimizerOptions(_Message):
    """Graph optimizer settings (graphc's own optimizer is ``gc.OptimizerConfig``)."""

    L1, L0 = 0, -1  # opt_level
    DEFAULT, OFF, ON_1, ON_2 = 0, -1, 1, 2  # global_jit_level
    FIELDS = dict(do_common_subexpression_elimination=False, do_constant_folding=False,
                  max_folded_constant_in_bytes=0, do_function_inlining=False, opt_level=0,
                  global_jit_level=0, cpu_global_jit=False)


class RewriterConfig(_Message):
    """Grappler's rewriter settings (TF's ``rewriter_config_pb2.RewriterConfig``)."""

    DEFAULT, ON, OFF, AGGRESSIVE = 0, 1, 2, 3
    FIELDS = dict(layout_optimizer=0, constant_folding=0, shape_optimization=0,
                  remapping=0, arithmetic_optimization=0, dependency_optimization=0,
                  loop_optimization=0, function_optimization=0, debug_stripper=0,
                  disable_model_pruning=False, memory_optimization=0, auto_mixed_precision=0,
                  min_graph_nodes=0, optimizers=list)


class GraphOptions(_Message):
    FIELDS = dict(enable_recv_scheduling=False, optimizer_options=OptimizerOptions,
                  build_cost_model=0, build_cost_model_after=0, infer_shapes=False,
                  place_pruned_graph=False, enable_bfloat16_sendrecv=False, timeline_step=0,
                  rewrite_options=RewriterConfig)


class GPUOptions(_Message):
    """GPU memory settings (graphc uses no GPU: accepted and recorded)."""

    FIELDS = dict(per_process_gpu_memory_fraction=0.0, allow_growth=False, allocator_type="",
                  deferred_deletion_bytes=0, visible_device_list="",
                  polling_active_delay_usecs=0, polling_inactive_delay_msecs=0,
                  force_gpu_compatible=False)


class ConfigProto(_Message):
    """Session configuration (``gc.Session(config=...)``)."""

    FIELDS = dict(device_count=dict, intra_op_parallelism_threads=0,
                  inter_op_parallelism_threads=0, use_per_session_threads=False,
                  session_inter_op_thread_pool=list, placement_period=0, device_filters=list,
                  gpu_options=GPUOptions, allow_soft_placement=False,
                  log_device_placement=False, graph_options=GraphOptions,
                  operation_timeout_in_ms=0, isolate_session_state=False,
                  share_cluster_devices_in_session=False)


class RunOptions(_Message):
    """Per-run options (``session.run(..., options=...)``)."""

    NO_TRACE, SOFTWARE_TRACE, HARDWARE_TRACE, FULL_TRACE = 0, 1, 2, 3
    FIELDS = dict(trace_level=0, timeout_in_ms=0, inter_op_thread_pool=0,
                  output_partition_graphs=False, report_tensor_allocations_upon_oom=False)


class StepStats(_Message):
    FIELDS = dict(dev_stats=list)


class RunMetadata(_Message):
    """What a traced run reports (``session.run(..., run_metadata=...)``); graphc records no
    trace, so its fields stay empty."""

    FIELDS = dict(step_stats=StepStats, partition_graphs=list, function_graphs=list)


# tf.config's devices, threads and tracing switch (graphc/config_devices.py)
from graphc.config_devices import (LogicalDevice, LogicalDeviceConfiguration,  # noqa: E402,F401
                                   PhysicalDevice, experimental,
                                   experimental_functions_run_eagerly,
                                   experimental_run_functions_eagerly, functions_run_eagerly,
                                   get_logical_device_configuration, get_visible_devices,
                                   list_logical_devices, list_physical_devices,
                                   run_functions_eagerly, set_logical_device_configuration,
                                   set_visible_devices, threading)
