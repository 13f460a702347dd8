"""What a monitored session needs to make a ready session (TF1's ``tf.train.Scaffold``,
``SessionManager`` logic and session creators).

``Scaffold.finalize`` fills in what was not given, as TF1 does: the INIT_OP collection's op
or ``global_variables_initializer()``; a ``ready_op`` listing the uninitialized variables;
``local_variables_initializer()``; ``summary.merge_all()``; the SAVERS collection's Saver
or a new one over every global variable; then it finalizes the graph. A session creator
restores the latest checkpoint of ``checkpoint_dir`` when there is one, and otherwise runs
the init op and ``init_fn``; then the local init op; then checks ``ready_op``.

Example:
    >>> scaffold = gc.train.Scaffold(init_fn=lambda scaffold, sess: warm_start(sess))
    >>> creator = gc.train.ChiefSessionCreator(scaffold=scaffold, checkpoint_dir="run")
    >>> with gc.train.MonitoredSession(session_creator=creator) as sess:
    ...     sess.run(train_op)
"""
from __future__ import annotations

from graphc import tf_logging as logging
from graphc.graph import get_default_graph
from graphc.monitored.saving_hooks import default_saver
from graphc.monitored.session_manager import SessionManager
from graphc.ops.control import group
from graphc.ops.creation import constant
from graphc.ops.elementwise import logical_not
from graphc.ops.array import stack
from graphc.ops.masking import boolean_mask
from graphc.saving import Saver
from graphc.summary import merge_all
from graphc.variables import (GraphKeys, global_variables, global_variables_initializer,
                              is_variable_initialized, local_variables,
                              local_variables_initializer)

__all__ = ["Scaffold", "ChiefSessionCreator", "WorkerSessionCreator", "SessionCreator",
           "report_uninitialized_variables"]


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor: the names of the variables of ``var_list`` (default: global and
    local) without a value in the running session (TF1).

    Example:
        >>> sess.run(gc.report_uninitialized_variables())
        array([b'W', b'b'], dtype=object)
    """
    if var_list is None:
        var_list = global_variables() + local_variables()
    graph = get_default_graph()
    with graph.name_scope(name):
        names = constant([v.op.name for v in var_list] or [""], name="names")
        if not var_list:  # TF1's value for nothing to check: an empty list of names
            return boolean_mask(names, constant([False]))
        initialized = stack([is_variable_initialized(v) for v in var_list])
        return boolean_mask(names, logical_not(initialized))


class Scaffold:
    """The ops and Saver a monitored session initializes, checks and saves with.

    Args:
        init_op: run when no checkpoint is restored (default: INIT_OP collection, else
            ``global_variables_initializer()``).
        init_fn: ``init_fn(scaffold, session)``, called after ``init_op``.
        ready_op: a tensor of uninitialized variable names; empty when ready.
        local_init_op: run after init or restore (default: local variables' initializer).
        summary_op: what ``SummarySaverHook`` writes (default: ``summary.merge_all()``).
        saver: the checkpoint Saver (default: the SAVERS collection's, else a new one).
        copy_from_scaffold: take the fields not given from this Scaffold.

    Example:
        >>> scaffold = gc.train.Scaffold(saver=gc.train.Saver(max_to_keep=2))
    """

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None,
                 saver=None, copy_from_scaffold=None, local_init_feed_dict=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")
            source = copy_from_scaffold
            init_op = init_op if init_op is not None else source.init_op
            init_feed_dict = init_feed_dict or source.init_feed_dict
            ready_op = ready_op if ready_op is not None else source.ready_op
            ready_for_local_init_op = ready_for_local_init_op if \
                ready_for_local_init_op is not None else source.ready_for_local_init_op
            local_init_op = local_init_op if local_init_op is not None else \
                source.local_init_op
            local_init_feed_dict = local_init_feed_dict or source.local_init_feed_dict
            summary_op = summary_op if summary_op is not None else source.summary_op
            saver = saver if saver is not None else source.saver
            self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else source._init_fn
        else:
            self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op, self._init_feed_dict = init_op, init_feed_dict
        self._ready_op, self._ready_for_local_init_op = ready_op, ready_for_local_init_op
        self._local_init_op, self._local_init_feed_dict = local_init_op, local_init_feed_dict
        self._summary_op, self._saver = summary_op, saver

    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    init_fn = property(lambda self: self._init_fn)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    local_init_feed_dict = property(lambda self: self._local_init_feed_dict)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)

    @staticmethod
    def get_or_default(arg_name, collection_key, default_constructor):
        """The one op of ``collection_key``, else ``default_constructor()`` (added to it)."""
        graph = get_default_graph()
        found = graph.get_collection(collection_key)
        if len(found) > 1:
            raise RuntimeError(f"More than one item in the collection {collection_key}. "
                               f"Please indicate which one to use by passing it to the "
                               f"tf.Scaffold constructor as: tf.Scaffold({arg_name}=item to "
                               "use)")
        op = found[0] if found else default_constructor()
        if op is not None and not found:
            graph.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        """Initializes the local variables (graphc has no lookup tables to add)."""
        return group(local_variables_initializer(), name="local_init")

    def finalize(self) -> "Scaffold":
        """Create the ops not given, then make the graph read-only."""
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default("init_op", GraphKeys.INIT_OP,
                                                    global_variables_initializer)
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default("ready_op", GraphKeys.READY_OP,
                                                     report_uninitialized_variables)
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", GraphKeys.READY_FOR_LOCAL_INIT_OP,
                lambda: report_uninitialized_variables(global_variables()))
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default(
                "local_init_op", GraphKeys.LOCAL_INIT_OP, Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", GraphKeys.SUMMARY_OP,
                                                       merge_all)
        if self._saver is None:
            self._saver = default_saver()
            if self._saver is None:
                self._saver = Saver(sharded=True, allow_empty=True)
                get_default_graph().add_to_collection(GraphKeys.SAVERS, self._saver)
        get_default_graph().finalize()
        logging.info("Graph was finalized.")
        return self


def _session_manager(scaffold) -> SessionManager:
    return SessionManager(local_init_op=scaffold.local_init_op, ready_op=scaffold.ready_op,
                          ready_for_local_init_op=scaffold.ready_for_local_init_op,
                          local_init_feed_dict=scaffold.local_init_feed_dict)


class SessionCreator:
    """Makes a session for a ``MonitoredSession``."""

    def create_session(self):
        raise NotImplementedError("SessionCreator subclasses define create_session")


class ChiefSessionCreator(SessionCreator):
    """Creates a session that restores ``checkpoint_dir``'s latest checkpoint (or
    ``checkpoint_filename_with_path``), else initializes; then runs the local init op and
    checks the ready op.

    Raises (from ``create_session``):
        RuntimeError: nothing to initialize with, or the model is still not ready.

    Example:
        >>> creator = gc.train.ChiefSessionCreator(checkpoint_dir="run")
    """

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and "
                             "checkpoint_filename_with_path.")
        self._scaffold = scaffold or Scaffold()
        self._master, self._config = master, config
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_path = checkpoint_filename_with_path

    def create_session(self):
        scaffold = self._scaffold.finalize()
        return _session_manager(scaffold).prepare_session(
            self._master, init_op=scaffold.init_op, saver=scaffold.saver,
            checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_path, config=self._config,
            init_feed_dict=scaffold.init_feed_dict, init_fn=scaffold.init_fn)


class WorkerSessionCreator(SessionCreator):
    """Creates a session for a non-chief worker: it runs only the local init op and waits up
    to ``max_wait_secs`` for the model to be ready (TF1's workers wait for their chief).

    Example:
        >>> creator = gc.train.WorkerSessionCreator(max_wait_secs=60)
    """

    def __init__(self, scaffold=None, master="", config=None, max_wait_secs=30 * 60):
        self._scaffold = scaffold or Scaffold()
        self._master, self._config, self._max_wait_secs = master, config, max_wait_secs

    def create_session(self):
        scaffold = self._scaffold.finalize()
        return _session_manager(scaffold).wait_for_session(
            self._master, config=self._config, max_wait_secs=self._max_wait_secs)
