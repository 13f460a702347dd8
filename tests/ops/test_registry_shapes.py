"""Every op's shape and dtype inference against the real outputs, with known and None dims."""
import numpy as np
import pytest

from tests.registry_cases import build, run, sample_cases

CASES, IDS = sample_cases()


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_inferred_shape_and_dtype_equal_output(opdef, sample):
    graph, outputs, feeds = build(opdef, sample)
    for tensor, value in zip(outputs, run(graph, outputs, feeds)):
        value = np.asarray(value)
        assert tensor.dtype.np == value.dtype, f"{opdef.name}: {tensor.dtype} vs {value.dtype}"
        if tensor.shape.is_fully_defined():
            assert tensor.shape == value.shape, f"{opdef.name}: {tensor.shape} vs {value.shape}"
        else:
            assert tensor.shape.is_compatible_with(value.shape), f"{opdef.name}"


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_inference_with_unknown_dims_is_compatible(opdef, sample):
    """Placeholders with every dim None: inference must stay compatible with the output."""
    graph, outputs, feeds = build(opdef, sample, unknown_dims=True)
    for tensor, value in zip(outputs, run(graph, outputs, feeds)):
        value = np.asarray(value)
        assert tensor.dtype.np == value.dtype
        assert tensor.shape.is_compatible_with(value.shape), (
            f"{opdef.name}: inferred {tensor.shape}, got {value.shape}")
