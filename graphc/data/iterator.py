"""``gc.data.Iterator``: TF1's iterators over datasets, as graph ops on Session state.

An iterator is a name in its graph; its position lives in each Session (two Sessions
iterate independently). ``get_next()`` adds one ``iterator_get_next`` op whose outputs are
the element's components: it advances once per ``session.run`` that needs it, however many
fetches or ops use its outputs, and raises ``gc.errors.OutOfRangeError`` at the end. A run
that raises changes no variable (its writes are staged), but the iterator stays at its end,
as in TF1, until it is initialized again.
"""
from __future__ import annotations

from graphc.graph import Graph, Tensor, get_default_graph
from graphc.static_values import constant_value

from .structure import assert_same_structure, flatten, map_structure, pack_as, specs_of

__all__ = ["Iterator", "make_one_shot_iterator", "make_initializable_iterator",
           "get_output_types", "get_output_shapes", "get_output_classes"]


_NO_STRING_HANDLES = ("{}: graphc has no string tensors, so iterators have no string handles; "
                      "use Iterator.from_structure and make_initializer(dataset) to switch "
                      "between datasets")


class OneShot:
    """The dataset a one-shot iterator starts on its first ``get_next`` (the values of its
    captured constants included); an attribute of its ``get_next`` ops."""

    __slots__ = ("stage", "values")

    def __init__(self, stage, values: tuple):
        self.stage, self.values = stage, values

    def __iter__(self):
        return iter((self.stage, self.values))

    def __repr__(self) -> str:
        return f"<one-shot {self.stage.kind}>"


class Iterator:
    """Iterates over a dataset in each Session (TF1 ``tf.data.Iterator``).

    Example:
        >>> iterator = gc.data.Iterator.from_structure(train.output_types,
        ...                                            train.output_shapes)
        >>> x, y = iterator.get_next()
        >>> train_init = iterator.make_initializer(train)
        >>> test_init = iterator.make_initializer(test)
        >>> sess.run(train_init)        # x, y now come from train
    """

    def __init__(self, graph: Graph, name: str, structure, one_shot=None):
        self._graph = graph
        self._name = name
        self._structure = structure
        self._one_shot = one_shot
        self._initializer = None

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None,
                       output_classes=None) -> "Iterator":
        """An iterator for any dataset of this structure, initialized with
        ``make_initializer(dataset)`` (switching datasets re-initializes it).
        ``shared_name`` names the iterator; its state stays per Session."""
        graph = get_default_graph()
        return Iterator(graph, graph.unique_name(shared_name or "Iterator"),
                        specs_of(output_types, output_shapes))

    @staticmethod
    def from_string_handle(string_handle, output_types, output_shapes=None,
                           output_classes=None):
        raise NotImplementedError(_NO_STRING_HANDLES.format("Iterator.from_string_handle"))

    def string_handle(self, name=None):
        raise NotImplementedError(_NO_STRING_HANDLES.format("Iterator.string_handle"))

    @staticmethod
    def _initializable(dataset, shared_name=None) -> "Iterator":
        stage = dataset._stage
        graph = _graph_of(stage)
        iterator = Iterator(graph, graph.unique_name(shared_name or "Iterator"),
                            stage.structure)
        iterator._initializer = iterator.make_initializer(dataset)
        return iterator

    @staticmethod
    def _one_shot(dataset) -> "Iterator":
        stage = dataset._stage
        values = []
        for tensor in stage._captures():
            value = constant_value(tensor)
            if value is None:
                raise ValueError(
                    f"make_one_shot_iterator: the dataset uses {tensor.name!r} "
                    f"({tensor.op.type}), which is not a constant; it cannot be captured "
                    "by value. Use make_initializable_iterator() and run its initializer "
                    "(with the feeds it needs)")
            values.append(value)
        graph = _graph_of(stage)
        return Iterator(graph, graph.unique_name("OneShotIterator"), stage.structure,
                        OneShot(stage, tuple(values)))

    # -- ops --------------------------------------------------------------------------------
    def make_initializer(self, dataset, name=None):
        """An op that (re)starts this iterator on ``dataset``, which must have the
        iterator's structure and types and compatible shapes.

        Example:
            >>> sess.run(iterator.make_initializer(ds), feed_dict={data: array})
        """
        stage = getattr(dataset, "_stage", None)
        if stage is None:
            raise TypeError(f"make_initializer expects a Dataset, got {dataset!r}")
        try:
            assert_same_structure(self._structure, stage.structure, "structures")
        except ValueError as err:
            raise TypeError(f"Expected output structure {self.output_types} but got dataset "
                            f"with structure {_types(stage.structure)}: {err}") from None
        mine, theirs = flatten(self._structure), stage.specs
        if any(a.dtype is not b.dtype for a, b in zip(mine, theirs)):
            raise TypeError(f"Expected output types {self.output_types} but got dataset with "
                            f"output types {_types(stage.structure)}.")
        if not all(a.shape.is_compatible_with(b.shape) for a, b in zip(mine, theirs)):
            raise TypeError(f"Expected output shapes compatible with {self.output_shapes} "
                            "but got dataset with output shapes "
                            f"{map_structure(lambda s: s.shape, stage.structure)}.")
        foreign = [t.name for t in stage._captures() if t.graph is not self._graph]
        if foreign:
            raise ValueError(f"make_initializer: the dataset uses tensors {foreign} of another"
                             f" graph than iterator {self._name!r}'s")
        with self._graph.as_default():
            return self._graph.create_op(
                "make_iterator", list(stage._captures()),
                {"iterator": self._name, "dataset": stage}, name=name or "MakeIterator")

    def get_next(self, name=None):
        """The next element as tensors in the element's structure (one new op per call:
        each op advances the iterator once per run)."""
        specs = flatten(self._structure)
        op = self._graph.create_op(
            "iterator_get_next", [],
            {"iterator": self._name, "output_types": tuple(s.dtype for s in specs),
             "output_shapes": tuple(s.shape for s in specs), "one_shot": self._one_shot},
            name=name or "IteratorGetNext")
        return pack_as(self._structure, list(op.outputs))

    @property
    def initializer(self):
        """The op that initializes this iterator on its dataset
        (``make_initializable_iterator``)."""
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer: make it with "
                             "make_initializer(dataset)")
        return self._initializer

    # -- structure --------------------------------------------------------------------------
    @property
    def output_types(self):
        return map_structure(lambda spec: spec.dtype, self._structure)

    @property
    def output_shapes(self):
        return map_structure(lambda spec: spec.shape, self._structure)

    @property
    def output_classes(self):
        return map_structure(lambda spec: Tensor, self._structure)

    def __repr__(self) -> str:
        return f"<gc.data.Iterator {self._name!r} types: {self.output_types}>"


def _graph_of(stage) -> Graph:
    graphs = stage.graphs()
    if len(graphs) > 1:
        raise ValueError("The dataset uses tensors of several graphs")
    return graphs.pop() if graphs else get_default_graph()


def _types(structure):
    return map_structure(lambda spec: spec.dtype, structure)


def make_one_shot_iterator(dataset) -> Iterator:
    """``dataset.make_one_shot_iterator()`` (``tf.compat.v1.data.make_one_shot_iterator``)."""
    return Iterator._one_shot(dataset)


def make_initializable_iterator(dataset, shared_name=None) -> Iterator:
    """``dataset.make_initializable_iterator()`` (the ``tf.compat.v1.data`` function)."""
    return Iterator._initializable(dataset, shared_name)


def get_output_types(dataset_or_iterator):
    """The element dtypes of a Dataset or Iterator (``tf.compat.v1.data.get_output_types``)."""
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    """The element static shapes of a Dataset or Iterator."""
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator):
    """The element classes (``gc.Tensor``) of a Dataset or Iterator."""
    return dataset_or_iterator.output_classes
