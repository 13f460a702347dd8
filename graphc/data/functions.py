"""Dataset functions traced into graphs of their own, as TF1 traces ``map``/``filter``
functions into FunctionDefs.

The user's function is called once, with placeholders standing for one element's
components; the ops it builds go into a ``FunctionGraph``, never into the user's graph. A
tensor of an enclosing graph that the function uses is *captured*: the function graph gets a
placeholder for it, and its value is taken when the iterator is initialized (a fed
placeholder, a variable's value then). The runtime compiles the function graph once per
Session into a plan (optimized like any other) and runs it per element.
"""
from __future__ import annotations

from typing import Callable

from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import Graph, Tensor, get_default_graph
from graphc.nodes import _user_location
from graphc.ops.control import placeholder

from .structure import Spec, flatten, map_structure, pack_as

__all__ = ["FunctionGraph", "TracedFunction"]


class FunctionGraph(Graph):
    """The graph a dataset function is traced into; ``outer_graph`` is the graph around it.

    Example:
        >>> f = TracedFunction(lambda x: x * scale, Spec(gc.float32, []), "Dataset.map()")
        >>> f.captured          # [scale]: a tensor of the user's graph
    """

    def __init__(self, outer_graph: Graph):
        super().__init__()
        self.outer_graph = outer_graph
        self.seed = outer_graph.seed  # random ops in the function follow the graph seed
        self.captures: dict = {}  # tensor of an enclosing graph -> its placeholder here

    def create_op(self, op_type, inputs=(), attrs=None, name=None):
        if registry.get(op_type).updates_variable:
            raise ValueError(f"A dataset function cannot create or assign variables (op "
                             f"{op_type!r} at {_user_location()}); create them outside the "
                             "function and use their values")
        inputs = [self.capture(t) if isinstance(t, Tensor) and t.graph is not self else t
                  for t in inputs]
        return super().create_op(op_type, inputs, attrs, name)

    def capture(self, tensor: Tensor) -> Tensor:
        """The placeholder standing for ``tensor`` of an enclosing graph in this graph."""
        if tensor.graph is self:
            return tensor
        graph = self.outer_graph
        while graph is not None and graph is not tensor.graph:
            graph = getattr(graph, "outer_graph", None)
        if graph is None:
            raise ValueError(f"Tensor {tensor.name!r} used in a dataset function is from a "
                             "graph that does not enclose the function")
        stand_in = self.captures.get(tensor)
        if stand_in is None or self._by_name.get(stand_in.op.name) is not stand_in.op:
            with self.name_scope(None):  # a failed build may have rolled an earlier one back
                stand_in = super().create_op(
                    "placeholder", [], {"dtype": tensor.dtype, "shape": tensor.shape},
                    name="captured/" + tensor.op.name).outputs[0]
            self.captures[tensor] = stand_in
        return stand_in

    def live_captures(self) -> list:
        """``(outer tensor, placeholder)`` pairs of the captures the traced function kept."""
        return [(outer, inner) for outer, inner in self.captures.items()
                if self._by_name.get(inner.op.name) is inner.op]


class TracedFunction:
    """A Python function traced once on an element structure.

    Attributes:
        graph: the FunctionGraph; ``inputs`` its placeholders for the element's components
            (flat), ``outputs`` the flat result tensors, ``output_structure`` the result's
            nest of ``Spec``s (or, when ``returns_dataset``, the returned dataset's stage,
            and ``outputs`` the tensors it captured).
        captured / capture_placeholders: tensors of enclosing graphs and their stand-ins.
        name, location: the transformation and the user's line, for error messages.

    Example:
        >>> f = TracedFunction(lambda x, y: (x * 2, y), (spec_x, spec_y), "Dataset.map()")
        >>> f.output_structure        # (Spec(float32, (3,)), Spec(int64, ()))
    """

    def __init__(self, fn: Callable, input_structure, name: str, returns_dataset=False):
        if not callable(fn):
            raise TypeError(f"{name}: expected a callable, got {fn!r}")
        self.name = name
        self.location = _user_location()
        self.graph = FunctionGraph(get_default_graph())
        with self.graph.as_default():
            self.inputs = [placeholder(spec.dtype, spec.shape, name=f"args_{index}")
                           for index, spec in enumerate(flatten(input_structure))]
            args = pack_as(input_structure, self.inputs)
            # TF1: an element that is a tuple is passed as positional arguments
            result = fn(*args) if type(args) is tuple else fn(args)
            if returns_dataset:
                self.output_structure = self._returned_dataset(result)
                self.outputs = [self.graph.capture(t) for t in
                                self.output_structure._captures()]
            else:
                self.output_structure, self.outputs = self._returned_tensors(result)
        pairs = self.graph.live_captures()
        self.captured = [outer for outer, _ in pairs]
        self.capture_placeholders = [inner for _, inner in pairs]

    def _returned_dataset(self, result):
        """The pipeline stage of the returned Dataset."""
        if not hasattr(result, "_stage"):
            raise TypeError(f"{self.name}: the function must return a Dataset, got {result!r}"
                            f" (traced at {self.location})")
        return result._stage

    def _returned_tensors(self, result):
        if hasattr(result, "_stage"):
            raise TypeError(f"{self.name}: the function returned a Dataset; use flat_map or "
                            f"interleave for that (traced at {self.location})")
        if isinstance(result, list):  # TF1 converts a returned list to a tuple
            result = tuple(result)
        if result is None:
            raise TypeError(f"{self.name}: the function returned None (traced at "
                            f"{self.location}); it must return tensors")
        tensors = map_structure(lambda leaf: self.graph.capture(convert_to_tensor(leaf)),
                                result)
        return map_structure(lambda t: Spec(t.dtype, t.shape), tensors), flatten(tensors)
