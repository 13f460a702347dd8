"""``Layer``: a module that owns its variables and child layers and builds its graph in its
own scope.

A layer's first call captures a variable scope, as TF1's ``tf.layers`` do: named after the
layer (``dense``, or ``dense_1`` when that is taken) inside the variable scope current at
that call, so a layer called inside another layer's ``call`` nests under it and the graph's
name scopes mirror the layer tree (``inception_block/branch_3x3/conv2d/Conv2D``). Every
call re-enters that scope and its original name scope: the variables (created once, by
``build``) are shared, and the ops of every call sit in the layer's cluster.

Child layers are the Layer values (and lists or tuples of them) among a layer's attributes,
in the order they were set. When the outermost call returns, the tree of layers it built is
written to the graph's ``layer_tree`` collection as plain dicts (path, name scope, type,
output shape, parameter counts, variable names), which pictures and serializers read
without importing this package.

Example:
    >>> class TwoDense(gc.layers.Layer):
    ...     def __init__(self, name=None):
    ...         super().__init__(name=name)
    ...         self.hidden = gc.layers.Dense(32, activation="relu")
    ...         self.out = gc.layers.Dense(10)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> net = TwoDense()
    >>> logits = net(x)                  # variables two_dense/dense/kernel, .../dense_1/...
    >>> logits_b = net(x_b)              # the same variables
"""
from __future__ import annotations

import contextlib
import functools
import re
import threading

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import get_default_graph
from graphc.layers.introspection import (LAYER_TREE, layer_records, record_tree,  # noqa: F401
                                         summary_table, variable_size)
from graphc.layers.switch import learning_phase, training_switch  # noqa: F401
from graphc.ops.control import placeholder
from graphc.variable_scope import get_variable, variable_scope
from graphc.variables import GraphKeys, Variable

__all__ = ["Layer", "LAYER_TREE", "learning_phase", "training_switch", "layer_records"]



class _CallStack(threading.local):
    def __init__(self):
        self.layers: list = []  # the layers whose call is running, outermost first
        self.fresh: list = []  # layers first called inside the outermost running call


_CALLS = _CallStack()


def _snake(name: str) -> str:
    """``Conv2D`` -> ``conv2d``, ``BatchNormalization`` -> ``batch_normalization`` (TF1)."""
    words = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)  # TF's to_snake_case
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()


@contextlib.contextmanager
def _all_or_nothing(graph):
    """A call that raises leaves the graph's ops, collections, variable store and scope name
    counts as they were (``graph.atomic`` undoes the ops and op names; the rest, which the
    variable scope machinery keeps in private collections, is restored here)."""
    lengths = {key: len(graph.get_collection_ref(key)) for key in
               graph.get_all_collection_keys()}
    stores = graph.get_collection("__variable_store")
    known = [dict(store._variables) for store in stores]  # the store has no public undo
    states = graph.get_collection("__varscope")
    counts = [dict(state.counts) for state in states]
    try:
        with graph.atomic():
            yield
    except BaseException:
        for key in graph.get_all_collection_keys():
            del graph.get_collection_ref(key)[lengths.get(key, 0):]
        for store, names in zip(stores, known):
            store._variables = names
        for state, count in zip(states, counts):
            state.counts = count
        raise


def _inside_own_call(layer) -> bool:
    return bool(_CALLS.layers) and _CALLS.layers[-1] is layer


def _outside_call_builds_a_model(build):
    """A subclass's ``build``: its own body inside the layer's call, ``as_model`` outside."""
    @functools.wraps(build)
    def wrapped(self, input_shape):
        if not _inside_own_call(self):
            return self.as_model(input_shape)
        return build(self, input_shape)
    return wrapped


class Layer:
    """Base class of layers: subclasses create variables in ``build(input_shape)`` with
    ``add_weight`` and compute in ``call(inputs, ...)``.

    Args:
        trainable: whether the layer's variables go into ``TRAINABLE_VARIABLES``.
        name: the name of its variable scope (made unique: ``fc``, ``fc_1``...); default
            the class name in snake case.
        dtype: the dtype of its variables (default float32).

    Example:
        >>> layer = gc.layers.Dense(10, name="logits")
        >>> y = layer(x)
        >>> [v.name for v in layer.variables]
        ['logits/kernel:0', 'logits/bias:0']
    """

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        scope, reuse = kwargs.pop("_scope", None), kwargs.pop("_reuse", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string "
                             f"without '/', got {name!r}")
        self.trainable = bool(trainable)
        self.dtype = gdt.as_dtype(dtype or gdt.float32)
        self.built = False
        self._base_name = name or _snake(type(self).__name__)
        self._scope_name_given, self._reuse = scope, reuse
        self._scope = None
        self._graph = None
        self._own_variables: list = []
        self._updates: list = []
        self._output_shape = self._input_spec = None
        self._calls = 0

    # -- the Keras protocol --------------------------------------------------------------
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _outside_call_builds_a_model(cls.__dict__["build"])

    def build(self, input_shape):
        """Create the layer's variables for inputs of ``input_shape`` (runs once, inside
        the layer's scope, at its first call). Layers with children build nothing here:
        their children build when ``call`` calls them.

        Called by the user (outside a call), as Keras' ``model.build(input_shape)`` in graph
        mode, it builds the layer on a new placeholder and returns ``as_model``'s
        ``(placeholder, output)``: any block becomes a runnable model of its own.
        """
        if not _inside_own_call(self):
            return self.as_model(input_shape)
        return None

    def call(self, inputs, *args, **kwargs):
        """The layer's computation on ``inputs``."""
        raise NotImplementedError(f"{type(self).__name__} defines no call()")

    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None) -> Variable:
        """A variable ``<layer scope>/<name>`` made with ``gc.get_variable``; only inside
        ``build``. Example: ``self.kernel = self.add_weight("kernel", [n_in, n_out])``."""
        if not _inside_own_call(self):
            raise RuntimeError(f"{type(self).__name__}.add_weight({name!r}): variables are "
                               "made in build(), which the layer's first call runs")
        variable = get_variable(name, shape=shape, dtype=dtype or self.dtype,
                                initializer=initializer, regularizer=regularizer,
                                trainable=bool(trainable and self.trainable),
                                constraint=constraint)
        self._own_variables.append(variable)
        return variable

    add_variable = add_weight  # TF1's name

    def add_update(self, update) -> None:
        """Register ``update`` (an op or tensor, e.g. a moving-average assignment) in the
        layer's ``updates`` and the graph's ``UPDATE_OPS`` collection (TF1)."""
        self._updates.append(update)
        graph_of(update).add_to_collection(GraphKeys.UPDATE_OPS, update)

    def __call__(self, inputs, *args, **kwargs):
        inputs = _as_tensors(inputs)
        graph = graph_of(inputs)
        if self._graph is not None and graph is not self._graph:
            raise ValueError(f"{type(self).__name__} '{self.name}' was built in another graph; "
                             f"its variables cannot be used with '{_first(inputs).name}'")
        outermost = not _CALLS.layers
        try:
            with graph.as_default(), _all_or_nothing(graph):
                outputs = self._call_in_scope(graph, inputs, args, kwargs)
        except BaseException:
            if outermost:  # the graph was rolled back: so are the layers first built here
                for layer in _CALLS.fresh:
                    layer._forget_build()
            raise
        finally:
            if outermost:
                _CALLS.fresh = []
        self._calls += 1
        if self._output_shape is None:
            self._output_shape = _shapes(outputs)
            self._input_spec = (_shapes(inputs), _dtypes(inputs))
        if outermost:
            record_tree(graph, self)
        return outputs

    def _call_in_scope(self, graph, inputs, args, kwargs):
        if self._scope is None:
            self._scope, self._graph = self._capture_scope(), graph
            _CALLS.fresh.append(self)
        with variable_scope(self._scope, reuse=self._reuse, auxiliary_name_scope=False), \
                graph.name_scope(self._scope.original_name_scope):
            _CALLS.layers.append(self)
            try:
                if not self.built:
                    self.build(_shapes(inputs))
                    self.built = True
                return self.call(inputs, *args, **kwargs)
            finally:
                _CALLS.layers.pop()

    def _forget_build(self) -> None:
        self._scope = self._graph = self._output_shape = self._input_spec = None
        self.built, self._own_variables, self._updates, self._calls = False, [], [], 0

    apply = __call__  # TF1's ``layer.apply(inputs)``

    def _capture_scope(self):
        """TF1's ``_set_scope``: the layer's variable scope, opened once to take its name."""
        given = self._scope_name_given
        if self._reuse:
            opened = variable_scope(given or self._base_name, reuse=self._reuse)
        else:
            opened = variable_scope(given, default_name=self._base_name)
        with opened as scope:
            return scope

    # -- introspection -------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The last part of the layer's scope name once called, else the name asked for."""
        return self._scope.name.split("/")[-1] if self._scope is not None else self._base_name

    @property
    def scope_name(self):
        """The full variable scope name (``model/dense``), None before the first call."""
        return None if self._scope is None else self._scope.name

    @property
    def name_scope(self):
        """The name scope of the layer's ops (``model/dense``), None before the first call."""
        return None if self._scope is None else self._scope.original_name_scope.rstrip("/")

    @property
    def output_shape(self):
        """The static shape of the first call's output (a list for several; None before)."""
        return self._output_shape

    @property
    def layers(self) -> list:
        """The child layers: Layer attributes and lists of them, in the order they were set."""
        found: list = []
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            found += [item for item in items if isinstance(item, Layer) and item not in found]
        return found

    def named_layers(self, prefix=None):
        """``(path, layer)`` for this layer and every descendant, parents first; paths join
        the layers' names (``inception_block/branch_3x3/conv2d``), which are their scope
        names when the outermost layer was called at the top scope."""
        path = self.name if prefix is None else prefix
        yield path, self
        for child in self.layers:
            yield from child.named_layers(f"{path}/{child.name}")

    @property
    def own_variables(self) -> list:
        """The variables this layer made itself (not its children's)."""
        return list(self._own_variables)

    @property
    def variables(self) -> list:
        """Every variable of the layer and its children, own ones first."""
        found = list(self._own_variables)
        for child in self.layers:
            found += [v for v in child.variables if v not in found]
        return found

    weights = variables

    @property
    def trainable_variables(self) -> list:
        return [v for v in self.variables if v.trainable] if self.trainable else []

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list:
        trainable = self.trainable_variables
        return [v for v in self.variables if v not in trainable]

    non_trainable_weights = non_trainable_variables

    @property
    def updates(self) -> list:
        """Update ops of this layer and its children (BatchNormalization's moving averages)."""
        found = list(self._updates)
        for child in self.layers:
            found += [u for u in child.updates if u not in found]
        return found

    @property
    def losses(self) -> list:
        """The regularization penalties of the layer and its children (its variables'
        regularizers and activity regularizers: ``REGULARIZATION_LOSSES`` in its scope)."""
        if self._graph is None:
            return []
        return self._graph.get_collection(GraphKeys.REGULARIZATION_LOSSES,
                                          scope=re.escape(self.name_scope + "/"))

    def count_params(self) -> int:
        """The number of scalars in the layer's variables."""
        return sum(variable_size(v) for v in self.variables)

    def summary(self, print_fn=print) -> str:
        """Print and return the table of the layer tree: path, type, output shape, parameters.

        Example:
            >>> model.summary()
        """
        text = summary_table(layer_records(self))
        if print_fn is not None:
            print_fn(text)
        return text

    @property
    def input_shape(self):
        """The static shape of the first call's inputs (a list for several; None before)."""
        return None if self._input_spec is None else self._input_spec[0]

    def as_model(self, input_shape=None, dtype=None, name="inputs"):
        """This layer alone as a runnable model: ``(placeholders, output)`` of a call on new
        placeholders of ``input_shape`` (default: the first call's shape and dtype; a list
        of shapes for layers taking a list), in the layer's graph once built, sharing its
        variables, else in the default graph.

        Example:
            >>> x, y = model.layers[1].as_model([None, 8, 8, 16])
            >>> sess.run(y, {x: batch})
        """
        known_shape, known_dtype = self._input_spec or (None, None)
        shape = known_shape if input_shape is None else input_shape
        if shape is None:
            raise ValueError(f"{type(self).__name__} '{self.name}'.as_model: give input_shape "
                             "(the layer has not been called yet)")
        several = isinstance(shape, list) and shape and not isinstance(shape[0], (int, type(None)))
        shapes = list(shape) if several else [shape]
        dtypes = known_dtype if isinstance(known_dtype, list) else [known_dtype] * len(shapes)
        graph = self._graph or get_default_graph()
        with graph.as_default(), graph.name_scope(None):
            inputs = [placeholder(dtype or given or self.dtype, shape=s, name=name)
                      for s, given in zip(shapes, dtypes)]
        inputs = inputs if several else inputs[0]
        return inputs, self(inputs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self.name}'>"


def _as_tensors(inputs):
    if isinstance(inputs, (list, tuple)):
        return [convert_to_tensor(item) for item in inputs]
    return convert_to_tensor(inputs)


def _first(inputs):
    return inputs[0] if isinstance(inputs, list) else inputs


def _dtypes(values):
    if isinstance(values, (list, tuple)):
        return [value.dtype for value in values]
    return values.dtype


def _shapes(values):
    if isinstance(values, (list, tuple)):
        return [value.shape for value in values]
    return values.shape
