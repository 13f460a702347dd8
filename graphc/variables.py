"""TF1-style ``Variable`` objects, collections and initializers.

A Variable ``W`` is three ops, named as in TF1: ``W`` (the handle), ``W/Assign`` (its
initializer) and ``W/read`` (the snapshot that ops use when given ``W``). Its value lives in
each Session; reading it before initialization raises FailedPreconditionError.
"""
from __future__ import annotations

from typing import Optional

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of, reads_variables_here, variable_graph
from graphc.default_session import session_for
from graphc.graph import Graph, Tensor, get_default_graph
from graphc.ops.control import group, no_op
from graphc.ops.select import cast

__all__ = ["Variable", "GraphKeys", "global_variables", "trainable_variables",
           "global_variables_initializer", "variables_initializer", "initialize_all_variables",
           "assign", "assign_add", "assign_sub", "local_variables", "model_variables",
           "moving_average_variables", "local_variables_initializer", "get_collection",
           "get_collection_ref", "add_to_collection", "add_to_collections",
           "is_variable_initialized"]


class GraphKeys:
    """Standard collection names, with TF1's values (``tf.GraphKeys``).

    Example:
        >>> gc.get_collection(gc.GraphKeys.REGULARIZATION_LOSSES)
    """

    GLOBAL_VARIABLES = "variables"
    VARIABLES = GLOBAL_VARIABLES  # TF1's deprecated spelling
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    CONCATENATED_VARIABLES = "concatenated_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    SUMMARIES = "summaries"
    SUMMARY_OP = "summary_op"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    SAVERS = "savers"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"


class Variable:
    """A mutable tensor whose value persists across ``session.run`` calls.

    Example:
        >>> W = gc.Variable(np.zeros((784, 10), np.float32), name="W")
        >>> y = gc.matmul(x, W)          # uses W/read
        >>> with gc.Session() as sess:
        ...     sess.run(W.initializer)
        ...     sess.run(W.assign_add(np.ones((784, 10), np.float32)))
    """

    def __init__(self, initial_value=None, trainable=True, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        if variable_def is not None:
            self._init_from_def(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("Variable: initial_value must be specified")
        graph, lifted = variable_graph(initial_value)  # out of loop bodies and branches
        if _tracing_function():  # a gc.function's variables are eager ones, as TF2 lifts them
            initial_value, graph = graph.lifted_value(initial_value), graph.outer_graph
        with graph.as_default(), lifted, graph.atomic(), graph.control_dependencies(None), \
                graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):  # built inside the variable's scope, as in TF1
                with graph.name_scope("Initializer"):
                    initial_value = initial_value()
            value = convert_to_tensor(initial_value, dtype=None, name="initial_value",
                                      dtype_hint=dtype)
            if dtype is not None and value.dtype is not gdt.as_dtype(dtype):
                value = cast(value, dtype)
            var_shape = value.shape if shape is None else value.shape.merge_with(shape)
            if validate_shape and not var_shape.is_fully_defined():
                raise ValueError(f"Variable '{scope[:-1]}': initial value {value.name!r} has "
                                 f"shape {var_shape}, which is not fully defined; pass "
                                 "validate_shape=False or give a fully defined value")
            self._handle = graph.create_op("variable", [], {"shape": var_shape,
                                                            "dtype": value.dtype},
                                           name=scope).outputs[0]
            gdt.remember_string(self._handle.op, dtype)
            self._initial_value = value
            self._initializer_op = graph.create_op(
                "assign", [self._handle, value], {"validate_shape": bool(validate_shape)},
                name="Assign")
            self._snapshot = graph.create_op("read_variable", [self._handle], {},
                                             name="read").outputs[0]
        self._trainable = bool(trainable)
        graph._variable_reads[self._handle.op] = self
        keys = list(collections) if collections is not None else [GraphKeys.GLOBAL_VARIABLES]
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in keys:
            keys.append(GraphKeys.TRAINABLE_VARIABLES)
        for key in keys:
            graph.add_to_collection(key, self)

    def _init_from_def(self, variable_def: dict, import_scope) -> None:
        """Wrap the ops of a variable that an imported graph already holds (TF1's
        ``Variable(variable_def=..., import_scope=...)``; graphc/saving/meta_graph.py)."""
        graph = get_default_graph()
        prefix = f"{import_scope}/" if import_scope else ""
        self._handle = graph.get_tensor_by_name(prefix + variable_def["variable_name"])
        if self._handle.op.type != "variable":
            raise ValueError(f"variable_def names {self._handle.name!r}, a "
                             f"{self._handle.op.type} op, not a variable")
        self._initializer_op = graph.get_operation_by_name(
            prefix + variable_def["initializer_name"])
        self._snapshot = graph.get_tensor_by_name(prefix + variable_def["snapshot_name"])
        self._initial_value = graph.get_tensor_by_name(
            prefix + variable_def["initial_value_name"])
        self._trainable = bool(variable_def.get("trainable", True))
        graph._variable_reads[self._handle.op] = self

    # -- TF1 accessors --------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._handle.name

    @property
    def op(self):
        return self._handle.op

    @property
    def graph(self) -> Graph:
        return self._handle.graph

    @property
    def dtype(self):
        return self._handle.dtype

    @property
    def shape(self):
        return self._handle.shape

    get_shape = shape.fget  # TF1's method spelling

    @property
    def initializer(self):
        return self._initializer_op

    @property
    def initial_value(self) -> Tensor:
        return self._initial_value

    @property
    def trainable(self) -> bool:
        return self._trainable

    def value(self) -> Tensor:
        """The snapshot tensor ``W/read``, made with the variable (no control inputs).

        Example:
            >>> y = gc.matmul(x, W.value())
        """
        return self._snapshot

    def read_value(self) -> Tensor:
        """A new read of the variable, ordered after the current control dependencies.

        Example:
            >>> with gc.control_dependencies([counter.assign_add(1)]):
            ...     after = counter.read_value()    # 1, 2, 3 over three runs of ``after``
        """
        graph = get_default_graph() if reads_variables_here() else self.graph
        return graph.create_op("read_variable", [self._handle], {},
                               name=self.op.name + "/read_value").outputs[0]

    def _as_tensor(self) -> Tensor:
        """What an op given this Variable reads: the snapshot, or inside
        ``control_dependencies`` a new read carrying those control inputs, so that
        ``identity(counter)`` after ``assign_add(counter, 1)`` sees the update (as TF1's
        resource variables do; the snapshot was made before the block and ignores it)."""
        if self.graph.in_control_dependencies or reads_variables_here():
            return self.read_value()
        return self._snapshot

    def initialized_value(self) -> Tensor:
        """The value after running the initializer (for initializing other variables)."""
        with self.graph.control_dependencies([self._initializer_op]):
            return self.read_value()

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """An op storing ``value``; its output is the new value."""
        return assign(self, value, name=name)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """An op adding ``delta``; its output is the new value."""
        return assign_add(self, delta, name=name)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """An op subtracting ``delta``; its output is the new value."""
        return assign_sub(self, delta, name=name)

    def eval(self, session=None):
        return self._snapshot.eval(session=session)

    def load(self, value, session=None):
        """Store ``value`` in the variable without adding ops (TF1 ``Variable.load``)."""
        session_for(session, self._snapshot).load_variable(self, value)

    def _as_graph_element(self):
        return self._snapshot

    def __repr__(self) -> str:
        return (f"<gc.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>")

    __hash__ = object.__hash__


def _tracing_function() -> bool:  # a gc.function's graph reads and assigns variables itself
    return hasattr(get_default_graph(), "captured_handle")


def _handle_of(ref) -> Tensor:
    if isinstance(ref, Variable):
        return ref._handle
    if isinstance(ref, Tensor) and ref.op.type == "variable":
        return ref
    raise TypeError(f"Expected a Variable or variable handle to assign to, got {ref!r}")


def _update(op_type, ref, value, name, attrs=None):
    handle = _handle_of(ref)
    graph = get_default_graph() if reads_variables_here() else handle.graph
    with graph.as_default(), graph.atomic():
        value = convert_to_tensor(value, dtype_hint=handle.dtype)
        return graph.create_op(op_type, [handle, value], attrs or {},
                               name=name or op_type.title().replace("_", "")).outputs[0]


def assign(ref, value, validate_shape=None, use_locking=None, name=None) -> Tensor:
    """Store ``value`` in variable ``ref`` when run (TF1 ``tf.assign``).

    Example:
        >>> reset = gc.assign(W, gc.zeros_like(W))
    """
    return _update("assign", ref, value, name,
                   {"validate_shape": validate_shape is not False})


def assign_add(ref, value, use_locking=None, name=None) -> Tensor:
    """``ref += value`` when run (TF1 ``tf.assign_add``).

    Example:
        >>> step = gc.assign_add(counter, 1)
    """
    return _update("assign_add", ref, value, name)


def assign_sub(ref, value, use_locking=None, name=None) -> Tensor:
    """``ref -= value`` when run (TF1 ``tf.assign_sub``).

    Example:
        >>> update = gc.assign_sub(W, 0.1 * grad)
    """
    return _update("assign_sub", ref, value, name)


def global_variables(scope: Optional[str] = None) -> list:
    """Every Variable of the default graph (TF1 ``tf.global_variables``)."""
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope: Optional[str] = None) -> list:
    """The trainable Variables of the default graph."""
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def variables_initializer(var_list, name: str = "init"):
    """One op that runs the initializers of ``var_list``.

    Example:
        >>> sess.run(gc.variables_initializer([W, b]))
    """
    var_list = list(var_list)
    if not var_list:
        return no_op(name=name)
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer():
    """One op that initializes every global variable (TF1's ``init`` op).

    Example:
        >>> sess.run(gc.global_variables_initializer())
    """
    return variables_initializer(global_variables(), name="init")


initialize_all_variables = global_variables_initializer


# -- local and model variables, collections (TF1) -----------------------------------------
def local_variables(scope: Optional[str] = None) -> list:
    """Variables of the ``LOCAL_VARIABLES`` collection (per-session state such as metric
    counters, which ``global_variables`` and savers leave out).

    Example:
        >>> count = gc.Variable(0, collections=[gc.GraphKeys.LOCAL_VARIABLES], name="count")
        >>> gc.local_variables() == [count] and count not in gc.global_variables()
        True
    """
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: Optional[str] = None) -> list:
    """Variables of the ``MODEL_VARIABLES`` collection."""
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope: Optional[str] = None) -> list:
    """Variables of the ``MOVING_AVERAGE_VARIABLES`` collection."""
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def local_variables_initializer():
    """One op that initializes every local variable (named ``init`` or ``init_1``, as TF1).

    Example:
        >>> sess.run([gc.global_variables_initializer(), gc.local_variables_initializer()])
    """
    return variables_initializer(local_variables())


initialize_local_variables = local_variables_initializer
all_variables = global_variables


def get_collection(key, scope: Optional[str] = None) -> list:
    """A copy of collection ``key`` of the default graph; ``scope`` keeps the items whose
    name the regular expression matches from the start (TF1 ``tf.get_collection``).

    Example:
        >>> gc.get_collection(gc.GraphKeys.TRAINABLE_VARIABLES, scope="layer1/")
    """
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key) -> list:
    """The list of collection ``key`` itself (created empty), to edit in place.

    Example:
        >>> gc.get_collection_ref(gc.GraphKeys.UPDATE_OPS).clear()
    """
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name, value) -> None:
    """Append ``value`` to collection ``name`` of the default graph.

    Example:
        >>> gc.add_to_collection(gc.GraphKeys.LOSSES, loss)
    """
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value) -> None:
    """Append ``value`` to each collection of ``names`` (a string names one collection).

    Example:
        >>> gc.add_to_collections([gc.GraphKeys.WEIGHTS, "my_weights"], W)
    """
    get_default_graph().add_to_collections(names, value)


def is_variable_initialized(variable) -> Tensor:
    """A bool scalar: whether ``variable`` has a value in the running session.

    Example:
        >>> sess.run(gc.is_variable_initialized(W))    # False before its initializer ran
    """
    handle = _handle_of(variable)
    return handle.graph.create_op("is_variable_initialized", [handle], {},
                                  name="IsVariableInitialized").outputs[0]
