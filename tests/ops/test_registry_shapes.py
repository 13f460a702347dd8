"""Every op's shape and dtype inference against the real outputs: with static shapes, with
every dim None, and with each input of unknown rank and each single dim None in turn, the
inferred static shape must be compatible with what the kernel returns (and equal to it
when fully defined)."""
import numpy as np
import pytest

from tests.registry_cases import array_shapes, build, run, sample_cases

CASES, IDS = sample_cases()


def _check_outputs(opdef, outputs, values, variant):
    for tensor, value in zip(outputs, values):
        value = np.asarray(value)
        assert tensor.dtype.np == value.dtype, (
            f"{opdef.name} ({variant}): dtype {tensor.dtype} vs {value.dtype}")
        if tensor.shape.is_fully_defined():
            assert tensor.shape == value.shape, (
                f"{opdef.name} ({variant}): inferred {tensor.shape}, got {value.shape}")
        assert tensor.shape.is_compatible_with(value.shape), (
            f"{opdef.name} ({variant}): inferred {tensor.shape}, got {value.shape}")


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_inferred_shape_and_dtype_equal_output(opdef, sample):
    graph, outputs, feeds = build(opdef, sample)
    _check_outputs(opdef, outputs, run(graph, outputs, feeds), "static shapes")


def _variants(sample):
    """(description, declare) pairs: every dim None; every input of unknown rank; one
    input of unknown rank; one dim of one input None."""
    shapes = array_shapes(sample)
    yield "every dim None", True, False
    yield "every input of unknown rank", (lambda k, array: None), True
    for index, shape in enumerate(shapes):
        yield f"input {index} of unknown rank", (
            lambda k, array, index=index: None if k == index else array.shape), True
        for dim in range(len(shape)):
            yield f"dim {dim} of input {index} None", (
                lambda k, array, index=index, dim=dim: tuple(
                    None if (k, d) == (index, dim) else n for d, n in enumerate(array.shape))), \
                False


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_inference_with_unknown_shapes_is_compatible(opdef, sample):
    """Placeholders of unknown rank or with None dims: inference must stay compatible with
    the output (a keepdims reduction of an unknown-rank input must not claim rank 0). An op
    that needs a rank may refuse an unknown one at build time, naming itself and the rank."""
    for variant, declare, rank_unknown in _variants(sample):
        try:
            graph, outputs, feeds = build(opdef, sample, unknown_dims=declare)
        except ValueError as err:
            if rank_unknown and opdef.name in str(err) and "rank" in str(err):
                continue
            raise
        _check_outputs(opdef, outputs, run(graph, outputs, feeds), variant)
