"""The memory flags of the registry, on every sample of every op that declares them:
``takes_out`` kernels given an ``out=`` buffer return their result (written into it, or,
where a kernel may not, a new array: the arena takes either), and ``fresh_output`` kernels
return arrays of their own: sharing no memory with their inputs, and left unchanged by the
kernel's next call (a result that were a view of a reused temporary would change under the
caller)."""
import functools

import numpy as np
import pytest

from graphc import registry
from tests.registry_cases import build, run, sample_cases

CASES, IDS = sample_cases()
FLAGGED = [(case, name) for case, name in zip(CASES, IDS)
           if case[0].takes_out or case[0].fresh_output]


def _bound_kernel(opdef, op):
    if opdef.bind is not None:
        return opdef.bind(op)
    return functools.partial(opdef.kernel, **op.attrs) if op.attrs else opdef.kernel


def _kernel_and_inputs(opdef, sample):
    graph, _, feeds = build(opdef, sample)
    op = next(op for op in graph.get_operations() if op.type == opdef.name)
    inputs = run(graph, list(op.inputs), feeds)
    return _bound_kernel(opdef, op), inputs


def _changed(value):
    """Another input of the same shape and dtype: floats doubled plus one, others as is."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value * 2 + 1
    return value


@pytest.mark.parametrize("opdef,sample", [case for case, _ in FLAGGED],
                         ids=[name for _, name in FLAGGED])
def test_flagged_kernels_honour_out_and_return_arrays_of_their_own(opdef, sample):
    kernel, inputs = _kernel_and_inputs(opdef, sample)
    if opdef.needs_context:
        pytest.skip("context kernels are not called with out=")
    result = kernel(*inputs)
    several = isinstance(result, tuple)  # an op of several results: out= takes a tuple
    wants = list(result) if several else [result]
    if not all(isinstance(want, np.ndarray) and want.ndim for want in wants):
        return  # NumPy scalars cannot receive out=
    kept = [want.copy() for want in wants]
    if opdef.fresh_output:
        for want in wants:
            for value in inputs:
                assert not (isinstance(value, np.ndarray) and np.shares_memory(want, value)), \
                    f"{opdef.name}: the result shares memory with an input"
        kernel(*[_changed(value) for value in inputs])
        for want, before in zip(wants, kept):
            np.testing.assert_array_equal(want, before, err_msg=f"{opdef.name}: a later "
                                          "call changed an earlier result")
    if opdef.takes_out:
        buffers = [np.full_like(want, np.nan if want.dtype.kind in "fc" else 7)
                   for want in wants]
        got = kernel(*inputs, out=tuple(buffers) if several else buffers[0])
        for value, before in zip(list(got) if several else [got], kept):
            np.testing.assert_array_equal(value, before, err_msg=f"{opdef.name}: out= differs")


@pytest.mark.parametrize("name", ["conv2d", "conv2d_backprop_input", "conv2d_backprop_filter",
                                  "max_pool", "max_pool_grad", "max_pool_grad_grad"])
def test_the_conv_and_pool_kernels_write_into_out(name):
    """The W7 kernels take out= and fill it whole (so plans keep their result buffers from
    run to run: no page faults for multi-megabyte results)."""
    opdef = registry.get(name)
    assert opdef.takes_out and opdef.fresh_output
    for sample in opdef.samples():
        kernel, inputs = _kernel_and_inputs(opdef, sample)
        want = kernel(*inputs)
        buffer = np.full_like(want, np.nan)
        assert kernel(*inputs, out=buffer) is buffer
        np.testing.assert_array_equal(buffer, want)
