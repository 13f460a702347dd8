"""The verifier rejects each kind of malformed graph a broken pass could produce (the graph
API refuses to build them, so each is made by editing a built graph the way a pass could)."""
import pytest

import graphc as gc
from graphc.passes.result import Interface
from graphc.passes.verify import VerificationError, verify


@pytest.fixture
def chain():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (3,), name="x")
        a = gc.exp(x, name="a")
        b = gc.negative(a, name="b")
    return g, x, a, b, Interface((b,), (), (x,))


def test_a_well_formed_graph_passes(chain):
    g, x, a, b, interface = chain
    verify(g, interface, after="nothing")


def test_a_cycle_is_rejected(chain):
    """b reads a, and a pass made a run after b: a cycle through a control edge."""
    g, x, a, b, interface = chain
    a.op._control_inputs = (b.op,)
    g._creation_order_is_topological = False
    with pytest.raises(VerificationError, match="after dce: the graph has a cycle"):
        verify(g, interface, after="dce")


def test_reading_a_tensor_of_another_graph_is_rejected(chain):
    """A pass that forgot to map an input through its old-to-new table."""
    g, x, a, b, interface = chain
    other = gc.Graph()
    with other.as_default():
        stray = gc.placeholder(gc.float64, (3,), name="stray")
    b.op._inputs = (stray,)
    with pytest.raises(VerificationError, match="after cse: op 'b' reads 'stray:0', which is "
                       "not in the graph"):
        verify(g, interface, after="cse")


def test_interface_outside_the_graph_and_fed_non_placeholders_are_rejected(chain):
    g, x, a, b, interface = chain
    other = gc.Graph()
    with other.as_default():
        stray = gc.constant(1.0, name="stray")
    with pytest.raises(VerificationError, match="interface tensor 'stray:0' is not in"):
        verify(g, Interface((stray,), (), (x,)), after="cse")
    with pytest.raises(VerificationError, match="target 'stray' is not in the graph"):
        verify(g, Interface((b,), (stray.op,), (x,)), after="cse")
    with pytest.raises(VerificationError, match="'a:0'"):
        verify(g, Interface((b,), (), (a,)), after="prune")
