"""gc.errors: TF1's OpError family (names, codes, constructor, attributes), and graphc's own
run-time errors are those classes."""
import pickle

import numpy as np
import pytest

import graphc as gc

ERRORS = {
    "CancelledError": 1, "UnknownError": 2, "InvalidArgumentError": 3,
    "DeadlineExceededError": 4, "NotFoundError": 5, "AlreadyExistsError": 6,
    "PermissionDeniedError": 7, "ResourceExhaustedError": 8, "FailedPreconditionError": 9,
    "AbortedError": 10, "OutOfRangeError": 11, "UnimplementedError": 12, "InternalError": 13,
    "UnavailableError": 14, "DataLossError": 15, "UnauthenticatedError": 16,
}


@pytest.mark.parametrize("name, code", sorted(ERRORS.items()))
def test_each_error_class_has_tfs_constructor_and_code(name, code):
    cls = getattr(gc.errors, name)
    err = cls(None, None, "what happened")
    assert isinstance(err, gc.errors.OpError) and isinstance(err, Exception)
    assert (err.node_def, err.op, err.message, str(err)) == (None, None, "what happened",
                                                            "what happened")
    assert err.error_code == code
    constant = "".join("_" + c if c.isupper() else c for c in name[:-5]).strip("_").upper()
    assert getattr(gc.errors, constant) == code
    assert gc.errors.exception_type_from_error_code(code) is cls
    assert gc.errors.error_code_from_exception_type(cls) == code
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is cls and copy.message == "what happened" and copy.error_code == code


def test_op_error_takes_an_error_code():
    err = gc.errors.OpError(None, None, "custom", gc.errors.ABORTED)
    assert err.error_code == gc.errors.ABORTED and gc.errors.OK == 0
    with pytest.raises(KeyError):
        gc.errors.exception_type_from_error_code(99)


def test_catching_the_base_class_catches_every_error():
    for name in ERRORS:
        with pytest.raises(gc.errors.OpError):
            raise getattr(gc.errors, name)(None, None, name)


def test_graphcs_run_time_errors_are_these_classes(graph):
    v = gc.Variable(1.0, name="v")
    x = gc.placeholder(gc.float32, [2], name="x")
    with gc.Session() as sess:
        with pytest.raises(gc.errors.FailedPreconditionError) as uninitialized:
            sess.run(v)
        assert uninitialized.value.error_code == gc.errors.FAILED_PRECONDITION
        with pytest.raises(gc.errors.InvalidArgumentError) as unfed:
            sess.run(x * 2.0)
        assert unfed.value.error_code == gc.errors.INVALID_ARGUMENT
        assert unfed.value.op.name == "x"
        with pytest.raises(gc.errors.InvalidArgumentError, match="bad"):
            sess.run(gc.check_numerics(x, "bad"), {x: np.array([np.nan, 1.0])})
