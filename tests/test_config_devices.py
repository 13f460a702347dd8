"""tf.config (graphc/config_devices.py): one CPU, logical CPUs, memory growth's GPU-only
error, the intra-op thread count and gc.function's eager switch."""
import numpy as np
import pytest

import graphc as gc
from graphc.runtime import threads


def test_devices_are_one_cpu_and_no_gpu():
    (cpu,) = gc.config.list_physical_devices()
    assert cpu == gc.config.PhysicalDevice("/physical_device:CPU:0", "CPU")
    assert gc.config.list_physical_devices("GPU") == [] == gc.config.get_visible_devices("GPU")
    assert gc.config.experimental.list_physical_devices("cpu") == [cpu]
    assert gc.config.get_visible_devices() == [cpu]
    for gpu in gc.config.list_physical_devices("GPU"):  # the usual TF2 preamble runs
        gc.config.experimental.set_memory_growth(gpu, True)


def test_memory_growth_is_for_gpus_only():
    cpu = gc.config.list_physical_devices("CPU")[0]
    with pytest.raises(ValueError, match="non-GPU"):
        gc.config.experimental.set_memory_growth(cpu, True)
    with pytest.raises(ValueError, match="unrecognized device"):
        gc.config.experimental.get_memory_growth(gc.config.PhysicalDevice("/gpu:0", "GPU"))


def test_the_cpu_cannot_be_hidden():
    cpu = gc.config.list_physical_devices("CPU")[0]
    gc.config.set_visible_devices([], "GPU")
    gc.config.set_visible_devices(cpu)
    with pytest.raises(ValueError, match="cannot be hidden"):
        gc.config.set_visible_devices([])
    with pytest.raises(ValueError, match="not a GPU device"):
        gc.config.set_visible_devices([cpu], "GPU")


def test_logical_cpus_follow_their_configuration(monkeypatch):
    cpu = gc.config.list_physical_devices("CPU")[0]
    monkeypatch.setattr(threads, "_APPLIED", [])  # as before this process's first run
    assert gc.config.get_logical_device_configuration(cpu) is None
    two = [gc.config.LogicalDeviceConfiguration()] * 2
    try:
        gc.config.set_logical_device_configuration(cpu, two)
        assert gc.config.get_logical_device_configuration(cpu) == two
        assert [d.name for d in gc.config.list_logical_devices("CPU")] == \
            ["/device:CPU:0", "/device:CPU:1"]
        with pytest.raises(ValueError, match="LogicalDeviceConfiguration"):
            gc.config.set_logical_device_configuration(cpu, ["two"])
    finally:
        gc.config.set_logical_device_configuration(cpu, None)
    assert [d.name for d in gc.config.list_logical_devices()] == ["/device:CPU:0"]


def test_logical_devices_are_fixed_once_a_session_ran():
    with gc.Graph().as_default():
        with gc.Session() as sess:
            sess.run(gc.constant(1.0))
    cpu = gc.config.list_physical_devices("CPU")[0]
    with pytest.raises(RuntimeError, match="cannot be modified after being initialized"):
        gc.config.experimental.set_virtual_device_configuration(
            cpu, [gc.config.experimental.VirtualDeviceConfiguration()])


def test_intra_op_threads_set_the_policy_before_the_first_run(monkeypatch):
    monkeypatch.setattr(threads, "_APPLIED", [])
    monkeypatch.setattr(threads, "_REQUESTED", [None])
    monkeypatch.delenv("GRAPHC_THREADS", raising=False)
    assert gc.config.threading.get_intra_op_parallelism_threads() == 0
    gc.config.threading.set_intra_op_parallelism_threads(1)
    assert gc.config.threading.get_intra_op_parallelism_threads() == 1
    assert threads.current_policy().threads == 1
    with pytest.raises(ValueError, match="non-negative integer"):
        gc.config.threading.set_intra_op_parallelism_threads(-2)
    monkeypatch.setattr(threads, "_APPLIED", [threads.ThreadPolicy("pool", 1)])
    gc.config.threading.set_intra_op_parallelism_threads(1)  # the count in force: fine
    with pytest.raises(RuntimeError, match="cannot be modified after initialization"):
        gc.config.threading.set_intra_op_parallelism_threads(3)


def test_inter_op_threads_are_kept_for_their_getter():
    before = gc.config.threading.get_inter_op_parallelism_threads()
    try:
        gc.config.threading.set_inter_op_parallelism_threads(4)
        assert gc.config.threading.get_inter_op_parallelism_threads() == 4
    finally:
        gc.config.threading.set_inter_op_parallelism_threads(before)


def test_run_functions_eagerly_calls_the_python_function():
    calls = []

    @gc.function
    def double(x):
        calls.append(type(x).__name__)
        return x * 2.0

    with gc.eager():
        try:
            gc.config.run_functions_eagerly(True)
            assert gc.config.functions_run_eagerly()
            for _ in range(3):
                np.testing.assert_allclose(double(gc.constant(1.5)).numpy(), 3.0)
            assert calls == ["EagerTensor"] * 3 and double.experimental_get_tracing_count() == 0
        finally:
            gc.config.experimental_run_functions_eagerly(False)
        assert not gc.config.experimental_functions_run_eagerly()
        double(gc.constant(1.5))
        double(gc.constant(2.5))
        assert double.experimental_get_tracing_count() == 1 and len(calls) == 4
