"""Every op's bad inputs fail at build time with a message naming op, shapes and dtypes,
and leave the graph exactly as it was."""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.shapes import format_shape
from tests.registry_cases import error_cases, is_array, symbolic_args, symbolic_kwargs

CASES, IDS = error_cases()


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_error_names_op_shapes_dtypes_and_changes_nothing(opdef, sample):
    graph = gc.Graph()
    with graph.as_default():
        args = symbolic_args(sample.args, {}, unknown_dims=False)
        kwargs = symbolic_kwargs(sample.kwargs, {}, unknown_dims=False)
        before = [op.name for op in graph.get_operations()]
        with pytest.raises(sample.error, match=sample.match) as info:
            registry.api_for(opdef.name)(*args, **kwargs)
        assert [op.name for op in graph.get_operations()] == before
        assert all(not t.consumers() for op in graph.get_operations() for t in op.outputs)
    message = str(info.value)
    assert opdef.name in message, message
    arrays = [np.asarray(a) for a in list(sample.args) + list(sample.kwargs.values())
              if is_array(a)]
    if arrays:
        first = arrays[0]
        assert format_shape(first.shape) in message, message
        assert gc.as_dtype(first.dtype).name in message, message


def test_every_op_family_has_error_cases():
    """Ops taking tensor inputs should declare at least one error sample."""
    missing = [op.name for op in registry.all_ops()
               if op.samples and op.error_samples is None]
    allowed = {"const", "identity", "stop_gradient", "shape", "size", "rank", "where_indices",
               "zeros_like", "ones_like", "unstack", "cast", "l2_loss", "range",
               "strided_slice_grad", "mirror_pad_grad"}
    assert set(missing) <= allowed, sorted(set(missing) - allowed)
