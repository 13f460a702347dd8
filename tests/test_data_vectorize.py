"""Dataset functions on chunks of elements: which functions ``batched`` accepts (from the
registry's flags), and that chunked pipelines give exactly the per-element elements."""
import numpy as np
import pytest

import graphc as gc
from graphc.data.functions import TracedFunction
from graphc.data.structure import Spec
from graphc.data.vectorize import batched
from tests.data_helpers import elements

Dataset = gc.data.Dataset
ROW = Spec(gc.float32, [3])


def trace(fn, structure=ROW):
    return TracedFunction(fn, structure, "Dataset.map()")


@pytest.mark.parametrize("fn", [
    lambda x: x / 255.0,
    lambda x: gc.nn.relu(x * 2.0 - 1.0) + gc.constant([1.0, 2.0, 3.0]),
    lambda x: gc.cast(gc.greater(x, 0.5), gc.int32),
    lambda x: (x, gc.exp(-x)),
    lambda x: gc.where(x > 0.5, x, -x),
], ids=["divide", "relu_bias", "compare_cast", "tuple", "where"])
def test_elementwise_functions_run_on_chunks(graph, fn):
    function = trace(fn)
    on_chunks = batched(function)
    assert on_chunks is not None
    assert all(t.shape.as_list()[0] is None for t in on_chunks.inputs)
    data = np.random.default_rng(0).random((37, 3)).astype(np.float32)
    chunked = Dataset.from_tensor_slices(data).map(fn).batch(8)
    element_wise = Dataset.from_generator(lambda: iter(data), gc.float32, [3]).map(fn).batch(8)
    assert chunked._stage.inputs[0].chunked and not element_wise._stage.inputs[0].chunked
    assert elements(chunked) == elements(element_wise)


@pytest.mark.parametrize("fn, why", [
    (lambda x: gc.reshape(x, [3, 1]), "not elementwise"),
    (lambda x: gc.reduce_sum(x), "a reduction over the element"),
    (lambda x: x + gc.random_uniform([3]), "random: one draw per element"),
    (lambda x: x + gc.ones([2, 1]), "a constant of higher rank than the output"),
    (lambda x: (x, gc.constant(1.0)), "an output not depending on the element"),
], ids=["reshape", "reduce", "random", "rank", "constant_output"])
def test_other_functions_run_per_element(graph, fn, why):
    assert batched(trace(fn)) is None, why


def test_a_scalar_element_against_a_vector_constant_is_refused(graph):
    """x () + c (3,) gives (3,) per element; on a chunk x (n,) + c (3,) would misalign."""
    assert batched(trace(lambda x: x + gc.constant([1.0, 2.0, 3.0]), Spec(gc.float32, []))) \
        is None
    assert batched(trace(lambda x: x * 2.0, Spec(gc.float32, []))) is not None


def test_captured_tensors_stay_unbatched(graph):
    scale = gc.placeholder(gc.float32, [3], name="scale")
    function = trace(lambda x: x * scale)
    on_chunks = batched(function)
    assert on_chunks.captured == [scale]
    assert on_chunks.capture_placeholders[0].shape == (3,)
    ds = Dataset.from_tensor_slices(np.ones((5, 3), np.float32)).map(lambda x: x * scale)
    assert elements(ds.batch(2), {scale: [1.0, 2.0, 3.0]}) == [[[1, 2, 3]] * 2] * 2 + \
        [[[1, 2, 3]]]


def test_filter_on_chunks_keeps_the_order(graph):
    data = np.arange(50, dtype=np.int64)
    chunked = Dataset.from_tensor_slices(data).filter(lambda x: gc.equal(x % 7, 3)).batch(3)
    assert chunked._stage.inputs[0].chunked
    assert elements(chunked) == [[3, 10, 17], [24, 31, 38], [45]]
