"""Every op's kernel against its independent reference, on every registry sample."""
import numpy as np
import pytest

from graphc import registry
from tests.registry_cases import build, run, sample_cases

CASES, IDS = sample_cases()


def test_every_op_is_covered():
    """An op without samples must say where it is tested; samples need a reference and API."""
    for opdef in registry.all_ops():
        if opdef.samples is None:
            assert opdef.tested_elsewhere, f"op {opdef.name} has no samples and no tests named"
            continue
        assert opdef.reference is not None, f"op {opdef.name} has samples but no reference"
        assert registry.api_for(opdef.name), f"op {opdef.name} has no public function marked"


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_kernel_matches_reference(opdef, sample):
    graph, outputs, feeds = build(opdef, sample)
    actual = run(graph, outputs, feeds)
    expected = opdef.reference(*sample.args, **dict(sample.kwargs))
    expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
    assert len(actual) == len(expected), f"{opdef.name}: output count"
    for got, want in zip(actual, expected):
        got = np.asarray(got)
        want = np.asarray(want)
        assert got.shape == want.shape, f"{opdef.name}: shape {got.shape} != {want.shape}"
        if got.dtype == object:  # strings: equal bytes
            assert got.tolist() == want.tolist(), opdef.name
        elif got.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=opdef.name)
        else:
            atol = 1e-6 if got.dtype.itemsize <= 4 else 1e-10
            np.testing.assert_allclose(got, want.astype(np.float64), rtol=sample.rtol,
                                       atol=atol, err_msg=f"{opdef.name}\n{graph.as_text()}")
